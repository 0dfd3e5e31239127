//! Money: a decimal amount in one ISO currency. Never floating point.

use crate::error::{Error, Result};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency with its minor unit (EUR: 2 decimals, JPY: 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_units: u32,
}

/// Currencies whose minor unit is not 2 decimals.
const ODD_MINOR_UNITS: &[(&str, u32)] = &[
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("CLP", 0),
    ("VND", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("TND", 3),
];

impl Currency {
    /// Parses a three-letter ISO 4217 code such as `EUR`.
    pub fn parse(code: &str) -> Result<Self> {
        let up = code.trim().to_ascii_uppercase();
        let bytes = up.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(Error::invalid(format!(
                "'{code}' is not a currency: give a three-letter ISO 4217 code such as EUR, USD or CHF"
            )));
        }
        let minor_units = ODD_MINOR_UNITS
            .iter()
            .find(|(c, _)| *c == up)
            .map_or(2, |(_, m)| *m);
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            minor_units,
        })
    }
    pub fn code(&self) -> &str {
        // The code is three ASCII capitals by construction.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
    /// Rounds half-up (away from zero at the midpoint) to the minor unit.
    pub fn round(&self, amount: Decimal) -> Decimal {
        let mut r =
            amount.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(self.minor_units);
        r
    }
}

impl TryFrom<String> for Currency {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Currency::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in a currency, always rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// Builds money, refusing more decimals than the currency has.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(Error::invalid(format!(
                "{amount} has more decimals than {currency} allows ({}); give the amount in whole minor units",
                currency.minor_units()
            )));
        }
        Ok(Money {
            amount: currency.round(amount),
            currency,
        })
    }
    /// Parses a decimal string such as `4.50` (no float, no thousands separators).
    pub fn parse(s: &str, currency: Currency) -> Result<Self> {
        let amount = Decimal::from_str(s.trim()).map_err(|_| {
            Error::invalid(format!(
                "'{s}' is not an amount of money: write it like 4.50 (a dot for decimals, no currency sign)"
            ))
        })?;
        Self::new(amount, currency)
    }
    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: currency.round(Decimal::ZERO),
            currency,
        }
    }
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }
    /// The amount in the currency's minor units (cents, or yen for JPY), as payment terminals
    /// take it. Refused when negative or too large for a terminal.
    pub fn to_minor(&self) -> Result<u64> {
        let scale = Decimal::from(10u64.pow(self.currency.minor_units));
        self.amount
            .checked_mul(scale)
            .and_then(|m| u64::try_from(m.trunc()).ok())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{self} cannot be charged: a payment is a positive amount a terminal can take"
                ))
            })
    }
    /// Money from an amount in the currency's minor units, as payment terminals report it.
    pub fn from_minor(minor: u64, currency: Currency) -> Money {
        Money {
            amount: Decimal::from_i128_with_scale(i128::from(minor), currency.minor_units),
            currency,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Parses a non-negative decimal amount, for config values and CLI arguments.
pub fn parse_amount(s: &str) -> Result<Decimal> {
    let d = Decimal::from_str(s.trim()).map_err(|_| {
        Error::invalid(format!(
            "'{s}' is not a decimal amount: write it like 4.50 (a dot for decimals)"
        ))
    })?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(Error::invalid(format!(
            "'{s}' is negative: amounts are never below zero"
        )));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_the_currency_not_two_decimals() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse("2.50", eur).unwrap().to_minor().unwrap(), 250);
        assert_eq!(Money::parse("500", jpy).unwrap().to_minor().unwrap(), 500);
        assert_eq!(
            Money::parse("1.250", kwd).unwrap().to_minor().unwrap(),
            1250
        );
        assert_eq!(Money::from_minor(500, jpy).to_string(), "500 JPY");
        assert_eq!(Money::from_minor(250, eur).to_string(), "2.50 EUR");
        assert_eq!(Money::from_minor(1250, kwd).to_string(), "1.250 KWD");
        assert!(Money::parse("-1", eur).unwrap().to_minor().is_err());
    }

    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_to_the_minor_unit() {
        let eur = Currency::parse("eur").unwrap();
        assert_eq!(eur.round(dec!(1.005)).to_string(), "1.01");
        assert_eq!(eur.round(dec!(1.004)).to_string(), "1.00");
        assert_eq!(eur.round(dec!(3)).to_string(), "3.00");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.round(dec!(150.5)).to_string(), "151");
    }

    #[test]
    fn refuses_bad_currency_and_amounts() {
        assert!(Currency::parse("EU").is_err());
        assert!(Currency::parse("E1R").is_err());
        let eur = Currency::parse("EUR").unwrap();
        assert!(Money::parse("4.505", eur).is_err());
        assert!(Money::parse("four", eur).is_err());
        assert_eq!(Money::parse("4.5", eur).unwrap().to_string(), "4.50 EUR");
        assert!(parse_amount("-1").is_err());
    }
}
