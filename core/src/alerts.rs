//! Alerts for the attendant (watchlist hits, anti-passback, unpaid exit attempts, overstays),
//! acknowledged with who and when; and personal-data retention and erasure.

use crate::command as req;
use crate::domain::Plate;
use crate::engine::Job;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::personal;
use crate::store::ts;
use crate::tx::{Applied, Handle, Tx, recorded};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

impl Tx<'_> {
    /// Records an alert and returns its event.
    pub(crate) fn raise_alert(
        &self,
        kind: &str,
        message: &str,
        stay: Option<i64>,
        plate: Option<&str>,
        lane: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Event> {
        self.conn
            .prepare_cached(
                "INSERT INTO alerts (kind, message, stay_id, plate, lane, raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![kind, message, stay, plate, lane, ts(at)])?;
        Ok(Event::AlertRaised {
            alert: self.conn.last_insert_rowid(),
            alert_kind: kind.into(),
            message: message.into(),
            stay,
            plate: plate.map(str::to_string),
            lane: lane.map(str::to_string),
        })
    }

    pub(crate) fn ack_alert(&mut self, job: &Job, alert: i64, note: &str) -> Result<Applied> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE alerts SET acked_by = ?2, acked_at = ?3, ack_note = ?4 WHERE id = ?1 AND acked_at IS NULL",
            )?
            .execute(params![alert, job.actor.name, ts(job.at), note.trim()])?;
        if n == 0 {
            let exists: bool = self
                .conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?1)")?
                .query_row([alert], |r| r.get(0))?;
            return Err(if exists {
                Error::conflict(format!("alert {alert} was already acknowledged"))
            } else {
                Error::not_found(format!(
                    "there is no alert {alert}; `gatehouse alerts` lists the open ones"
                ))
            });
        }
        Ok(Applied::new(
            recorded(
                "alert acknowledged",
                Some(alert),
                format!("alert {alert} acknowledged by {}", job.actor.name),
            ),
            vec![Event::AlertAcknowledged {
                alert,
                note: note.trim().to_string(),
            }],
            vec![],
        ))
    }

    /// Retention: plates of stays that ended before `before` become keyed hashes.
    pub(crate) fn pseudonymise_plates(
        &mut self,
        at: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Applied> {
        if before > at {
            return Err(Error::invalid("the cut-off cannot be in the future"));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, plate FROM stays WHERE exit_at IS NOT NULL AND exit_at < ?1 AND plate IS NOT NULL AND plate NOT LIKE '#%'",
        )?;
        let rows: Vec<(i64, String)> = stmt
            .query_map([ts(before)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        for (id, plate) in &rows {
            let h = self.ctx.plate_hash(plate);
            self.conn
                .prepare_cached("UPDATE stays SET plate = ?2 WHERE id = ?1")?
                .execute(params![id, h])?;
            self.conn
                .prepare_cached(
                    "UPDATE alerts SET plate = ?2, message = replace(message, ?3, ?2) WHERE stay_id = ?1",
                )?
                .execute(params![id, h, plate])?;
        }
        let n = rows.len() as u64;
        personal::forget_unused_plates(self.conn)?;
        Ok(Applied::new(
            recorded(
                "plates pseudonymised",
                None,
                format!(
                    "{n} plates of stays ended before {} replaced by keyed hashes",
                    self.ctx.local(before)
                ),
            ),
            vec![Event::PlatesPseudonymised {
                stays: n,
                finished_before: ts(before),
            }],
            vec![],
        ))
    }

    /// Erasure on request: every record of this plate is replaced by its keyed hash.
    pub(crate) fn erase_plate(&mut self, plate: &Plate) -> Result<Applied> {
        let p = plate.as_str();
        let inside: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM stays WHERE plate = ?1 AND exit_at IS NULL)",
            )?
            .query_row([p], |r| r.get(0))?;
        if inside {
            return Err(Error::conflict(format!(
                "plate {plate} is inside now; erase its data after it has left"
            )));
        }
        let h = self.ctx.plate_hash(p);
        let n = |sql: &str| -> Result<u64> {
            Ok(self.conn.prepare_cached(sql)?.execute(params![p, h])? as u64)
        };
        let stays = n("UPDATE stays SET plate = ?2 WHERE plate = ?1")?;
        let reservations = n("UPDATE reservations SET plate = ?2 WHERE plate = ?1")?;
        let permits = n("UPDATE permit_plates SET plate = ?2 WHERE plate = ?1")?;
        let watchlist = n("DELETE FROM watchlist WHERE plate = ?1 OR plate = ?2")?;
        n("UPDATE alerts SET plate = ?2, message = replace(message, ?1, ?2) WHERE plate = ?1")?;
        personal::forget(self.conn, &h)?;
        // The names of the people behind this plate's permits and reservations go too.
        let holders: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT holder FROM permits WHERE id IN (SELECT permit_id FROM permit_plates WHERE plate = ?1)
                 UNION SELECT holder FROM reservations WHERE plate = ?1 AND holder IS NOT NULL",
            )?
            .query_map([&h], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let holders: Vec<&String> = holders.iter().filter(|n| !personal::is_token(n)).collect();
        for holder in &holders {
            let token = self.ctx.holder_token(holder);
            self.conn
                .prepare_cached("UPDATE permits SET holder = ?2 WHERE holder = ?1 AND id IN (SELECT permit_id FROM permit_plates WHERE plate = ?3)")?
                .execute(params![holder, token, h])?;
            self.conn
                .prepare_cached(
                    "UPDATE reservations SET holder = ?2 WHERE holder = ?1 AND plate = ?3",
                )?
                .execute(params![holder, token, h])?;
            personal::forget(self.conn, &token)?;
        }
        Ok(Applied::new(
            recorded(
                "erased",
                None,
                format!(
                    "plate {h}: {stays} stays, {reservations} reservations, {permits} permits, {watchlist} watchlist entries and {} holder names erased; the journal keeps only the token",
                    holders.len()
                ),
            ),
            vec![Event::PersonalDataErased {
                plate_hash: h,
                stays,
                reservations,
                permits,
                watchlist,
            }],
            vec![],
        ))
    }
}

/// An alert as lists show it. Times are the stored UTC text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub message: String,
    /// The stay it is about, if any.
    pub stay: Option<i64>,
    /// The plate (or, once pseudonymised, its token).
    pub plate: Option<String>,
    pub lane: Option<String>,
    pub raised_at: String,
    pub acked_by: Option<String>,
    pub acked_at: Option<String>,
    pub ack_note: Option<String>,
}

/// Alerts, newest first; only the open ones unless `all`.
pub fn list_alerts(conn: &Connection, all: bool) -> Result<Vec<AlertRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, message, stay_id, plate, lane, raised_at, acked_by, acked_at, ack_note FROM alerts WHERE ?1 OR acked_at IS NULL ORDER BY id DESC LIMIT 500",
    )?;
    let rows = stmt.query_map([all], |r| {
        Ok(AlertRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            message: r.get(2)?,
            stay: r.get(3)?,
            plate: r.get(4)?,
            lane: r.get(5)?,
            raised_at: r.get(6)?,
            acked_by: r.get(7)?,
            acked_at: r.get(8)?,
            ack_note: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Handle for req::AckAlert {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::AckAlert { alert, note } = self;
        tx.ack_alert(job, *alert, note)
    }
}

impl Handle for req::PseudonymisePlates {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::PseudonymisePlates { before } = self;
        tx.pseudonymise_plates(at, *before)
    }
}

impl Handle for req::ErasePlate {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        let req::ErasePlate { plate } = self;
        tx.erase_plate(plate)
    }
}
