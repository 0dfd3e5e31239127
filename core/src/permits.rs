//! Permits: passes by plate or RFID card, with their validity, hours, levels and limits; checked
//! at entry.

use crate::command as req;
use crate::domain::Plate;
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Handle, Tx, recorded};
use chrono::{DateTime, NaiveTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// The kinds of permit a lot sells or grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PermitKind {
    Monthly,
    Yearly,
    Staff,
    Vip,
}

impl PermitKind {
    pub fn parse(s: &str) -> Result<PermitKind> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "monthly" => PermitKind::Monthly,
            "yearly" => PermitKind::Yearly,
            "staff" => PermitKind::Staff,
            "vip" => PermitKind::Vip,
            _ => {
                return Err(Error::invalid(format!(
                    "'{s}' is not a permit kind: use monthly, yearly, staff or vip"
                )));
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PermitKind::Monthly => "monthly",
            PermitKind::Yearly => "yearly",
            PermitKind::Staff => "staff",
            PermitKind::Vip => "vip",
        }
    }
}

/// Daily hours a permit may enter, in the lot's local time; may cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl Hours {
    pub fn parse(s: &str) -> Result<Hours> {
        let bad = || {
            Error::invalid(format!(
                "'{s}' is not a time window: write HH:MM-HH:MM, for example 07:00-19:00"
            ))
        };
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let to = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        if from == to {
            return Err(bad());
        }
        Ok(Hours { from, to })
    }
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
    pub fn text(&self) -> String {
        format!("{}-{}", self.from.format("%H:%M"), self.to.format("%H:%M"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PermitRequest {
    pub kind: PermitKind,
    pub holder: String,
    pub plates: Vec<Plate>,
    pub card: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    /// Level ids the permit may park on; empty: every level.
    pub levels: Vec<String>,
    pub hours: Option<Hours>,
    pub max_inside: u32,
    /// Refuse a second entry while the permit's vehicles already fill `max_inside`.
    pub passback: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermitIssued {
    pub id: i64,
    pub kind: PermitKind,
    pub holder: String,
    pub plates: Vec<String>,
    pub card: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    pub levels: Vec<String>,
    pub hours: Option<String>,
    pub max_inside: u32,
    pub passback: bool,
}

/// A permit as the entry needs it.
#[derive(Debug, Clone)]
pub(crate) struct PermitRow {
    pub id: i64,
    pub kind: String,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    pub levels: Vec<String>,
    pub hours: Option<String>,
    pub max_inside: i64,
    pub passback: bool,
    pub revoked: bool,
}

const PERMIT_COLUMNS: &str = "p.id, p.kind, p.valid_from, p.valid_to, p.levels, p.hours, p.max_inside, p.passback, p.revoked_at IS NOT NULL";

fn permit_row(r: &rusqlite::Row) -> rusqlite::Result<Result<PermitRow>> {
    let from: String = r.get(2)?;
    let to: String = r.get(3)?;
    let levels: String = r.get(4)?;
    let (id, kind, hours, max_inside, passback, revoked) = (
        r.get(0)?,
        r.get(1)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    );
    Ok((|| {
        Ok(PermitRow {
            id,
            kind,
            valid_from: parse_ts(&from)?,
            valid_to: parse_ts(&to)?,
            levels: levels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            hours,
            max_inside,
            passback,
            revoked,
        })
    })())
}

pub(crate) fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s)
        .map_err(|_| Error::storage(format!("the database holds a malformed amount '{s}'")))
}

impl Tx<'_> {
    // ---- permits -----------------------------------------------------------------------------

    /// Why a permit does not admit now, if it does not.
    fn permit_refusal(&self, p: &PermitRow, at: DateTime<Utc>) -> Result<Option<String>> {
        if p.revoked {
            return Ok(Some(format!("permit {} was revoked", p.id)));
        }
        if at < p.valid_from {
            return Ok(Some(format!(
                "permit {} is valid from {}",
                p.id,
                self.ctx.local(p.valid_from)
            )));
        }
        if at >= p.valid_to {
            return Ok(Some(format!(
                "permit {} expired at {}",
                p.id,
                self.ctx.local(p.valid_to)
            )));
        }
        if let Some(h) = &p.hours {
            let hours = Hours::parse(h)?;
            let local = at.with_timezone(&self.ctx.config.lot.timezone).time();
            if !hours.contains(local) {
                return Ok(Some(format!(
                    "permit {} enters only {}",
                    p.id,
                    hours.text()
                )));
            }
        }
        let inside: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM stays WHERE permit_id = ?1 AND exit_at IS NULL")?
            .query_row([p.id], |r| r.get(0))?;
        if inside >= p.max_inside {
            return Ok(Some(format!(
                "permit {} already has {inside} of its {} vehicles inside",
                p.id, p.max_inside
            )));
        }
        Ok(None)
    }

    /// The permit a vehicle enters on: its card (refused when not valid now), or its plate
    /// (a plate whose permit is not valid now takes a ticket, with a note).
    pub(crate) fn permit_at_entry(
        &self,
        at: DateTime<Utc>,
        plate: Option<&Plate>,
        card: Option<&str>,
        lane: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<PermitRow>> {
        if let Some(card) = card {
            let card = card.trim();
            let p = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {PERMIT_COLUMNS} FROM permits p WHERE p.card = ?1"
                ))?
                .query_row([card], permit_row)
                .optional()?
                .transpose()?
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "card {card} is not a permit card of this lot; take a ticket or call the attendant"
                    ))
                })?;
            if let Some(why) = self.permit_refusal(&p, at)? {
                let kind = if why.contains("vehicles inside") && p.passback {
                    ErrorKind::Passback
                } else {
                    ErrorKind::Forbidden
                };
                return Err(Error::new(
                    kind,
                    format!(
                        "{why}; the gate stays closed at lane {lane}: take a ticket or call the attendant"
                    ),
                ));
            }
            return Ok(Some(p));
        }
        let Some(plate) = plate else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PERMIT_COLUMNS} FROM permits p JOIN permit_plates pp ON pp.permit_id = p.id WHERE pp.plate = ?1 ORDER BY p.valid_to DESC"
        ))?;
        let rows: Vec<PermitRow> = stmt
            .query_map([plate.as_str()], permit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let mut why_not = Vec::new();
        for p in rows {
            match self.permit_refusal(&p, at)? {
                None => return Ok(Some(p)),
                Some(why) => why_not.push(why),
            }
        }
        if !why_not.is_empty() {
            notes.push(format!(
                "plate {plate}: {}; a paying ticket was issued",
                why_not.join("; ")
            ));
        }
        Ok(None)
    }

    pub(crate) fn issue_permit(
        &mut self,
        at: DateTime<Utc>,
        req: &PermitRequest,
    ) -> Result<Applied> {
        let holder = req.holder.trim();
        if holder.is_empty() || holder.len() > 120 {
            return Err(Error::invalid(
                "a permit needs its holder's name (1 to 120 characters)",
            ));
        }
        if req.plates.is_empty() && req.card.is_none() {
            return Err(Error::invalid(
                "a permit needs at least one plate (--plate) or an RFID card (--card)",
            ));
        }
        if req.valid_to <= req.valid_from {
            return Err(Error::invalid("the permit must end after it starts"));
        }
        if req.max_inside == 0 || req.max_inside > 1000 {
            return Err(Error::invalid("max vehicles inside is 1 to 1000"));
        }
        for l in &req.levels {
            if !self.ctx.config.levels.iter().any(|x| &x.id == l) {
                let known: Vec<&str> = self
                    .ctx
                    .config
                    .levels
                    .iter()
                    .map(|l| l.id.as_str())
                    .collect();
                return Err(Error::invalid(format!(
                    "there is no level '{l}'; the levels are {}",
                    known.join(", ")
                )));
            }
        }
        let card = req.card.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = card
            && (c.len() > 32 || !c.chars().all(|ch| ch.is_ascii_alphanumeric()))
        {
            return Err(Error::invalid(format!(
                "card number '{c}' must be 1 to 32 letters and digits"
            )));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO permits (kind, holder, card, valid_from, valid_to, levels, hours, max_inside, passback, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                req.kind.as_str(),
                holder,
                card,
                ts(req.valid_from),
                ts(req.valid_to),
                req.levels.join(","),
                req.hours.map(|h| h.text()),
                req.max_inside,
                req.passback,
                ts(at)
            ])
            .map_err(|e| match Error::from(e) {
                e if e.kind == ErrorKind::Conflict => Error::conflict(format!(
                    "card {} already belongs to another permit; revoke that one first",
                    card.unwrap_or("")
                )),
                e => e,
            })?;
        let id = self.conn.last_insert_rowid();
        for p in &req.plates {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO permit_plates (permit_id, plate) VALUES (?1, ?2)",
                )?
                .execute(params![id, p.as_str()])?;
        }
        let plates: Vec<String> = req.plates.iter().map(|p| p.to_string()).collect();
        let issued = PermitIssued {
            id,
            kind: req.kind,
            holder: holder.to_string(),
            plates: plates.clone(),
            card: card.map(str::to_string),
            valid_from: req.valid_from,
            valid_to: req.valid_to,
            levels: req.levels.clone(),
            hours: req.hours.map(|h| h.text()),
            max_inside: req.max_inside,
            passback: req.passback,
        };
        Ok(Applied::new(
            Outcome::Permit(issued),
            vec![Event::PermitIssued {
                permit: id,
                permit_kind: req.kind.as_str().into(),
                holder: holder.to_string(),
                plates,
                card: card.map(str::to_string),
                valid_from: ts(req.valid_from),
                valid_to: ts(req.valid_to),
                levels: req.levels.clone(),
                hours: req.hours.map(|h| h.text()),
                max_inside: req.max_inside,
                passback: req.passback,
            }],
            vec![],
        ))
    }

    pub(crate) fn revoke_permit(
        &mut self,
        at: DateTime<Utc>,
        permit: i64,
        reason: &str,
    ) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "give a reason (--reason), for the audit trail",
            ));
        }
        let n = self
            .conn
            .prepare_cached(
                "UPDATE permits SET revoked_at = ?2, card = NULL WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![permit, ts(at)])?;
        if n == 0 {
            return Err(Error::not_found(format!(
                "there is no active permit {permit}; `gatehouse permit list` shows them"
            )));
        }
        Ok(Applied::new(
            recorded(
                "permit revoked",
                Some(permit),
                format!("permit {permit} revoked"),
            ),
            vec![Event::PermitRevoked {
                permit,
                reason: reason.to_string(),
            }],
            vec![],
        ))
    }

    // ---- prepaid accounts --------------------------------------------------------------------

    // ---- vouchers ----------------------------------------------------------------------------

    // ---- watchlist ---------------------------------------------------------------------------
}

/// A permit as lists show it. Times are the stored UTC text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermitListed {
    pub id: i64,
    pub kind: PermitKind,
    pub holder: String,
    pub card: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    /// Level ids separated by commas; empty: every level.
    pub levels: String,
    pub hours: Option<String>,
    pub max_inside: i64,
    pub revoked_at: Option<String>,
    /// Its plates, separated by spaces.
    pub plates: String,
    /// How many of its vehicles are inside now.
    pub inside: i64,
}

/// Permits, for lists.
pub fn list_permits(conn: &rusqlite::Connection) -> Result<Vec<PermitListed>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.kind, p.holder, p.card, p.valid_from, p.valid_to, p.levels, p.hours, p.max_inside, p.revoked_at, (SELECT group_concat(plate, ' ') FROM permit_plates WHERE permit_id = p.id), (SELECT COUNT(*) FROM stays WHERE permit_id = p.id AND exit_at IS NULL) FROM permits p ORDER BY p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PermitListed {
            id: r.get(0)?,
            kind: crate::store::column_as(1, PermitKind::parse(&r.get::<_, String>(1)?))?,
            holder: r.get(2)?,
            card: r.get(3)?,
            valid_from: r.get(4)?,
            valid_to: r.get(5)?,
            levels: r.get(6)?,
            hours: r.get(7)?,
            max_inside: r.get(8)?,
            revoked_at: r.get(9)?,
            plates: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            inside: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Handle for crate::permits::PermitRequest {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.issue_permit(job.at, self)
    }
}

impl Handle for req::RevokePermit {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::RevokePermit { permit, reason } = self;
        tx.revoke_permit(at, *permit, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_cross_midnight() {
        let h = Hours::parse("22:00-06:00").unwrap();
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert!(h.contains(t("23:30")));
        assert!(h.contains(t("05:59")));
        assert!(!h.contains(t("06:00")));
        assert!(!h.contains(t("12:00")));
        let d = Hours::parse("07:00-19:00").unwrap();
        assert!(d.contains(t("07:00")) && !d.contains(t("19:00")));
        assert!(Hours::parse("7-19").is_err());
        assert!(Hours::parse("10:00-10:00").is_err());
    }
}
