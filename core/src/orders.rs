//! Orders from the shared server (docs/design.md, Sync): an online reservation or its cancellation, a
//! permit issued or revoked, a tariff published, a watchlist change; applied exactly once and in
//! the server's order, with the server's authority (the lot's permission table is for its own
//! staff and devices). The lot is the authority on its own capacity:
//! an order it cannot honour is refused with the reason, and either way the decision is journaled
//! (`order_applied`), which is how it travels back up to the server.

use crate::command as req;
use crate::engine::{Command, Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::store::ts;
use crate::tx::{Applied, Handle, Tx};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// The lot's decision on a server order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderDecision {
    pub order_seq: i64,
    pub order_id: String,
    /// accepted | refused
    pub status: String,
    pub reason: Option<String>,
    /// An accepted reservation's code.
    pub reservation: Option<String>,
    /// An accepted permit's id.
    pub permit: Option<i64>,
    /// The order had been applied before: this is that decision, and nothing changed now.
    pub replayed: bool,
}

/// The last server order applied (0 before the first).
pub fn last_applied(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM server_orders", [], |r| {
            r.get(0)
        })?,
    )
}

/// The permit an accepted server order issued, by the order's id.
pub fn permit_of(conn: &rusqlite::Connection, order_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT permit FROM server_orders WHERE id = ?1",
            params![order_id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// The reservation an accepted server order made, by the order's id.
pub fn reservation_of(conn: &rusqlite::Connection, order_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT reservation FROM server_orders WHERE id = ?1",
            params![order_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

fn decision(conn: &rusqlite::Connection, seq: i64) -> Result<Option<OrderDecision>> {
    Ok(conn
        .query_row(
            "SELECT id, status, reason, reservation, permit FROM server_orders WHERE seq = ?1",
            params![seq],
            |r| {
                Ok(OrderDecision {
                    order_seq: seq,
                    order_id: r.get(0)?,
                    status: r.get(1)?,
                    reason: r.get(2)?,
                    reservation: r.get(3)?,
                    permit: r.get(4)?,
                    replayed: true,
                })
            },
        )
        .optional()?)
}

impl Tx<'_> {
    pub(crate) fn apply_order(
        &mut self,
        job: &Job,
        seq: i64,
        id: &str,
        order: &std::result::Result<Box<Command>, String>,
    ) -> Result<Applied> {
        let last = last_applied(self.conn)?;
        if seq <= last {
            return match decision(self.conn, seq)? {
                Some(d) if d.order_id == id => Ok(Applied::new(Outcome::Order(d), vec![], vec![])),
                Some(d) => Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "server order {seq} was applied here as order {}, not {id}; the server's order stream does not match this lot's",
                        d.order_id
                    ),
                )),
                None => Err(Error::new(
                    ErrorKind::Conflict,
                    format!("server order {seq} is before the last applied ({last}) but unknown"),
                )),
            };
        }
        if seq != last + 1 {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "server order {seq} arrived before order {}; orders are applied in order",
                    last + 1
                ),
            ));
        }
        let order = match order {
            Ok(c) => c,
            Err(why) => return self.decide_order(job, seq, id, None, Some(why.clone())),
        };
        if !matches!(
            **order,
            Command::Reserve(_)
                | Command::CancelReservation(req::CancelReservation { .. })
                | Command::IssuePermit(_)
                | Command::RevokePermit(req::RevokePermit { .. })
                | Command::PublishTariff(_)
                | Command::Watch(req::Watch { .. })
        ) {
            return Err(Error::invalid(
                "a server order may book or cancel a reservation, issue or revoke a permit, publish a tariff or change the watchlist; nothing else",
            ));
        }
        let inner = Job::detached(job.actor.clone(), job.at, (**order).clone());
        self.conn.execute_batch("SAVEPOINT server_order")?;
        // The server's authority: the order is not checked against the sync actor's role.
        let tried = inner.command.handle(self, &inner);
        let (kept, reason) = match tried {
            Ok(a) if a.refused.is_none() => {
                self.conn.execute_batch("RELEASE server_order")?;
                (Some(a), None)
            }
            refused => {
                self.conn
                    .execute_batch("ROLLBACK TO server_order; RELEASE server_order")?;
                let why = match refused {
                    Ok(a) => a.refused.map(|e| e.message),
                    // The lot could not decide (its database failed): no decision to journal;
                    // the order comes again.
                    Err(e)
                        if matches!(
                            e.kind,
                            ErrorKind::Storage | ErrorKind::Journal | ErrorKind::Unavailable
                        ) =>
                    {
                        return Err(e);
                    }
                    Err(e) => Some(e.message),
                };
                (None, why)
            }
        };
        self.decide_order(job, seq, id, kept, reason)
    }

    /// Records the decision on order `seq`: `kept` is the applied command (accepted), else it
    /// was refused for `reason`.
    fn decide_order(
        &mut self,
        job: &Job,
        seq: i64,
        id: &str,
        kept: Option<Applied>,
        reason: Option<String>,
    ) -> Result<Applied> {
        let (reservation, permit) = match kept.as_ref().map(|a| &a.outcome) {
            Some(Outcome::Reservation(r)) => (Some(r.code.clone()), None),
            Some(Outcome::Permit(p)) => (None, Some(p.id)),
            _ => (None, None),
        };
        let status = if kept.is_some() {
            "accepted"
        } else {
            "refused"
        };
        self.conn.execute(
            "INSERT INTO server_orders (seq, id, status, reason, reservation, permit, applied_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![seq, id, status, reason, reservation, permit, ts(job.at)],
        )?;
        let (mut events, effects) = kept.map(|a| (a.events, a.effects)).unwrap_or_default();
        events.push(Event::OrderApplied {
            order_seq: seq,
            order_id: id.to_string(),
            status: status.to_string(),
            reason: reason.clone(),
            reservation: reservation.clone(),
            permit,
        });
        let d = OrderDecision {
            order_seq: seq,
            order_id: id.to_string(),
            status: status.to_string(),
            reason,
            reservation,
            permit,
            replayed: false,
        };
        Ok(Applied::new(Outcome::Order(d), events, effects))
    }
}

impl Handle for req::ApplyOrder {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::ApplyOrder { seq, id, order } = self;
        tx.apply_order(job, *seq, id, order)
    }
}
