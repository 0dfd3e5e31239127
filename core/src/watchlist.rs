//! The watchlist: plates the lot refuses or alerts on at entry.

use crate::command as req;
use crate::domain::Plate;
use crate::engine::Job;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::ts;
use crate::tx::{Applied, Handle, Tx, recorded};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

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

impl Tx<'_> {
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

impl Handle for req::Watch {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::Watch {
            plate,
            action,
            note,
        } = self;
        tx.watch(job, plate, *action, note)
    }
}
