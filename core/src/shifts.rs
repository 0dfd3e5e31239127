//! Cashier shifts: a float in, cash payments and refunds accrue, counted cash out, and the
//! Z-report that shows over or short.

use crate::command as req;
use crate::domain::{PaymentMethod, Role};
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::LotContext;
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Handle, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShiftView {
    pub id: i64,
    pub cashier: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub float: String,
    /// Float plus cash taken, less cash refunded.
    pub expected: String,
    pub counted: Option<String>,
    /// Counted less expected: positive is over, negative short.
    pub over_short: Option<String>,
    pub currency: String,
}

/// One line of the Z-report: a method and kind with its count and sum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZLine {
    pub kind: String,
    pub method: String,
    pub count: i64,
    pub total: String,
}

/// The Z-report of a shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZReport {
    pub lot: String,
    pub shift: ShiftView,
    pub opened_local: String,
    pub closed_local: Option<String>,
    pub lines: Vec<ZLine>,
    pub cash_in: String,
    pub cash_out: String,
}

fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s)
        .map_err(|_| Error::storage(format!("the database holds a malformed amount '{s}'")))
}

/// Cash payments, refunds and top-ups of a shift: (in, out).
fn cash_moves(conn: &Connection, shift: i64) -> Result<(Decimal, Decimal)> {
    let mut cash_in = Decimal::ZERO;
    let mut cash_out = Decimal::ZERO;
    let mut stmt = conn.prepare_cached(
        "SELECT kind, amount FROM payments WHERE shift_id = ?1 AND method = 'cash'",
    )?;
    for r in stmt.query_map([shift], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (kind, amount) = r?;
        if kind == "refund" {
            cash_out = add(cash_out, dec(&amount)?, shift)?;
        } else {
            cash_in = add(cash_in, dec(&amount)?, shift)?;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT amount FROM account_moves WHERE shift_id = ?1 AND method = 'cash' AND kind = 'top_up'",
    )?;
    for r in stmt.query_map([shift], |r| r.get::<_, String>(0))? {
        cash_in = add(cash_in, dec(&r?)?, shift)?;
    }
    Ok((cash_in, cash_out))
}

/// A shift's running sum, refused (not a panic) past what a decimal holds.
fn add(sum: Decimal, amount: Decimal, shift: i64) -> Result<Decimal> {
    sum.checked_add(amount).ok_or_else(|| {
        Error::conflict(format!(
            "shift {shift}'s cash sums past the largest amount Gatehouse can record; a supervisor must check its payments and top-ups"
        ))
    })
}

pub fn shift_view(conn: &Connection, ctx: &LotContext, id: i64) -> Result<ShiftView> {
    type Row = (String, String, String, Option<String>, Option<String>);
    let (cashier, opened, float, closed, counted): Row = conn
        .prepare_cached(
            "SELECT cashier, opened_at, float, closed_at, counted FROM shifts WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no shift {id}")))?;
    let float = dec(&float)?;
    let (cash_in, cash_out) = cash_moves(conn, id)?;
    let expected = float
        .checked_add(cash_in)
        .and_then(|e| e.checked_sub(cash_out))
        .ok_or_else(|| {
            Error::conflict(format!(
                "shift {id}'s expected cash is past the largest amount Gatehouse can record; a supervisor must check its payments"
            ))
        })?;
    let counted = counted.as_deref().map(dec).transpose()?;
    Ok(ShiftView {
        id,
        cashier,
        opened_at: parse_ts(&opened)?,
        closed_at: closed.as_deref().map(parse_ts).transpose()?,
        float: float.to_string(),
        expected: expected.to_string(),
        counted: counted.map(|c| c.to_string()),
        over_short: counted.map(|c| (c - expected).to_string()),
        currency: ctx.config.lot.currency.to_string(),
    })
}

/// The Z-report of a shift: every payment, refund and top-up it took, by method.
pub fn z_report(conn: &Connection, ctx: &LotContext, id: i64) -> Result<ZReport> {
    let shift = shift_view(conn, ctx, id)?;
    let mut lines = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT kind, method, COUNT(*), group_concat(amount, ' ') FROM payments WHERE shift_id = ?1 GROUP BY kind, method ORDER BY kind, method",
    )?;
    let mut push = |kind: String, method: String, n: i64, amounts: String| -> Result<()> {
        let mut total = Decimal::ZERO;
        for a in amounts.split(' ').filter(|a| !a.is_empty()) {
            total += dec(a)?;
        }
        lines.push(ZLine {
            kind,
            method,
            count: n,
            total: total.to_string(),
        });
        Ok(())
    };
    let rows: Vec<(String, String, i64, String)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (k, m, n, a) in rows {
        push(k, m, n, a)?;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT method, COUNT(*), group_concat(amount, ' ') FROM account_moves WHERE shift_id = ?1 AND kind = 'top_up' GROUP BY method ORDER BY method",
    )?;
    let rows: Vec<(String, i64, String)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (m, n, a) in rows {
        push("top_up".into(), m, n, a)?;
    }
    let (cash_in, cash_out) = cash_moves(conn, id)?;
    Ok(ZReport {
        lot: ctx.config.lot.name.clone(),
        opened_local: ctx.local(shift.opened_at),
        closed_local: shift.closed_at.map(|c| ctx.local(c)),
        shift,
        lines,
        cash_in: cash_in.to_string(),
        cash_out: cash_out.to_string(),
    })
}

/// Columns of a receipt printer's line.
pub const RECEIPT_WIDTH: usize = 42;

/// A receipt line: `left` and `right` at either end of the printer's width.
pub fn receipt_row(left: &str, right: &str) -> String {
    let pad = RECEIPT_WIDTH
        .saturating_sub(left.chars().count() + right.chars().count())
        .max(1);
    format!("{left}{}{right}\n", " ".repeat(pad))
}

impl ZReport {
    /// The Z-report as a receipt printer prints it: 42 columns.
    pub fn receipt_text(&self) -> String {
        const W: usize = RECEIPT_WIDTH;
        let row = receipt_row;
        let rule = format!("{}\n", "-".repeat(W));
        let s = &self.shift;
        let mut out = String::new();
        out.push_str(&format!(
            "{:^W$}\n",
            self.lot.chars().take(W).collect::<String>()
        ));
        out.push_str(&format!("{:^W$}\n", format!("Z-REPORT  SHIFT {}", s.id)));
        out.push_str(&rule);
        out.push_str(&row("Cashier", &s.cashier));
        out.push_str(&row("Opened", &self.opened_local));
        out.push_str(&row(
            "Closed",
            self.closed_local.as_deref().unwrap_or("(still open)"),
        ));
        out.push_str(&rule);
        for l in &self.lines {
            let label = format!("{} {} x{}", l.kind.replace('_', "-"), l.method, l.count);
            out.push_str(&row(&label, &l.total));
        }
        if self.lines.is_empty() {
            out.push_str("no payments\n");
        }
        out.push_str(&rule);
        out.push_str(&row("Float", &s.float));
        out.push_str(&row("Cash in", &self.cash_in));
        out.push_str(&row("Cash out (refunds)", &self.cash_out));
        out.push_str(&row(
            &format!("Expected cash ({})", s.currency),
            &s.expected,
        ));
        out.push_str(&row("Counted cash", s.counted.as_deref().unwrap_or("-")));
        let os = s.over_short.as_deref().unwrap_or("-");
        let label = match s
            .over_short
            .as_deref()
            .and_then(|v| Decimal::from_str(v).ok())
        {
            Some(v) if v > Decimal::ZERO => "OVER",
            Some(v) if v < Decimal::ZERO => "SHORT",
            Some(_) => "Balanced",
            None => "Over/short",
        };
        out.push_str(&row(label, os));
        out.push_str(&rule);
        out
    }
}

impl Tx<'_> {
    fn open_shift_of(&self, cashier: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM shifts WHERE cashier = ?1 AND closed_at IS NULL")?
            .query_row([cashier], |r| r.get(0))
            .optional()?)
    }

    /// The shift cash accrues to: a person taking or giving cash needs an open shift; lanes and
    /// pay stations keep their own cash boxes.
    pub(crate) fn cash_shift(&self, job: &Job, method: PaymentMethod) -> Result<Option<i64>> {
        if method != PaymentMethod::Cash || job.actor.role == Role::System {
            return Ok(None);
        }
        match self.open_shift_of(&job.actor.name)? {
            Some(id) => Ok(Some(id)),
            None => Err(Error::conflict(format!(
                "{} has no open shift; open one with its float (gatehouse shift open --float AMOUNT) before handling cash",
                job.actor.name
            ))),
        }
    }

    pub(crate) fn open_shift(&mut self, job: &Job, float: Decimal) -> Result<Applied> {
        if float < Decimal::ZERO {
            return Err(Error::invalid("the float cannot be negative"));
        }
        let float = if float.is_zero() {
            float
        } else {
            self.check_amount(float, crate::payments::AmountFor::Float)?
        };
        if let Some(id) = self.open_shift_of(&job.actor.name)? {
            return Err(Error::conflict(format!(
                "{} already has shift {id} open; close it first",
                job.actor.name
            )));
        }
        self.conn
            .prepare_cached("INSERT INTO shifts (cashier, opened_at, float) VALUES (?1, ?2, ?3)")?
            .execute(params![job.actor.name, ts(job.at), float.to_string()])?;
        let id = self.conn.last_insert_rowid();
        Ok(Applied::new(
            Outcome::Shift(shift_view(self.conn, self.ctx, id)?),
            vec![Event::ShiftOpened {
                shift: id,
                cashier: job.actor.name.clone(),
                float: float.to_string(),
            }],
            vec![],
        ))
    }

    pub(crate) fn close_shift(&mut self, job: &Job, counted: Decimal) -> Result<Applied> {
        if counted < Decimal::ZERO {
            return Err(Error::invalid("the counted cash cannot be negative"));
        }
        let cur = self.ctx.config.lot.currency;
        if counted.normalize().scale() > cur.minor_units() {
            return Err(Error::invalid(format!(
                "{counted} has more decimals than {cur} allows"
            )));
        }
        let id = self.open_shift_of(&job.actor.name)?.ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                format!("{} has no open shift to close", job.actor.name),
            )
        })?;
        let before = shift_view(self.conn, self.ctx, id)?;
        self.conn
            .prepare_cached(
                "UPDATE shifts SET closed_at = ?2, counted = ?3, expected = ?4 WHERE id = ?1",
            )?
            .execute(params![
                id,
                ts(job.at),
                counted.to_string(),
                before.expected
            ])?;
        let view = shift_view(self.conn, self.ctx, id)?;
        Ok(Applied::new(
            Outcome::Shift(view.clone()),
            vec![Event::ShiftClosed {
                shift: id,
                cashier: job.actor.name.clone(),
                expected: view.expected.clone(),
                counted: counted.to_string(),
                over_short: view.over_short.clone().unwrap_or_default(),
            }],
            vec![],
        ))
    }
}

impl Handle for req::OpenShift {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::OpenShift { float } = self;
        tx.open_shift(job, *float)
    }
}

impl Handle for req::CloseShift {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::CloseShift { counted } = self;
        tx.close_shift(job, *counted)
    }
}
