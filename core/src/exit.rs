//! A vehicle leaves: exit (refused while anything is owed), exit owing, lost tickets, voids and
//! cancelled entries; the stay leaves its spot.

use crate::allocation::SpotState;
use crate::command as req;
use crate::config::LaneKind;
use crate::domain::{Plate, VehicleClass};
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{StayQuote, StayRef, StayRow, find_inside, quote_stay};
use crate::store::ts;
use crate::tx::{Applied, Effect, Handle, Tx, recorded};
use chrono::{DateTime, Utc};
use rusqlite::params;
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exited {
    pub stay: i64,
    pub ticket: String,
    pub plate: Option<String>,
    pub spot: Option<String>,
    pub lane: String,
    pub exit_at: DateTime<Utc>,
    pub minutes: i64,
    pub fee: String,
    pub paid: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostTicketOutcome {
    /// Whether the stay was found by plate (else the flat fee applies).
    pub found: bool,
    pub stay: i64,
    pub ticket: String,
    pub qr: String,
    pub quote: StayQuote,
}

/// How long after its entry a lane may still cancel a stay whose vehicle backed off.
pub const CANCEL_ENTRY_MINUTES: i64 = 10;

impl Tx<'_> {
    /// The vehicle leaves. With `owing` (the lane's reason), what is still owed is logged as
    /// unable to collect instead of refusing the exit.
    fn exit(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: Option<&str>,
        owing: Option<&str>,
    ) -> Result<Applied> {
        let (_, lane_id) = self.lane(lane, LaneKind::Exit)?;
        let stay = find_inside(self.conn, self.ctx, r)?;
        if stay.valet_fee.is_some() {
            return Err(Error::conflict(format!(
                "ticket {} is a valet car: the booth hands it back with its keys (valet return), which ends the stay",
                stay.ticket()
            )));
        }
        if at < stay.entry_at {
            return Err(Error::invalid(format!(
                "the exit time {} is before the entry at {}; check the clock or --at",
                self.ctx.local(at),
                self.ctx.local(stay.entry_at)
            )));
        }
        let q = quote_stay(self.ctx, &stay, at);
        let mut events = Vec::new();
        if let Some(reason) = owing
            && !q.total.is_zero()
        {
            let owed = q.total.amount.to_string();
            events.push(Event::ExitUncollected {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                lane: lane_id.clone(),
                owed: owed.clone(),
                reason: reason.trim().to_string(),
            });
            events.push(self.raise_alert(
                "uncollected",
                &format!(
                    "ticket {} left at lane {lane_id} owing {owed} {}: {}",
                    stay.ticket(),
                    q.currency,
                    reason.trim()
                ),
                Some(stay.id),
                stay.plate.as_deref(),
                Some(&lane_id),
                at,
            )?);
        } else if !q.total.is_zero() {
            let msg = format!(
                "ticket {} owes {} (stay of {} min, fee {}, paid {}); pay at a pay station or the booth, then exit",
                stay.ticket(),
                q.total,
                q.minutes,
                q.fee.amount,
                q.paid.amount
            );
            let alert = self.raise_alert(
                "unpaid_exit",
                &format!("unpaid exit attempt at lane {lane_id}: {msg}"),
                Some(stay.id),
                stay.plate.as_deref(),
                Some(&lane_id),
                at,
            )?;
            return Ok(Applied::refusal(
                Error::new(ErrorKind::Unpaid, msg),
                vec![alert],
            ));
        }
        for l in &q.lines {
            if matches!(
                l.kind,
                crate::tariff::LineKind::Paid | crate::tariff::LineKind::ExitGrace
            ) {
                continue;
            }
            self.conn
                .prepare_cached(
                    "INSERT INTO stay_lines (stay_id, kind, amount) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    stay.id,
                    l.kind.as_str(),
                    l.amount.amount.to_string()
                ])?;
        }
        // Staying past a reservation's or a permit's end is an overstay for the attendant.
        for (until, what) in [
            (stay.reserved_until, "its reservation ended"),
            (stay.permit_until, "its permit ended"),
        ] {
            if let Some(until) = until
                && at > until
            {
                let msg = format!(
                    "overstay: ticket {} left {} min after {what} ({})",
                    stay.ticket(),
                    (at - until).num_minutes(),
                    self.ctx.local(until)
                );
                events.push(self.raise_alert(
                    "overstay",
                    &msg,
                    Some(stay.id),
                    stay.plate.as_deref(),
                    Some(&lane_id),
                    at,
                )?);
            }
        }
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET exit_at = ?2, exit_lane = ?3 WHERE id = ?1")?
            .execute(params![stay.id, at_s, lane_id])?;
        let effects: Vec<Effect> = self.leave_spot(&stay, &at_s)?.into_iter().collect();
        // What the stay was charged: its fee less what the exit grace waived.
        let waived: Decimal = q
            .lines
            .iter()
            .filter(|l| l.kind == crate::tariff::LineKind::ExitGrace)
            .map(|l| -l.amount.amount)
            .sum();
        let fee = self.ctx.money(q.fee.amount - waived).amount.to_string();
        let paid = q.paid.amount.to_string();
        events.insert(
            0,
            Event::VehicleExited {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                spot: stay.spot.clone(),
                lane: lane_id.clone(),
                minutes: q.minutes,
                fee: fee.clone(),
                paid: paid.clone(),
            },
        );
        Ok(Applied {
            refused: None,
            outcome: Outcome::Exited(Exited {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                spot: stay.spot.clone(),
                lane: lane_id.clone(),
                exit_at: at,
                minutes: q.minutes,
                fee: fee.clone(),
                paid: paid.clone(),
                currency: q.currency.clone(),
            }),
            events,
            effects,
        })
    }

    /// The stay leaves its spot at `at_s` (exit, void, override): closes its spot history row
    /// and says how the spot's index changes (free again, or still out of service).
    pub(crate) fn leave_spot(&self, stay: &StayRow, at_s: &str) -> Result<Option<Effect>> {
        self.conn
            .prepare_cached(
                "UPDATE stay_spots SET to_at = ?2 WHERE stay_id = ?1 AND to_at IS NULL",
            )?
            .execute(params![stay.id, at_s])?;
        let Some(spot) = stay.spot.as_deref().and_then(|s| self.alloc.spot_index(s)) else {
            return Ok(None);
        };
        // The allocator knows: an occupied spot taken out of service is marked so at once.
        let in_service = self.alloc.state(spot) != SpotState::OutOfService;
        Ok(Some(Effect::Vacate(spot, in_service)))
    }

    fn lost_ticket(
        &mut self,
        at: DateTime<Utc>,
        plate: Option<&Plate>,
        class: VehicleClass,
    ) -> Result<Applied> {
        if let Some(p) = plate
            && let Some(stay) = crate::stays::stay_inside_by_plate(self.conn, p)?
        {
            self.conn
                .prepare_cached("UPDATE stays SET lost = 1 WHERE id = ?1")?
                .execute([stay.id])?;
            let q = quote_stay(self.ctx, &stay, at);
            return Ok(Applied {
                refused: None,
                outcome: Outcome::LostTicket(LostTicketOutcome {
                    found: true,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    qr: self.ctx.signer.payload(stay.id as u32),
                    quote: q,
                }),
                events: vec![Event::LostTicketStayFound {
                    stay: stay.id,
                    ticket: stay.ticket(),
                    plate: p.to_string(),
                }],
                effects: vec![],
            });
        }
        let fee = self.ctx.tariffs.at(at).lost_ticket_fee;
        let at_s = ts(at);
        self.conn
            .prepare_cached(
                "INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, flat_fee, lost) VALUES (?1, ?2, 0, 0, NULL, ?3, ?4, 1)",
            )?
            .execute(params![plate.map(Plate::as_str), class.as_str(), at_s, fee.to_string()])?;
        let id = self.conn.last_insert_rowid();
        let stay = crate::stays::stay_by_id(self.conn, id)?
            .ok_or_else(|| Error::storage("the lost-ticket stay vanished while it was written"))?;
        let q = quote_stay(self.ctx, &stay, at);
        Ok(Applied {
            refused: None,
            outcome: Outcome::LostTicket(LostTicketOutcome {
                found: false,
                stay: id,
                ticket: stay.ticket(),
                qr: self.ctx.signer.payload(id as u32),
                quote: q,
            }),
            events: vec![Event::LostTicketFlatFee {
                stay: id,
                ticket: stay.ticket(),
                plate: plate.map(|p| p.to_string()),
                class,
                fee: fee.to_string(),
            }],
            effects: vec![],
        })
    }

    fn void_stay(&mut self, at: DateTime<Utc>, r: &StayRef, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "a void needs a reason (--reason), for the audit trail",
            ));
        }
        let stay = find_inside(self.conn, self.ctx, r)?;
        if stay.paid > Decimal::ZERO {
            return Err(Error::conflict(format!(
                "ticket {} has {} paid; refund it first, then void",
                stay.ticket(),
                stay.paid
            )));
        }
        let effects = self.end_without_charge(at, &stay)?;
        Ok(Applied::new(
            recorded(
                "voided",
                Some(stay.id),
                format!("ticket {} voided: {}", stay.ticket(), reason.trim()),
            ),
            vec![Event::StayVoided {
                stay: stay.id,
                ticket: stay.ticket(),
                reason: reason.trim().to_string(),
            }],
            effects,
        ))
    }

    /// Ends a stay with nothing charged (void, cancelled entry): it leaves its spot.
    fn end_without_charge(&mut self, at: DateTime<Utc>, stay: &StayRow) -> Result<Vec<Effect>> {
        let at_s = ts(at.max(stay.entry_at));
        self.conn
            .prepare_cached("UPDATE stays SET exit_at = ?2, voided = 1 WHERE id = ?1")?
            .execute(params![stay.id, at_s])?;
        Ok(self.leave_spot(stay, &at_s)?.into_iter().collect())
    }

    fn cancel_entry(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: &str,
        reason: &str,
    ) -> Result<Applied> {
        let (_, lane_id) = self.lane(Some(lane), LaneKind::Entry)?;
        let stay = find_inside(self.conn, self.ctx, r)?;
        let minutes = (at - stay.entry_at).num_minutes();
        if stay.entry_lane.as_deref() != Some(lane_id.as_str())
            || minutes > CANCEL_ENTRY_MINUTES
            || stay.paid > Decimal::ZERO
        {
            return Err(Error::conflict(format!(
                "ticket {} cannot be cancelled by lane {lane_id}: only a stay that entered there in the last {CANCEL_ENTRY_MINUTES} minutes with nothing paid can be; a supervisor can void it",
                stay.ticket()
            )));
        }
        let effects = self.end_without_charge(at, &stay)?;
        Ok(Applied::new(
            recorded(
                "entry cancelled",
                Some(stay.id),
                format!(
                    "entry of ticket {} cancelled at lane {lane_id}: {}",
                    stay.ticket(),
                    reason.trim()
                ),
            ),
            vec![Event::EntryCancelled {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                lane: lane_id,
                reason: reason.trim().to_string(),
            }],
            effects,
        ))
    }

    fn exit_owing(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: Option<&str>,
        reason: &str,
    ) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "an exit owing needs the reason the money could not be collected",
            ));
        }
        self.exit(at, r, lane, Some(reason))
    }
}

impl Handle for req::Exit {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::Exit { stay, lane } = self;
        tx.exit(at, stay, lane.as_deref(), None)
    }
}

impl Handle for req::LostTicket {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::LostTicket { plate, class } = self;
        tx.lost_ticket(at, plate.as_ref(), *class)
    }
}

impl Handle for req::VoidStay {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::VoidStay { stay, reason } = self;
        tx.void_stay(at, stay, reason)
    }
}

impl Handle for req::CancelEntry {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::CancelEntry { stay, lane, reason } = self;
        tx.cancel_entry(at, stay, lane, reason)
    }
}

impl Handle for req::ExitOwing {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::ExitOwing { stay, lane, reason } = self;
        tx.exit_owing(at, stay, lane.as_deref(), reason)
    }
}
