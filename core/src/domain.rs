//! Domain types that can only be built valid.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most letters and digits a plate has.
pub const PLATE_MAX_CHARS: usize = 12;

/// A licence plate, normalised: upper case, letters and digits only (spaces, dashes and dots
/// dropped), 2 to 12 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Plate(String);

impl Plate {
    pub fn parse(raw: &str) -> Result<Self> {
        let mut out = String::with_capacity(raw.len());
        for c in raw.chars() {
            if c.is_alphanumeric() {
                out.extend(c.to_uppercase());
            } else if matches!(c, ' ' | '-' | '.' | '·' | ':') {
                continue;
            } else {
                return Err(Error::invalid(format!(
                    "plate '{raw}' has the character '{c}': a plate is letters and digits (spaces and dashes are ignored)"
                )));
            }
        }
        let n = out.chars().count();
        if !(2..=PLATE_MAX_CHARS).contains(&n) {
            return Err(Error::invalid(format!(
                "plate '{raw}' has {n} letters and digits: a plate has 2 to {PLATE_MAX_CHARS}"
            )));
        }
        Ok(Plate(out))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Plate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Vehicle classes and spot sizes, smallest first: a vehicle fits spots of its size or larger.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum VehicleClass {
    Motorcycle,
    Compact,
    Standard,
    Large,
    Bus,
}

impl VehicleClass {
    pub const ALL: [VehicleClass; 5] = [
        VehicleClass::Motorcycle,
        VehicleClass::Compact,
        VehicleClass::Standard,
        VehicleClass::Large,
        VehicleClass::Bus,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VehicleClass::Motorcycle => "motorcycle",
            VehicleClass::Compact => "compact",
            VehicleClass::Standard => "standard",
            VehicleClass::Large => "large",
            VehicleClass::Bus => "bus",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "'{s}' is not a vehicle class: use motorcycle, compact, standard, large or bus"
                ))
            })
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// The spot sizes this vehicle fits, best fit first.
    pub fn fitting_sizes(self) -> impl Iterator<Item = VehicleClass> {
        Self::ALL.into_iter().filter(move |s| *s >= self)
    }
}

impl fmt::Display for VehicleClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts. Users and logins come with the operations issue; until then the role is asserted
/// by the caller (the CLI's --actor/--role) and checked by the engine for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A lane, the demo traffic, the engine itself.
    System,
    Attendant,
    Cashier,
    Supervisor,
    Admin,
    Auditor,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "system" => Role::System,
            "attendant" => Role::Attendant,
            "cashier" => Role::Cashier,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            "auditor" => Role::Auditor,
            _ => {
                return Err(Error::invalid(format!(
                    "'{s}' is not a role: use attendant, cashier, supervisor, admin, auditor or system"
                )));
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Attendant => "attendant",
            Role::Cashier => "cashier",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }
    /// Supervisors and admins may refund, override spots and take spots out of service.
    pub fn is_supervisor(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// The acting person or system, written into every journal event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    /// The login session a person acts under (once the lot has users); never journaled.
    #[serde(skip)]
    pub session: Option<String>,
}

impl Actor {
    pub fn new(name: &str, role: Role) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "an actor name is 1 to 64 printable characters, for example 'booth-1' or 'anna'",
            ));
        }
        Ok(Actor {
            name: name.to_string(),
            role,
            session: None,
        })
    }
    pub fn system(name: &str) -> Self {
        Actor {
            name: name.to_string(),
            role: Role::System,
            session: None,
        }
    }
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    MobileWallet,
    Upi,
    Prepaid,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::Cash,
        PaymentMethod::Card,
        PaymentMethod::MobileWallet,
        PaymentMethod::Upi,
        PaymentMethod::Prepaid,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::MobileWallet => "mobile_wallet",
            PaymentMethod::Upi => "upi",
            PaymentMethod::Prepaid => "prepaid",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == norm)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "'{s}' is not a payment method: use cash, card, mobile_wallet, upi or prepaid"
                ))
            })
    }
}

/// Anti-passback: what to do when a plate or ticket that is already inside enters again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AntiPassback {
    /// Refuse the entry.
    Hard,
    /// Admit and raise an alert.
    Soft,
    /// No check.
    Off,
}

/// An identifier from the config (lot, level, zone, lane, spot): 1 to 32 of letters, digits,
/// `-` and `_`.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 32
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid(format!(
            "{what} '{id}' is not a valid id: use 1 to 32 letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_is_normalised() {
        assert_eq!(Plate::parse("b-ab 123").unwrap().as_str(), "BAB123");
        assert_eq!(Plate::parse("m·xy 9e").unwrap().as_str(), "MXY9E");
        assert!(Plate::parse("A").is_err());
        assert!(Plate::parse("AB;DROP").is_err());
        assert!(Plate::parse("ABCDEFGHIJKLM").is_err());
    }

    #[test]
    fn vehicle_fits_its_size_or_larger() {
        let sizes: Vec<_> = VehicleClass::Standard.fitting_sizes().collect();
        assert_eq!(
            sizes,
            vec![
                VehicleClass::Standard,
                VehicleClass::Large,
                VehicleClass::Bus
            ]
        );
        assert_eq!(VehicleClass::parse("BUS").unwrap(), VehicleClass::Bus);
        assert!(VehicleClass::parse("truck").is_err());
    }

    #[test]
    fn payment_method_names() {
        assert_eq!(
            PaymentMethod::parse("mobile-wallet").unwrap(),
            PaymentMethod::MobileWallet
        );
        assert!(PaymentMethod::parse("cheque").is_err());
    }
}
