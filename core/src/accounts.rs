//! Prepaid accounts: opened for a holder, topped up, paying stays from their balance; the
//! account's signed card code pays at an exit.

use crate::command as req;
use crate::domain::PaymentMethod;
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{StayRef, find_inside, quote_stay};
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Handle, Tx};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::permits::dec;

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

impl Tx<'_> {
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
        Ok(account_view(self.ctx, id, holder, balance, expires_at, at))
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
        let amount = self.check_amount(amount, crate::payments::AmountFor::TopUp)?;
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
        let balance = balance.checked_add(amount).ok_or_else(|| {
            Error::invalid(format!(
                "a top-up of {amount} would take prepaid account {account} past the largest balance Gatehouse can record; nothing was topped up"
            ))
        })?;
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
        let stay = find_inside(self.conn, self.ctx, r)?;
        let due = quote_stay(self.ctx, &stay, job.at).total.amount;
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
}

impl Handle for req::PayFromAccount {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::PayFromAccount { stay, account } = self;
        tx.pay_from_account(job, stay, *account)
    }
}
impl Handle for req::OpenAccount {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::OpenAccount { holder, expires_at } = self;
        tx.open_account(at, holder, *expires_at)
    }
}
impl Handle for req::TopUpAccount {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::TopUpAccount {
            account,
            method,
            amount,
        } = self;
        tx.top_up(job, *account, *method, *amount)
    }
}
