//! Valet parking. The driver hands over the keys at the booth, which hang on a numbered tag; staff
//! park the car and record the spot; the driver asks for the car back (by the tag or the ticket),
//! pays the valet tariff (`[valet]` in the lot config) like any stay, and gets the car and keys
//! back.
//!
//! A valet stay is a stay: it has a ticket, a spot, payments (the booth's `Pay`), and it ends. Only
//! its fee is the valet tariff's, fixed when the car is asked for (until then, the first day's).
//! Its requests are registered in `command.rs`; the events are in `events.rs`.

use crate::domain::{Plate, VehicleClass};
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{StayQuote, StayRow, quote_stay, stay_by_id};
use crate::store::{parse_ts, ts};
use crate::ticket::ticket_number;
use crate::tx::{Applied, Effect, Handle, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;

/// Valet parking's tariff (`[valet]`): the first 24 hours from the keys' drop-off, then every
/// started 24 hours more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValetTariff {
    pub first_day: Decimal,
    pub extra_day: Decimal,
}

impl ValetTariff {
    /// The fee of a valet stay of `minutes` (at least the first day), and its started days.
    pub fn fee(&self, minutes: i64) -> (Decimal, i64) {
        let days = (minutes.max(1) + 24 * 60 - 1) / (24 * 60);
        let extra = Decimal::from(days - 1);
        (self.first_day + self.extra_day * extra, days)
    }
}

/// Take a driver's keys: a valet stay starts, its ticket is the driver's receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct ValetDropOff {
    pub plate: Option<Plate>,
    pub class: VehicleClass,
    /// The numbered tag the keys hang on.
    pub tag: String,
}

/// Staff parked the car: the spot it is in.
#[derive(Debug, Clone, PartialEq)]
pub struct ValetPark {
    pub tag: String,
    pub spot: String,
}

/// The driver asks for the car back: its fee is fixed and the car is fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct ValetRequest {
    pub tag: String,
}

/// The car and keys are handed back: refused while anything is owed; the stay ends.
#[derive(Debug, Clone, PartialEq)]
pub struct ValetReturn {
    pub tag: String,
}

/// A valet stay as it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValetView {
    pub stay: i64,
    pub ticket: String,
    /// The ticket's signed QR payload (the driver's receipt; the booth scans it to take payment).
    pub qr: String,
    pub tag: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub spot: Option<String>,
    pub keys_at: DateTime<Utc>,
    pub parked_at: Option<DateTime<Utc>>,
    pub requested_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    /// The valet fee so far (fixed once the car is asked for).
    pub fee: String,
    /// Still owed now.
    pub due: String,
    pub currency: String,
    pub message: String,
}

/// A tag as staff write it: trimmed, upper case, 1 to 16 letters, digits or dashes.
fn tag(text: &str) -> Result<String> {
    let t = text.trim().to_uppercase();
    if t.is_empty() || t.chars().count() > 16 || !t.chars().all(|c| c.is_alphanumeric() || c == '-')
    {
        return Err(Error::invalid(format!(
            "'{text}' is not a key tag: write the number on the tag (1 to 16 letters, digits or dashes)"
        )));
    }
    Ok(t)
}

/// The valet row of a stay whose keys hang on `tag` now (`returned_at` is set only by the
/// hand-back, which frees the tag).
struct Keys {
    stay: i64,
    keys_at: DateTime<Utc>,
    parked_at: Option<DateTime<Utc>>,
    requested_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
}

impl Tx<'_> {
    fn valet_tariff(&self) -> Result<ValetTariff> {
        self.ctx.config.policies.valet.ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                "this lot offers no valet parking; add a [valet] section with its tariff to the lot config",
            )
        })
    }

    fn keys_on(&self, tag: &str) -> Result<Keys> {
        type KeysRow = (i64, String, Option<String>, Option<String>);
        let row: Option<KeysRow> = self
            .conn
            .prepare_cached(
                "SELECT stay_id, keys_at, parked_at, requested_at FROM valet WHERE tag = ?1 AND returned_at IS NULL",
            )?
            .query_row([tag], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let (stay, keys, parked, requested) = row.ok_or_else(|| {
            Error::not_found(format!(
                "no keys hang on tag {tag}; check the tag's number (a car handed back frees its tag)"
            ))
        })?;
        let opt = |t: Option<String>| t.as_deref().map(parse_ts).transpose();
        Ok(Keys {
            stay,
            keys_at: parse_ts(&keys)?,
            parked_at: opt(parked)?,
            requested_at: opt(requested)?,
            returned_at: None,
        })
    }

    fn valet_stay(&self, id: i64) -> Result<StayRow> {
        stay_by_id(self.conn, id)?
            .ok_or_else(|| Error::storage(format!("valet stay {id} is missing from the stays")))
    }

    fn valet_view(
        &self,
        tag: &str,
        keys: &Keys,
        stay: &StayRow,
        q: StayQuote,
        message: String,
    ) -> ValetView {
        ValetView {
            stay: stay.id,
            ticket: stay.ticket(),
            qr: self.ctx.signer.payload(stay.id as u32),
            tag: tag.to_string(),
            plate: stay.plate.clone(),
            class: stay.class,
            spot: stay.spot.clone(),
            keys_at: keys.keys_at,
            parked_at: keys.parked_at,
            requested_at: keys.requested_at,
            returned_at: keys.returned_at,
            fee: q.fee.amount.to_string(),
            due: q.total.amount.to_string(),
            currency: q.currency,
            message,
        }
    }

    pub(crate) fn valet_drop_off(
        &mut self,
        at: DateTime<Utc>,
        r: &ValetDropOff,
    ) -> Result<Applied> {
        let tariff = self.valet_tariff()?;
        let tag = tag(&r.tag)?;
        if self.keys_on(&tag).is_ok() {
            return Err(Error::conflict(format!(
                "tag {tag} already holds a car's keys; take another tag"
            )));
        }
        if let Some(p) = &r.plate
            && let Some(inside) = crate::stays::stay_inside_by_plate(self.conn, p)?
        {
            return Err(Error::new(
                ErrorKind::Passback,
                format!(
                    "plate {p} is already inside (ticket {}); check the plate, or end that stay first",
                    inside.ticket()
                ),
            ));
        }
        let at_s = ts(at);
        self.conn
            .prepare_cached(
                "INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, valet_fee) VALUES (?1, ?2, 0, 0, NULL, ?3, ?4)",
            )?
            .execute(params![
                r.plate.as_ref().map(Plate::as_str),
                r.class.as_str(),
                at_s,
                tariff.first_day.to_string()
            ])?;
        let stay = self.conn.last_insert_rowid();
        self.conn
            .prepare_cached("INSERT INTO valet (stay_id, tag, keys_at) VALUES (?1, ?2, ?3)")?
            .execute(params![stay, tag, at_s])?;
        let row = self.valet_stay(stay)?;
        let keys = Keys {
            stay,
            keys_at: at,
            parked_at: None,
            requested_at: None,
            returned_at: None,
        };
        let message = format!(
            "keys on tag {tag}, ticket {}: park the car and record its spot",
            row.ticket()
        );
        let q = quote_stay(self.ctx, &row, at);
        Ok(Applied::new(
            Outcome::Valet(self.valet_view(&tag, &keys, &row, q, message)),
            vec![Event::ValetKeysTaken {
                stay,
                ticket: ticket_number(stay as u32),
                plate: row.plate.clone(),
                class: row.class,
                tag,
            }],
            vec![],
        ))
    }

    pub(crate) fn valet_park(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
        r: &ValetPark,
    ) -> Result<Applied> {
        let tag = tag(&r.tag)?;
        let keys = self.keys_on(&tag)?;
        let stay = self.valet_stay(keys.stay)?;
        if let Some(spot) = &stay.spot {
            return Err(Error::conflict(format!(
                "the car on tag {tag} is already parked in {spot}; a supervisor moves it with an override"
            )));
        }
        if keys.requested_at.is_some() {
            return Err(Error::conflict(format!(
                "the driver has asked for the car on tag {tag}: hand it back instead of parking it"
            )));
        }
        let spot = self.spot_named(r.spot.trim())?;
        self.check_target_spot(spot, stay.class, false)?;
        let spot_id = self.alloc.spot_id(spot).to_string();
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET spot_id = ?2 WHERE id = ?1")?
            .execute(params![stay.id, spot_id])?;
        self.conn
            .prepare_cached(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![stay.id, spot_id, at_s])?;
        self.conn
            .prepare_cached("UPDATE valet SET parked_at = ?2, parked_by = ?3 WHERE stay_id = ?1")?
            .execute(params![stay.id, at_s, actor])?;
        let stay = self.valet_stay(stay.id)?;
        let keys = Keys {
            parked_at: Some(at),
            ..keys
        };
        let message = format!("the car on tag {tag} is parked in {spot_id}");
        let q = quote_stay(self.ctx, &stay, at);
        Ok(Applied::new(
            Outcome::Valet(self.valet_view(&tag, &keys, &stay, q, message)),
            vec![Event::ValetParked {
                stay: stay.id,
                tag,
                spot: spot_id,
            }],
            vec![Effect::Take(spot)],
        ))
    }

    pub(crate) fn valet_request(&mut self, at: DateTime<Utc>, r: &ValetRequest) -> Result<Applied> {
        let tariff = self.valet_tariff()?;
        let tag = tag(&r.tag)?;
        let keys = self.keys_on(&tag)?;
        let stay = self.valet_stay(keys.stay)?;
        if at < keys.keys_at {
            return Err(Error::invalid(format!(
                "the request time {} is before the keys were taken at {}; check the clock or --at",
                self.ctx.local(at),
                self.ctx.local(keys.keys_at)
            )));
        }
        let mut events = vec![];
        if keys.requested_at.is_none() {
            let (fee, _) = tariff.fee((at - keys.keys_at).num_minutes());
            let fee = self.ctx.money(fee).amount;
            self.conn
                .prepare_cached("UPDATE stays SET valet_fee = ?2 WHERE id = ?1")?
                .execute(params![stay.id, fee.to_string()])?;
            self.conn
                .prepare_cached("UPDATE valet SET requested_at = ?2 WHERE stay_id = ?1")?
                .execute(params![stay.id, ts(at)])?;
            events.push(Event::ValetCarRequested {
                stay: stay.id,
                tag: tag.clone(),
                fee: fee.to_string(),
            });
        }
        let stay = self.valet_stay(stay.id)?;
        let keys = Keys {
            requested_at: keys.requested_at.or(Some(at)),
            ..keys
        };
        let q = quote_stay(self.ctx, &stay, at);
        let message = if q.total.is_zero() {
            format!(
                "fetch the car on tag {tag} from {}: nothing is owed",
                spot_text(&stay)
            )
        } else {
            format!(
                "fetch the car on tag {tag} from {}; {} {} to pay for ticket {}",
                spot_text(&stay),
                q.total.amount,
                q.currency,
                stay.ticket()
            )
        };
        let view = self.valet_view(&tag, &keys, &stay, q, message);
        Ok(Applied::new(Outcome::Valet(view), events, vec![]))
    }

    pub(crate) fn valet_return(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
        r: &ValetReturn,
    ) -> Result<Applied> {
        let tag = tag(&r.tag)?;
        let keys = self.keys_on(&tag)?;
        let stay = self.valet_stay(keys.stay)?;
        if keys.requested_at.is_none() {
            return Err(Error::conflict(format!(
                "nobody has asked for the car on tag {tag} yet; record the driver's request first, which fixes the fee"
            )));
        }
        let q = quote_stay(self.ctx, &stay, at);
        if !q.total.is_zero() {
            return Err(Error::new(
                ErrorKind::Unpaid,
                format!(
                    "ticket {} (tag {tag}) owes {} {}; take the payment, then hand the car back",
                    stay.ticket(),
                    q.total.amount,
                    q.currency
                ),
            ));
        }
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET exit_at = ?2, exit_lane = NULL WHERE id = ?1")?
            .execute(params![stay.id, at_s])?;
        self.conn
            .prepare_cached(
                "UPDATE valet SET returned_at = ?2, returned_by = ?3 WHERE stay_id = ?1",
            )?
            .execute(params![stay.id, at_s, actor])?;
        let effects: Vec<Effect> = self.leave_spot(&stay, &at_s)?.into_iter().collect();
        let minutes = (at - stay.entry_at).num_minutes();
        let returned = Keys {
            returned_at: Some(at),
            ..keys
        };
        let after = self.valet_stay(stay.id)?;
        let message =
            format!("the car on tag {tag} is handed back after {minutes} min; the tag is free");
        let event = Event::ValetCarReturned {
            stay: stay.id,
            tag: tag.clone(),
            spot: stay.spot.clone(),
            minutes,
            fee: q.fee.amount.to_string(),
            paid: q.paid.amount.to_string(),
        };
        Ok(Applied::new(
            Outcome::Valet(self.valet_view(&tag, &returned, &after, q, message)),
            vec![event],
            effects,
        ))
    }
}

fn spot_text(stay: &StayRow) -> String {
    match &stay.spot {
        Some(s) => format!("spot {s}"),
        None => "where it waits (not parked yet)".to_string(),
    }
}

impl Handle for crate::valet::ValetDropOff {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.valet_drop_off(job.at, self)
    }
}

impl Handle for crate::valet::ValetPark {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.valet_park(job.at, &job.actor.name, self)
    }
}

impl Handle for crate::valet::ValetRequest {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.valet_request(job.at, self)
    }
}

impl Handle for crate::valet::ValetReturn {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.valet_return(job.at, &job.actor.name, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_valet_fee_is_the_first_day_then_every_started_day() {
        let t = ValetTariff {
            first_day: dec!(25),
            extra_day: dec!(20),
        };
        assert_eq!(t.fee(0), (dec!(25), 1));
        assert_eq!(t.fee(90), (dec!(25), 1));
        assert_eq!(t.fee(24 * 60), (dec!(25), 1));
        assert_eq!(t.fee(24 * 60 + 1), (dec!(45), 2));
        assert_eq!(t.fee(3 * 24 * 60 + 5), (dec!(85), 4));
    }

    #[test]
    fn a_key_tag_is_a_short_word_written_in_capitals() {
        assert_eq!(tag(" v-017 ").unwrap(), "V-017");
        assert!(tag("").is_err());
        assert!(tag("a tag with spaces").is_err());
        assert!(tag("12345678901234567").is_err());
    }
}
