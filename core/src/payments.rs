//! Payments and refunds towards a stay: amounts checked, idempotency keys replayed, cash inside
//! the person's shift.

use crate::command as req;
use crate::domain::PaymentMethod;
use crate::engine::{Job, Outcome, random_bytes};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::stays::{StayRef, StayRow, ensure_inside, find_inside, quote_stay, stay_of_ticket};
use crate::store::ts;
use crate::ticket::ticket_number;
use crate::tx::{Applied, Handle, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paid {
    pub payment: i64,
    pub stay: i64,
    pub ticket: String,
    pub method: PaymentMethod,
    /// What was applied to the stay.
    pub amount: String,
    pub tendered: String,
    pub change: String,
    /// Still owed after this payment.
    pub due: String,
    pub currency: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<DateTime<Utc>>,
    /// True when this was a retry of an already recorded payment: nothing was charged again.
    pub replayed: bool,
    /// Prepaid account warnings (low balance, expiry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refunded {
    pub payment: i64,
    pub stay: i64,
    pub ticket: String,
    pub method: PaymentMethod,
    pub amount: String,
    pub paid: String,
    pub currency: String,
    pub replayed: bool,
}

/// What an amount is for, and so which of the lot's `[limits]` bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmountFor {
    Payment,
    Refund,
    Float,
    TopUp,
}

impl Tx<'_> {
    /// An amount of the lot's currency, above zero, in its minor units and within the lot's
    /// limit for what it is for.
    pub(crate) fn check_amount(&self, amount: Decimal, purpose: AmountFor) -> Result<Decimal> {
        let cur = self.ctx.config.lot.currency;
        if amount <= Decimal::ZERO {
            return Err(Error::invalid(format!(
                "the amount must be above zero (got {amount})"
            )));
        }
        if amount.normalize().scale() > cur.minor_units() {
            return Err(Error::invalid(format!(
                "{amount} has more decimals than {cur} allows"
            )));
        }
        let policies = &self.ctx.config.policies;
        let (max, what, field) = match purpose {
            AmountFor::Payment => (policies.max_payment, "payment", "max_payment"),
            AmountFor::Refund => (policies.max_payment, "refund", "max_payment"),
            AmountFor::Float => (policies.max_payment, "shift float", "max_payment"),
            AmountFor::TopUp => (policies.max_top_up, "top-up", "max_top_up"),
        };
        if amount > max {
            return Err(Error::invalid(format!(
                "{amount} {cur} is more than this lot takes as one {what} ({max} {cur}, [limits] {field} in the lot's configuration); nothing was recorded"
            )));
        }
        Ok(cur.round(amount))
    }

    /// An earlier payment or refund with this key: the same request again, or a conflict.
    fn replay(
        &self,
        key: &str,
        kind: &str,
        stay: i64,
        method: PaymentMethod,
        amount: Decimal,
    ) -> Result<Option<(i64, String, String, String)>> {
        type PaymentRow = (
            i64,
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<PaymentRow> = self
            .conn
            .prepare_cached("SELECT id, stay_id, kind, method, amount, tendered, change FROM payments WHERE idem_key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .optional()?;
        let Some((id, s, k, m, amt, tendered, change)) = row else {
            return Ok(None);
        };
        let given = tendered.clone().unwrap_or_else(|| amt.clone());
        let same = s == stay
            && k == kind
            && m == method.as_str()
            && Decimal::from_str_exact(&given).ok() == Some(amount);
        if !same {
            return Err(Error::conflict(format!(
                "key '{key}' was already used for another {k} ({m} {given} on ticket {}); use a new key for a new {kind}",
                ticket_number(s as u32)
            )));
        }
        Ok(Some((
            id,
            amt,
            tendered.unwrap_or_default(),
            change.unwrap_or_default(),
        )))
    }

    pub(crate) fn new_key(&self, key: Option<&str>) -> Result<String> {
        match key {
            Some(k) if !k.trim().is_empty() && k.len() <= 128 => Ok(k.trim().to_string()),
            Some(_) => Err(Error::invalid("an idempotency key is 1 to 128 characters")),
            None => Ok(format!("auto-{}", hex::encode(random_bytes::<16>()?))),
        }
    }

    pub(crate) fn pay(
        &mut self,
        job: &Job,
        r: &StayRef,
        method: PaymentMethod,
        amount: Decimal,
        key: Option<&str>,
        account: Option<i64>,
    ) -> Result<Applied> {
        let at = job.at;
        let amount = self.check_amount(amount, AmountFor::Payment)?;
        let key = self.new_key(key)?;
        // A retry of a recorded payment answers as before and changes nothing, even after exit.
        let stay = match r {
            StayRef::Ticket(t) => stay_of_ticket(self.conn, &self.ctx.signer, t)?,
            StayRef::Plate(_) | StayRef::Card(_) => find_inside(self.conn, self.ctx, r)?,
        };
        if let Some((id, applied, tendered, change)) =
            self.replay(&key, "payment", stay.id, method, amount)?
        {
            let q = quote_stay(self.ctx, &stay, at);
            return Ok(Applied {
                refused: None,
                outcome: Outcome::Paid(Paid {
                    payment: id,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    method,
                    amount: applied,
                    tendered,
                    change,
                    due: q.total.amount.to_string(),
                    currency: q.currency,
                    key,
                    grace_until: q.grace_until,
                    replayed: true,
                    warnings: vec![],
                }),
                events: vec![],
                effects: vec![],
            });
        }
        ensure_inside(self.ctx, &stay)?;
        let q = quote_stay(self.ctx, &stay, at);
        let due = q.total.amount;
        if due.is_zero() {
            return Err(Error::conflict(format!(
                "ticket {} owes nothing now{}; no payment taken",
                stay.ticket(),
                q.grace_until
                    .map(|g| format!(" (exit grace until {})", self.ctx.local(g)))
                    .unwrap_or_default()
            )));
        }
        let (applied, change) = if method == PaymentMethod::Cash {
            let applied = amount.min(due);
            (applied, amount - applied)
        } else {
            if amount > due {
                return Err(Error::conflict(format!(
                    "{} {amount} is more than the {} owed; charge {due} (only cash gives change)",
                    method.as_str(),
                    q.total
                )));
            }
            (amount, Decimal::ZERO)
        };
        let shift = self.cash_shift(job, method)?;
        let paid_total = stay.paid + applied;
        let settled = paid_total >= q.fee.amount;
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET paid = ?2, settled_at = CASE WHEN ?3 THEN ?4 ELSE settled_at END WHERE id = ?1")?
            .execute(params![stay.id, paid_total.to_string(), settled, at_s])?;
        self.conn
            .prepare_cached(
                "INSERT INTO payments (stay_id, idem_key, kind, method, amount, tendered, change, at, actor, shift_id, account_id) VALUES (?1, ?2, 'payment', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![stay.id, key, method.as_str(), applied.to_string(), amount.to_string(), change.to_string(), at_s, job.actor.name, shift, account])?;
        let payment = self.conn.last_insert_rowid();
        let after = StayRow {
            paid: paid_total,
            settled_at: if settled { Some(at) } else { stay.settled_at },
            ..stay.clone()
        };
        let q2 = quote_stay(self.ctx, &after, at);
        let due_after = q2.total.amount.to_string();
        Ok(Applied {
            refused: None,
            outcome: Outcome::Paid(Paid {
                payment,
                stay: stay.id,
                ticket: stay.ticket(),
                method,
                amount: applied.to_string(),
                tendered: amount.to_string(),
                change: change.to_string(),
                due: due_after.clone(),
                currency: q2.currency,
                key: key.clone(),
                grace_until: q2.grace_until,
                replayed: false,
                warnings: vec![],
            }),
            events: vec![Event::PaymentRecorded {
                stay: stay.id,
                ticket: stay.ticket(),
                payment,
                method,
                amount: applied.to_string(),
                tendered: amount.to_string(),
                change: change.to_string(),
                key,
                paid_total: paid_total.to_string(),
                due_after,
            }],
            effects: vec![],
        })
    }

    fn refund(
        &mut self,
        job: &Job,
        r: &StayRef,
        method: PaymentMethod,
        amount: Decimal,
        reason: &str,
        key: Option<&str>,
    ) -> Result<Applied> {
        let amount = self.check_amount(amount, AmountFor::Refund)?;
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "a refund needs a reason (--reason), for the audit trail",
            ));
        }
        let key = self.new_key(key)?;
        let stay = match r {
            StayRef::Ticket(t) => stay_of_ticket(self.conn, &self.ctx.signer, t)?,
            StayRef::Plate(_) | StayRef::Card(_) => find_inside(self.conn, self.ctx, r)?,
        };
        if let Some((id, applied, _, _)) = self.replay(&key, "refund", stay.id, method, amount)? {
            return Ok(Applied {
                refused: None,
                outcome: Outcome::Refunded(Refunded {
                    payment: id,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    method,
                    amount: applied,
                    paid: stay.paid.to_string(),
                    currency: self.ctx.config.lot.currency.to_string(),
                    replayed: true,
                }),
                events: vec![],
                effects: vec![],
            });
        }
        if amount > stay.paid {
            return Err(Error::conflict(format!(
                "cannot refund {amount}: ticket {} has {} paid in all",
                stay.ticket(),
                stay.paid
            )));
        }
        let shift = self.cash_shift(job, method)?;
        let paid_total = stay.paid - amount;
        let at_s = ts(job.at);
        // An exited stay keeps its record; one inside stays settled only if still covered.
        let keep_settled = !stay.inside()
            || paid_total >= crate::stays::stay_fee(self.ctx, &stay, job.at).total.amount;
        self.conn
            .prepare_cached("UPDATE stays SET paid = ?2, settled_at = CASE WHEN ?3 THEN settled_at ELSE NULL END WHERE id = ?1")?
            .execute(params![stay.id, paid_total.to_string(), keep_settled])?;
        self.conn
            .prepare_cached(
                "INSERT INTO payments (stay_id, idem_key, kind, method, amount, tendered, at, actor, note, shift_id) VALUES (?1, ?2, 'refund', ?3, ?4, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![stay.id, key, method.as_str(), amount.to_string(), at_s, job.actor.name, reason, shift])?;
        let payment = self.conn.last_insert_rowid();
        Ok(Applied {
            refused: None,
            outcome: Outcome::Refunded(Refunded {
                payment,
                stay: stay.id,
                ticket: stay.ticket(),
                method,
                amount: amount.to_string(),
                paid: paid_total.to_string(),
                currency: self.ctx.config.lot.currency.to_string(),
                replayed: false,
            }),
            events: vec![Event::PaymentRefunded {
                stay: stay.id,
                ticket: stay.ticket(),
                payment,
                method,
                amount: amount.to_string(),
                reason: reason.to_string(),
                key,
                paid_total: paid_total.to_string(),
            }],
            effects: vec![],
        })
    }
}

impl Handle for req::Pay {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::Pay {
            stay,
            method,
            amount,
            key,
        } = self;
        tx.pay(job, stay, *method, *amount, key.as_deref(), None)
    }
}

impl Handle for req::Refund {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::Refund {
            stay,
            method,
            amount,
            reason,
            key,
        } = self;
        tx.refund(job, stay, *method, *amount, reason, key.as_deref())
    }
}
