//! Merchant vouchers: issued signed, taken against a stay for free minutes or a percentage.

use crate::command as req;
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{StayRef, find_inside, quote_stay};
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Handle, Tx, recorded};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

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

impl Tx<'_> {
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
        let stay = find_inside(self.conn, self.ctx, r)?;
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
        let after = crate::stays::stay_by_id(self.conn, stay.id)?
            .ok_or_else(|| Error::storage("the stay vanished while the voucher was applied"))?;
        let q = quote_stay(self.ctx, &after, at);
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
}

impl Handle for req::ApplyVoucher {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::ApplyVoucher { stay, voucher } = self;
        tx.apply_voucher(at, stay, voucher)
    }
}
impl Handle for VoucherRequest {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.issue_voucher(job.at, self)
    }
}
