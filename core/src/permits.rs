//! Permits (passes by plate or RFID card), prepaid accounts, merchant vouchers and the watchlist.

use crate::domain::{PaymentMethod, Plate};
use crate::engine::{Applied, Job, Outcome, Writer, recorded};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{StayRef, find_inside, quote_stay};
use crate::store::{parse_ts, ts};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// The kinds of permit a lot sells or grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchAction {
    /// Keep the gate shut and alert.
    Refuse,
    /// Admit and alert.
    Alert,
}

impl WatchAction {
    pub fn parse(s: &str) -> Result<WatchAction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(WatchAction::Refuse),
            "alert" => Ok(WatchAction::Alert),
            _ => Err(Error::invalid(format!(
                "'{s}' is not a watchlist action: use refuse or alert"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            WatchAction::Refuse => "refuse",
            WatchAction::Alert => "alert",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub id: i64,
    pub holder: String,
    pub balance: String,
    pub currency: String,
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The signed code on the account's card: scanned at an exit, it pays from the account.
    pub card: String,
}

fn account_view(
    ctx: &crate::stays::LotContext,
    id: i64,
    holder: String,
    balance: Decimal,
    expires_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> AccountView {
    let pol = &ctx.config.policies;
    let mut warnings = Vec::new();
    if balance < pol.low_balance {
        warnings.push(format!(
            "low balance: {balance} {} (below {}); top up soon",
            ctx.config.lot.currency, pol.low_balance
        ));
    }
    if let Some(e) = expires_at
        && e - at <= Duration::days(i64::from(pol.expiry_warning_days))
    {
        warnings.push(if e <= at {
            format!("the account expired at {}", ctx.local(e))
        } else {
            format!("the account expires at {}", ctx.local(e))
        });
    }
    AccountView {
        id,
        holder,
        balance: balance.to_string(),
        currency: ctx.config.lot.currency.to_string(),
        expires_at,
        warnings,
        card: ctx.account_signer.payload(id as u32),
    }
}

/// The prepaid account a scanned card code names; a ticket, a voucher or a forged code is not
/// one.
pub fn account_of_card(ctx: &crate::stays::LotContext, code: &str) -> Result<i64> {
    ctx.account_signer
        .verify(code.trim())
        .map(i64::from)
        .map_err(|_| {
            Error::new(
                ErrorKind::TicketForged,
                "this is not a prepaid card of this lot (forged, altered or another lot's); pay another way",
            )
        })
}

/// Whether a scanned code is one of this lot's merchant vouchers (its signature checks out).
pub fn is_voucher(ctx: &crate::stays::LotContext, code: &str) -> bool {
    ctx.voucher_signer.verify(code.trim()).is_ok()
}

#[derive(Debug, Clone, PartialEq)]
pub struct VoucherRequest {
    pub merchant: String,
    pub free_minutes: Option<u32>,
    pub percent_off: Option<u32>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoucherIssued {
    pub id: i64,
    pub merchant: String,
    pub free_minutes: Option<u32>,
    pub percent_off: Option<u32>,
    pub valid_to: Option<DateTime<Utc>>,
    /// The signed QR payload to print on the voucher.
    pub qr: String,
}

fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s)
        .map_err(|_| Error::storage(format!("the database holds a malformed amount '{s}'")))
}

impl Writer {
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

    fn account(&self, id: i64) -> Result<(String, Decimal, Option<DateTime<Utc>>)> {
        let row: Option<(String, String, Option<String>)> = self
            .conn
            .prepare_cached("SELECT holder, balance, expires_at FROM accounts WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (holder, balance, expires) =
            row.ok_or_else(|| Error::not_found(format!("there is no prepaid account {id}")))?;
        Ok((
            holder,
            dec(&balance)?,
            expires.as_deref().map(parse_ts).transpose()?,
        ))
    }

    fn account_view(&self, id: i64, at: DateTime<Utc>) -> Result<AccountView> {
        let (holder, balance, expires_at) = self.account(id)?;
        Ok(account_view(&self.ctx, id, holder, balance, expires_at, at))
    }

    pub(crate) fn open_account(
        &mut self,
        at: DateTime<Utc>,
        holder: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Applied> {
        let holder = holder.trim();
        if holder.is_empty() || holder.len() > 120 {
            return Err(Error::invalid(
                "an account needs its holder's name (1 to 120 characters)",
            ));
        }
        if expires_at.is_some_and(|e| e <= at) {
            return Err(Error::invalid("the expiry must be in the future"));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO accounts (holder, expires_at, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![holder, expires_at.map(ts), ts(at)])?;
        let id = self.conn.last_insert_rowid();
        Ok(Applied::new(
            Outcome::Account(self.account_view(id, at)?),
            vec![Event::AccountOpened {
                account: id,
                holder: holder.to_string(),
                expires_at: expires_at.map(ts),
            }],
            vec![],
        ))
    }

    pub(crate) fn top_up(
        &mut self,
        job: &Job,
        account: i64,
        method: PaymentMethod,
        amount: Decimal,
    ) -> Result<Applied> {
        let amount = self.check_amount(amount)?;
        if method == PaymentMethod::Prepaid {
            return Err(Error::invalid(
                "top up with cash, card, mobile or UPI, not from the account itself",
            ));
        }
        let (_, balance, expires) = self.account(account)?;
        if expires.is_some_and(|e| e <= job.at) {
            return Err(Error::conflict(format!(
                "prepaid account {account} has expired; open a new one"
            )));
        }
        let shift = self.cash_shift(job, method)?;
        let balance = balance + amount;
        self.conn
            .prepare_cached("UPDATE accounts SET balance = ?2 WHERE id = ?1")?
            .execute(params![account, balance.to_string()])?;
        self.conn
            .prepare_cached(
                "INSERT INTO account_moves (account_id, kind, amount, balance, at, actor, method, shift_id) VALUES (?1, 'top_up', ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![account, amount.to_string(), balance.to_string(), ts(job.at), job.actor.name, method.as_str(), shift])?;
        Ok(Applied::new(
            Outcome::Account(self.account_view(account, job.at)?),
            vec![Event::AccountToppedUp {
                account,
                method,
                amount: amount.to_string(),
                balance: balance.to_string(),
                shift,
            }],
            vec![],
        ))
    }

    pub(crate) fn pay_from_account(
        &mut self,
        job: &Job,
        r: &StayRef,
        account: i64,
    ) -> Result<Applied> {
        let (_, balance, expires) = self.account(account)?;
        if let Some(e) = expires
            && e <= job.at
        {
            return Err(Error::conflict(format!(
                "prepaid account {account} expired at {}; pay another way",
                self.ctx.local(e)
            )));
        }
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        let due = quote_stay(&self.ctx, &stay, job.at).total.amount;
        if due > balance {
            return Err(Error::conflict(format!(
                "prepaid account {account} holds {balance}, less than the {due} owed; top it up or pay another way"
            )));
        }
        let mut applied = self.pay(
            job,
            &StayRef::Ticket(stay.ticket()),
            PaymentMethod::Prepaid,
            due,
            None,
            Some(account),
        )?;
        let Outcome::Paid(paid) = &mut applied.outcome else {
            return Err(Error::storage("a prepaid payment did not record a payment"));
        };
        let balance = balance - due;
        self.conn
            .prepare_cached("UPDATE accounts SET balance = ?2 WHERE id = ?1")?
            .execute(params![account, balance.to_string()])?;
        self.conn
            .prepare_cached(
                "INSERT INTO account_moves (account_id, kind, amount, balance, stay_id, at, actor, method) VALUES (?1, 'debit', ?2, ?3, ?4, ?5, ?6, 'prepaid')",
            )?
            .execute(params![account, due.to_string(), balance.to_string(), stay.id, ts(job.at), job.actor.name])?;
        paid.warnings = self.account_view(account, job.at)?.warnings;
        applied.events.push(Event::AccountDebited {
            account,
            stay: stay.id,
            payment: paid.payment,
            amount: due.to_string(),
            balance: balance.to_string(),
        });
        Ok(applied)
    }

    // ---- vouchers ----------------------------------------------------------------------------

    pub(crate) fn issue_voucher(
        &mut self,
        at: DateTime<Utc>,
        req: &VoucherRequest,
    ) -> Result<Applied> {
        let merchant = req.merchant.trim();
        if merchant.is_empty() || merchant.len() > 120 {
            return Err(Error::invalid(
                "a voucher needs the merchant's name (1 to 120 characters)",
            ));
        }
        match (req.free_minutes, req.percent_off) {
            (Some(m), None) if (1..=24 * 60).contains(&m) => {}
            (None, Some(p)) if (1..=100).contains(&p) => {}
            (Some(_), Some(_)) | (None, None) => {
                return Err(Error::invalid(
                    "a voucher gives either free minutes (--minutes) or a percentage off (--percent), not both",
                ));
            }
            _ => {
                return Err(Error::invalid(
                    "free minutes are 1 to 1440; a percentage off is 1 to 100",
                ));
            }
        }
        if req.valid_to.is_some_and(|v| v <= at) {
            return Err(Error::invalid("the voucher's expiry must be in the future"));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO vouchers (merchant, free_minutes, percent_off, valid_to, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![merchant, req.free_minutes, req.percent_off, req.valid_to.map(ts), ts(at)])?;
        let id = self.conn.last_insert_rowid();
        let qr = self.ctx.voucher_signer.payload(id as u32);
        Ok(Applied::new(
            Outcome::Voucher(VoucherIssued {
                id,
                merchant: merchant.to_string(),
                free_minutes: req.free_minutes,
                percent_off: req.percent_off,
                valid_to: req.valid_to,
                qr,
            }),
            vec![Event::VoucherIssued {
                voucher: id,
                merchant: merchant.to_string(),
                free_minutes: req.free_minutes,
                percent_off: req.percent_off,
                valid_to: req.valid_to.map(ts),
            }],
            vec![],
        ))
    }

    pub(crate) fn apply_voucher(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        text: &str,
    ) -> Result<Applied> {
        let id = i64::from(self.ctx.voucher_signer.verify(text.trim()).map_err(|_| {
            Error::new(
                ErrorKind::TicketForged,
                "this is not a voucher of this lot (forged, altered, mistyped or another lot's); ask the merchant for a new one",
            )
        })?);
        type VoucherRow = (Option<u32>, Option<u32>, Option<String>, Option<i64>);
        let (minutes, percent, valid_to, used): VoucherRow = self
            .conn
            .prepare_cached(
                "SELECT free_minutes, percent_off, valid_to, used_stay FROM vouchers WHERE id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?
            .ok_or_else(|| Error::not_found(format!("voucher {id} is not known to this lot")))?;
        if let Some(s) = used {
            return Err(Error::new(
                ErrorKind::TicketUsed,
                format!(
                    "voucher {id} was already used (ticket {}); a voucher is good for one stay",
                    crate::ticket::ticket_number(s as u32)
                ),
            ));
        }
        if let Some(v) = valid_to.as_deref().map(parse_ts).transpose()?
            && at >= v
        {
            return Err(Error::conflict(format!(
                "voucher {id} expired at {}",
                self.ctx.local(v)
            )));
        }
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        let has: Option<i64> = self
            .conn
            .prepare_cached("SELECT voucher_id FROM stays WHERE id = ?1")?
            .query_row([stay.id], |r| r.get(0))?;
        if has.is_some() {
            return Err(Error::conflict(format!(
                "ticket {} already has a voucher; one voucher per stay",
                stay.ticket()
            )));
        }
        self.conn
            .prepare_cached(
                "UPDATE stays SET voucher_id = ?2, voucher_minutes = ?3, voucher_percent = ?4 WHERE id = ?1",
            )?
            .execute(params![stay.id, id, minutes, percent])?;
        self.conn
            .prepare_cached("UPDATE vouchers SET used_stay = ?2, used_at = ?3 WHERE id = ?1")?
            .execute(params![id, stay.id, ts(at)])?;
        let after = crate::stays::stay_by_id(&self.conn, stay.id)?
            .ok_or_else(|| Error::storage("the stay vanished while the voucher was applied"))?;
        let q = quote_stay(&self.ctx, &after, at);
        Ok(Applied::new(
            recorded(
                "voucher applied",
                Some(id),
                format!(
                    "voucher {id} applied to ticket {}: {} now owed",
                    stay.ticket(),
                    q.total
                ),
            ),
            vec![Event::VoucherApplied {
                voucher: id,
                stay: stay.id,
            }],
            vec![],
        ))
    }

    // ---- watchlist ---------------------------------------------------------------------------

    pub(crate) fn watchlist_hit(&self, plate: &Plate) -> Result<Option<(WatchAction, String)>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT action, note FROM watchlist WHERE plate = ?1")?
            .query_row([plate.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(a, n)| Ok((WatchAction::parse(&a)?, n)))
            .transpose()
    }

    pub(crate) fn watch(
        &mut self,
        job: &Job,
        plate: &Plate,
        action: Option<WatchAction>,
        note: &str,
    ) -> Result<Applied> {
        match action {
            Some(a) => {
                if note.trim().is_empty() {
                    return Err(Error::invalid(
                        "say why the plate is watched (--note); attendants see it at the alert",
                    ));
                }
                self.conn
                    .prepare_cached(
                        "INSERT INTO watchlist (plate, action, note, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (plate) DO UPDATE SET action = ?2, note = ?3, added_at = ?4, added_by = ?5",
                    )?
                    .execute(params![plate.as_str(), a.as_str(), note.trim(), ts(job.at), job.actor.name])?;
            }
            None => {
                let n = self
                    .conn
                    .prepare_cached("DELETE FROM watchlist WHERE plate = ?1")?
                    .execute([plate.as_str()])?;
                if n == 0 {
                    return Err(Error::not_found(format!(
                        "plate {plate} is not on the watchlist"
                    )));
                }
            }
        }
        Ok(Applied::new(
            recorded(
                "watchlist",
                None,
                match action {
                    Some(a) => format!("plate {plate} is watched: {}", a.as_str()),
                    None => format!("plate {plate} is off the watchlist"),
                },
            ),
            vec![Event::WatchlistChanged {
                plate: plate.to_string(),
                action: action.map(|a| a.as_str().to_string()),
                note: note.trim().to_string(),
            }],
            vec![],
        ))
    }
}

/// Prepaid accounts, for lists, with their warnings as of `at`.
pub fn list_accounts(
    conn: &rusqlite::Connection,
    ctx: &crate::stays::LotContext,
    at: DateTime<Utc>,
) -> Result<Vec<AccountView>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, holder, balance, expires_at FROM accounts ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, holder, balance, expires) = row?;
        let expires = expires.as_deref().map(parse_ts).transpose()?;
        out.push(account_view(ctx, id, holder, dec(&balance)?, expires, at));
    }
    Ok(out)
}

/// A merchant voucher as listed for staff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoucherListed {
    pub id: i64,
    pub merchant: String,
    pub free_minutes: Option<u32>,
    pub percent_off: Option<u32>,
    pub valid_to: Option<DateTime<Utc>>,
    /// The ticket of the stay it was used on.
    pub used_on: Option<String>,
    /// The signed code printed on the voucher.
    pub qr: String,
}

/// Merchant vouchers, newest first.
pub fn list_vouchers(
    conn: &rusqlite::Connection,
    ctx: &crate::stays::LotContext,
    limit: u32,
) -> Result<Vec<VoucherListed>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, merchant, free_minutes, percent_off, valid_to, used_stay FROM vouchers ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<u32>>(2)?,
            r.get::<_, Option<u32>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, merchant, free_minutes, percent_off, valid_to, used) = row?;
        out.push(VoucherListed {
            id,
            merchant,
            free_minutes,
            percent_off,
            valid_to: valid_to.as_deref().map(parse_ts).transpose()?,
            used_on: used.map(|s| crate::ticket::ticket_number(s as u32)),
            qr: ctx.voucher_signer.payload(id as u32),
        });
    }
    Ok(out)
}

/// Permits, for lists.
pub fn list_permits(conn: &rusqlite::Connection) -> Result<Vec<serde_json::Value>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.kind, p.holder, p.card, p.valid_from, p.valid_to, p.levels, p.hours, p.max_inside, p.revoked_at, (SELECT group_concat(plate, ' ') FROM permit_plates WHERE permit_id = p.id), (SELECT COUNT(*) FROM stays WHERE permit_id = p.id AND exit_at IS NULL) FROM permits p ORDER BY p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(serde_json::json!({
            "id": r.get::<_, i64>(0)?,
            "kind": r.get::<_, String>(1)?,
            "holder": r.get::<_, String>(2)?,
            "card": r.get::<_, Option<String>>(3)?,
            "valid_from": r.get::<_, String>(4)?,
            "valid_to": r.get::<_, String>(5)?,
            "levels": r.get::<_, String>(6)?,
            "hours": r.get::<_, Option<String>>(7)?,
            "max_inside": r.get::<_, i64>(8)?,
            "revoked_at": r.get::<_, Option<String>>(9)?,
            "plates": r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            "inside": r.get::<_, i64>(11)?,
        }))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
