//! Stays as stored, how a ticket or plate finds one, and what a stay owes at a moment.

use crate::config::LotConfig;
use crate::domain::{Plate, VehicleClass};
use crate::error::{Error, ErrorKind, Result};
use crate::money::Money;
use crate::store::parse_ts;
use crate::tariff::{LineKind, QuoteLine};
use crate::ticket::{TicketSigner, parse_ticket_number, ticket_number};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// The lot as loaded from its database: config and ticket signer. Shared by the writer and readers.
#[derive(Debug)]
pub struct LotContext {
    pub config: LotConfig,
    pub signer: TicketSigner,
    /// Signs merchant vouchers with a key of their own, so a ticket is never a voucher.
    pub voucher_signer: TicketSigner,
    /// Signs the code on a prepaid account's card, with a key of its own again.
    pub account_signer: TicketSigner,
    /// Keys the hash that replaces plates after retention or erasure.
    pub plate_key: Vec<u8>,
    /// The tariffs in force over time.
    pub tariffs: crate::tariffs::TariffVersions,
}

impl LotContext {
    pub fn load(conn: &Connection, db_name: &str) -> Result<LotContext> {
        let missing = |what: &str| {
            Error::storage(format!(
                "{db_name} has no {what}; it was not created by `gatehouse init`"
            ))
        };
        let text = crate::store::meta(conn, "config")?.ok_or_else(|| missing("lot config"))?;
        let secret =
            crate::store::meta(conn, "ticket_secret")?.ok_or_else(|| missing("ticket secret"))?;
        let secret = hex::decode(secret)
            .map_err(|_| Error::storage(format!("{db_name}: the ticket secret is malformed")))?;
        let config = LotConfig::from_toml_str(&format!("{db_name} (stored lot config)"), &text)?;
        let signer = TicketSigner::new(&config.lot.id, &secret);
        let derive = |purpose: &str| -> Result<Vec<u8>> {
            use hmac::Mac;
            let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret)
                .map_err(|_| Error::storage(format!("{db_name}: the lot secret is unusable")))?;
            m.update(purpose.as_bytes());
            Ok(m.finalize().into_bytes().to_vec())
        };
        let voucher_signer =
            TicketSigner::new(&format!("{}#voucher", config.lot.id), &derive("voucher")?);
        let account_signer = TicketSigner::new(
            &format!("{}#account", config.lot.id),
            &derive("prepaid account")?,
        );
        let plate_key = derive("plate pseudonym")?;
        let tariffs = crate::tariffs::TariffVersions::load(conn, &config, db_name)?;
        Ok(LotContext {
            config,
            signer,
            voucher_signer,
            account_signer,
            plate_key,
            tariffs,
        })
    }

    /// The keyed hash that stands in for a plate after retention or erasure: `#` and 16 hex
    /// digits, the same for the same plate, so reports can still count repeat visits.
    pub fn plate_hash(&self, plate: &str) -> String {
        self.token(&[plate.as_bytes()])
    }

    /// The keyed token that stands in for a holder's name in the journal; never equal to a
    /// plate's.
    pub fn holder_token(&self, name: &str) -> String {
        self.token(&[b"holder\0", name.as_bytes()])
    }

    fn token(&self, parts: &[&[u8]]) -> String {
        use hmac::Mac;
        let Ok(mut m) = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.plate_key) else {
            return "#".into();
        };
        for p in parts {
            m.update(p);
        }
        format!("#{}", hex::encode(&m.finalize().into_bytes()[..8]))
    }

    /// A time as people at the lot read it: local date and time with the zone, e.g.
    /// `2026-11-18 09:00 CET`.
    pub fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.config.lot.timezone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    pub fn money(&self, amount: Decimal) -> Money {
        Money {
            amount: self.config.lot.currency.round(amount),
            currency: self.config.lot.currency,
        }
    }
}

/// How a command names a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StayRef {
    /// A readable ticket number (`000042-2`) or a scanned QR payload.
    Ticket(String),
    /// The plate of a vehicle inside.
    Plate(Plate),
    /// The RFID card of the permit a vehicle inside entered on.
    Card(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StayRow {
    pub id: i64,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    pub entry_lane: Option<String>,
    pub entry_at: DateTime<Utc>,
    pub spot: Option<String>,
    pub occupancy_factor: Decimal,
    pub flat_fee: Option<Decimal>,
    pub lost: bool,
    pub paid: Decimal,
    pub settled_at: Option<DateTime<Utc>>,
    pub exit_at: Option<DateTime<Utc>>,
    pub exit_lane: Option<String>,
    /// The end of the reservation this stay fulfils: past it, the overstay penalty applies.
    pub reserved_until: Option<DateTime<Utc>>,
    /// The permit covering this stay, and until when.
    pub permit_id: Option<i64>,
    pub permit_until: Option<DateTime<Utc>>,
    pub voucher_minutes: Option<u32>,
    pub voucher_percent: Option<u32>,
    /// A valet stay's fee (the valet tariff's), fixed when the driver asks for the car back.
    pub valet_fee: Option<Decimal>,
}

/// The columns `StayRow::from_row` reads, as a macro so that the writer's queries are literals
/// (built once at compile time, not formatted on every command).
macro_rules! stay_columns {
    () => {
        "id, plate, class, ev, accessible, entry_lane, entry_at, spot_id, occupancy_factor, flat_fee, lost, paid, settled_at, exit_at, exit_lane, reserved_until, permit_id, permit_until, voucher_minutes, voucher_percent, valet_fee"
    };
}

pub const STAY_COLUMNS: &str = stay_columns!();

fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s)
        .map_err(|_| Error::storage(format!("the database holds a malformed amount '{s}'")))
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

impl StayRow {
    fn from_row(r: &Row) -> rusqlite::Result<Result<StayRow>> {
        let class: String = r.get(2)?;
        let entry_at: String = r.get(6)?;
        let occ: String = r.get(8)?;
        let flat: Option<String> = r.get(9)?;
        let paid: String = r.get(11)?;
        let settled: Option<String> = r.get(12)?;
        let exit: Option<String> = r.get(13)?;
        let reserved_until: Option<String> = r.get(15)?;
        let permit_until: Option<String> = r.get(17)?;
        let (permit_id, voucher_minutes, voucher_percent) = (r.get(16)?, r.get(18)?, r.get(19)?);
        let valet: Option<String> = r.get(20)?;
        let (id, plate, ev, accessible, entry_lane, spot, lost, exit_lane) = (
            r.get(0)?,
            r.get(1)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(7)?,
            r.get(10)?,
            r.get(14)?,
        );
        Ok((|| {
            Ok(StayRow {
                id,
                plate,
                class: VehicleClass::parse(&class).map_err(|_| {
                    Error::storage(format!("stay {id} has an unknown class '{class}'"))
                })?,
                ev,
                accessible,
                entry_lane,
                entry_at: parse_ts(&entry_at)?,
                spot,
                occupancy_factor: dec(&occ)?,
                flat_fee: flat.as_deref().map(dec).transpose()?,
                lost,
                paid: dec(&paid)?,
                settled_at: opt_ts(settled)?,
                exit_at: opt_ts(exit)?,
                exit_lane,
                reserved_until: opt_ts(reserved_until)?,
                permit_id,
                permit_until: opt_ts(permit_until)?,
                voucher_minutes,
                voucher_percent,
                valet_fee: valet.as_deref().map(dec).transpose()?,
            })
        })())
    }

    pub fn ticket(&self) -> String {
        ticket_number(self.id as u32)
    }

    pub fn inside(&self) -> bool {
        self.exit_at.is_none()
    }
}

pub fn stay_by_id(conn: &Connection, id: i64) -> Result<Option<StayRow>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        stay_columns!(),
        " FROM stays WHERE id = ?1"
    ))?
    .query_row([id], StayRow::from_row)
    .optional()?
    .transpose()
}

/// The most recent stay inside with this plate.
pub fn stay_inside_by_plate(conn: &Connection, plate: &Plate) -> Result<Option<StayRow>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        stay_columns!(),
        " FROM stays WHERE plate = ?1 AND exit_at IS NULL ORDER BY id DESC LIMIT 1"
    ))?
    .query_row([plate.as_str()], StayRow::from_row)
    .optional()?
    .transpose()
}

/// Whether a ticket text is a typed number (`000042-2`) rather than a scanned, signed QR payload.
pub fn is_typed_number(text: &str) -> bool {
    let t = text.trim();
    t.contains('-') || t.chars().all(|c| c.is_ascii_digit())
}

impl StayRef {
    /// What staff typed or scanned at the booth to find a stay: a ticket number (`000042-2`), a
    /// ticket's scanned QR payload (longer than any plate), else a plate.
    pub fn typed(text: &str) -> Result<StayRef> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::invalid(
                "type a ticket number or a plate to find the stay",
            ));
        }
        let scanned = t.len() > crate::domain::PLATE_MAX_CHARS
            && t.chars().all(|c| c.is_ascii_alphanumeric());
        if is_typed_number(t) || scanned {
            return Ok(StayRef::Ticket(t.to_string()));
        }
        Ok(StayRef::Plate(Plate::parse(t)?))
    }
}

/// Resolves a ticket text (readable number or QR payload) to its stay, whatever its state.
pub fn stay_of_ticket(conn: &Connection, signer: &TicketSigner, text: &str) -> Result<StayRow> {
    let t = text.trim();
    let serial = if is_typed_number(t) {
        parse_ticket_number(t)?
    } else {
        signer.verify(t)?
    };
    stay_by_id(conn, i64::from(serial))?.ok_or_else(|| {
        Error::not_found(format!(
            "ticket {} is not known to this lot; check the number, or treat it as a lost ticket",
            ticket_number(serial)
        ))
    })
}

/// Refuses a stay that has already left: its ticket was used.
pub fn ensure_inside(ctx: &LotContext, stay: &StayRow) -> Result<()> {
    match stay.exit_at {
        None => Ok(()),
        Some(exit) => Err(Error::new(
            ErrorKind::TicketUsed,
            format!(
                "ticket {} was already used: its stay exited at {} through lane {}; a ticket is valid for one stay",
                stay.ticket(),
                ctx.local(exit),
                stay.exit_lane.as_deref().unwrap_or("?")
            ),
        )),
    }
}

/// Finds the stay a command names; it must still be inside.
pub fn find_inside(conn: &Connection, ctx: &LotContext, r: &StayRef) -> Result<StayRow> {
    match r {
        StayRef::Ticket(text) => {
            let stay = stay_of_ticket(conn, &ctx.signer, text)?;
            ensure_inside(ctx, &stay)?;
            Ok(stay)
        }
        StayRef::Plate(p) => stay_inside_by_plate(conn, p)?.ok_or_else(|| {
            Error::not_found(format!(
                "no vehicle with plate {p} is inside; check the plate, or use the ticket number"
            ))
        }),
        StayRef::Card(card) => stay_inside_by_card(conn, card)?.ok_or_else(|| {
            Error::not_found(format!(
                "no vehicle inside entered on card {}; use the ticket, or call the attendant",
                card.trim()
            ))
        }),
    }
}

/// The stay inside that entered on the permit with this RFID card (the latest, if several).
pub fn stay_inside_by_card(conn: &Connection, card: &str) -> Result<Option<StayRow>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        stay_columns!(),
        " FROM stays WHERE exit_at IS NULL AND permit_id IN (SELECT id FROM permits WHERE card = ?1) ORDER BY id DESC LIMIT 1"
    ))?
    .query_row([card.trim()], StayRow::from_row)
    .optional()?
    .transpose()
}

/// The plates of the vehicles inside (those read at entry).
pub fn plates_inside(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT plate FROM stays WHERE exit_at IS NULL AND plate IS NOT NULL")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
}

/// What a stay owes at a moment, with lines that add up to `total`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StayQuote {
    pub stay: i64,
    pub ticket: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub entry_at: DateTime<Utc>,
    /// The entry in the lot's local time, for people.
    pub entry_local: String,
    pub at: DateTime<Utc>,
    pub minutes: i64,
    /// The fee of the whole stay so far.
    #[serde(serialize_with = "ser_amount")]
    pub fee: Money,
    #[serde(serialize_with = "ser_amount")]
    pub paid: Money,
    /// What is owed now: the fee, less payments, less what the exit grace covers.
    #[serde(serialize_with = "ser_amount")]
    pub total: Money,
    pub currency: String,
    pub lines: Vec<QuoteLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<DateTime<Utc>>,
}

fn ser_amount<S: serde::Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&m.amount)
}

/// The fee of a stay `[entry, at)` (or its flat lost-ticket fee), without payments: the tariff
/// for the part no permit covers, less a voucher, plus any overstay past a reservation.
pub fn stay_fee(ctx: &LotContext, stay: &StayRow, at: DateTime<Utc>) -> crate::tariff::TariffQuote {
    let t = ctx.tariffs.at(stay.entry_at);
    let cur = ctx.config.lot.currency;
    if stay.flat_fee.is_some() {
        return t.lost_ticket_quote();
    }
    if let Some(fee) = stay.valet_fee {
        return crate::tariff::TariffQuote::from_lines(
            cur,
            vec![QuoteLine {
                kind: LineKind::Valet,
                label: "valet parking".to_string(),
                date: None,
                from: Some(stay.entry_at),
                to: Some(at),
                amount: ctx.money(fee),
            }],
        );
    }
    let line = |kind, label: String, amount: Decimal| QuoteLine {
        kind,
        label,
        date: None,
        from: None,
        to: None,
        amount: ctx.money(amount),
    };
    let mut lines = Vec::new();
    let mut start = stay.entry_at;
    if let (Some(p), Some(until)) = (stay.permit_id, stay.permit_until) {
        lines.push(line(
            LineKind::Permit,
            format!("permit {p} covers the stay until {}", ctx.local(until)),
            Decimal::ZERO,
        ));
        start = start.max(until);
    }
    if let Some(m) = stay.voucher_minutes {
        lines.push(line(
            LineKind::Voucher,
            format!("voucher: the first {m} minutes free"),
            Decimal::ZERO,
        ));
        start = start.max(stay.entry_at + Duration::minutes(i64::from(m)));
    }
    if start < at {
        let q = t.quote(start, at, stay.class, stay.occupancy_factor);
        if let Some(pct) = stay.voucher_percent {
            let off = ctx
                .money(q.total.amount * Decimal::from(pct) / Decimal::from(100))
                .amount;
            lines.extend(q.lines);
            lines.push(line(
                LineKind::Voucher,
                format!("voucher: {pct}% off"),
                -off,
            ));
        } else {
            lines.extend(q.lines);
        }
    }
    if let Some(end) = stay.reserved_until
        && at > end
    {
        let pol = &ctx.config.policies.reservations;
        let block = i64::from(pol.overstay_block_minutes);
        let over = (at - end).num_minutes();
        let blocks = (over + block - 1) / block.max(1);
        if blocks > 0 && !pol.overstay_penalty.is_zero() {
            lines.push(line(
                LineKind::Overstay,
                format!(
                    "overstay of {over} min past the reservation: {blocks} × {} per started {block} min",
                    pol.overstay_penalty
                ),
                pol.overstay_penalty * Decimal::from(blocks),
            ));
        }
    }
    crate::tariff::TariffQuote::from_lines(cur, lines)
}

pub fn quote_stay(ctx: &LotContext, stay: &StayRow, at: DateTime<Utc>) -> StayQuote {
    let cur = ctx.config.lot.currency;
    let base = stay_fee(ctx, stay, at);
    let fee = base.total.amount;
    let mut lines = base.lines;
    let paid = stay.paid;
    if paid > Decimal::ZERO {
        lines.push(QuoteLine {
            kind: LineKind::Paid,
            label: format!("paid {paid}"),
            date: None,
            from: None,
            to: None,
            amount: ctx.money(-paid.min(fee)),
        });
    }
    let remaining = (fee - paid).max(Decimal::ZERO);
    let grace_until = stay.settled_at.map(|s| {
        s + Duration::minutes(i64::from(ctx.tariffs.at(stay.entry_at).exit_grace_minutes))
    });
    let in_grace = grace_until.is_some_and(|g| at <= g);
    if remaining > Decimal::ZERO && in_grace {
        lines.push(QuoteLine {
            kind: LineKind::ExitGrace,
            label: format!(
                "within the exit grace after payment (until {})",
                grace_until.map(|g| ctx.local(g)).unwrap_or_default()
            ),
            date: None,
            from: None,
            to: None,
            amount: ctx.money(-remaining),
        });
    }
    let total: Decimal = lines.iter().map(|l| l.amount.amount).sum();
    StayQuote {
        stay: stay.id,
        ticket: stay.ticket(),
        plate: stay.plate.clone(),
        class: stay.class,
        entry_at: stay.entry_at,
        entry_local: ctx.local(stay.entry_at),
        at,
        minutes: (at - stay.entry_at).num_minutes().max(0),
        fee: ctx.money(fee),
        paid: ctx.money(paid),
        total: ctx.money(total),
        currency: cur.code().to_string(),
        lines,
        grace_until: if in_grace { grace_until } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_ticket_number_or_qr_finds_by_ticket_and_anything_else_by_plate() {
        assert!(matches!(StayRef::typed(" 000042-2 "), Ok(StayRef::Ticket(t)) if t == "000042-2"));
        assert!(matches!(StayRef::typed("42"), Ok(StayRef::Ticket(_))));
        // A scanned QR payload is 34 letters and digits: no plate is that long.
        let qr = crate::ticket::TicketSigner::new("LOT", b"k").payload(42);
        assert!(matches!(StayRef::typed(&qr), Ok(StayRef::Ticket(t)) if t == qr));
        assert!(
            matches!(StayRef::typed("ABC 1234"), Ok(StayRef::Plate(p)) if p.as_str() == "ABC1234")
        );
        let empty = StayRef::typed("   ").unwrap_err();
        assert_eq!(empty.kind, crate::error::ErrorKind::InvalidInput);
        assert!(StayRef::typed("$$$").is_err());
    }
}
