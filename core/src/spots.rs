//! Spots by hand: a supervisor moves a stay to a named spot, or takes a spot out of service.

use crate::allocation::SpotState;
use crate::command as req;
use crate::domain::VehicleClass;
use crate::engine::{Job, Outcome};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::stays::{StayRef, find_inside};
use crate::store::ts;
use crate::tx::{Applied, Effect, Handle, Tx};
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotOverridden {
    pub stay: i64,
    pub ticket: String,
    pub from: Option<String>,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotService {
    pub spot: String,
    pub in_service: bool,
    pub occupied: bool,
}

impl Tx<'_> {
    pub(crate) fn spot_named(&self, id: &str) -> Result<usize> {
        self.alloc.spot_index(id).ok_or_else(|| {
            Error::not_found(format!(
                "there is no spot '{id}'; `gatehouse spots` lists them"
            ))
        })
    }

    pub(crate) fn check_target_spot(
        &self,
        spot: usize,
        class: VehicleClass,
        accessible: bool,
    ) -> Result<()> {
        let id = self.alloc.spot_id(spot);
        match self.alloc.state(spot) {
            SpotState::Free => {}
            SpotState::Occupied => {
                return Err(Error::conflict(format!(
                    "spot {id} is occupied; choose a free spot"
                )));
            }
            SpotState::OutOfService => {
                return Err(Error::conflict(format!(
                    "spot {id} is out of service; put it back in service first"
                )));
            }
        }
        if !self.alloc.fits(spot, class, accessible) {
            return Err(Error::conflict(format!(
                "spot {id} does not fit a {class} vehicle{}",
                if accessible {
                    ""
                } else {
                    " (or is accessible and needs a credential)"
                }
            )));
        }
        Ok(())
    }

    fn override_spot(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        spot: &str,
        reason: &str,
    ) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "an override needs a reason (--reason), for the audit trail",
            ));
        }
        let stay = find_inside(self.conn, self.ctx, r)?;
        let target = self.spot_named(spot)?;
        self.check_target_spot(target, stay.class, stay.accessible)?;
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET spot_id = ?2 WHERE id = ?1")?
            .execute(params![stay.id, spot])?;
        let mut effects: Vec<Effect> = self.leave_spot(&stay, &at_s)?.into_iter().collect();
        self.conn
            .prepare_cached(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![stay.id, spot, at_s])?;
        effects.push(Effect::Take(target));
        Ok(Applied {
            refused: None,
            outcome: Outcome::SpotOverridden(SpotOverridden {
                stay: stay.id,
                ticket: stay.ticket(),
                from: stay.spot.clone(),
                to: spot.to_string(),
            }),
            events: vec![Event::SpotOverridden {
                stay: stay.id,
                ticket: stay.ticket(),
                from: stay.spot,
                to: spot.to_string(),
                reason: reason.to_string(),
            }],
            effects,
        })
    }

    fn set_service(&mut self, spot: &str, in_service: bool, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "give a reason (--reason), for the audit trail and the attendants",
            ));
        }
        let idx = self.spot_named(spot)?;
        let (was, occupied): (bool, bool) = self.conn.prepare_cached(
            "SELECT in_service, EXISTS (SELECT 1 FROM stays WHERE spot_id = ?1 AND exit_at IS NULL) FROM spots WHERE id = ?1",
        )?
        .query_row([spot], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if was == in_service {
            return Err(Error::conflict(format!(
                "spot {spot} is already {}",
                if in_service {
                    "in service"
                } else {
                    "out of service"
                }
            )));
        }
        self.conn
            .prepare_cached("UPDATE spots SET in_service = ?2, service_note = ?3 WHERE id = ?1")?
            .execute(params![spot, in_service, reason])?;
        let effect = match (in_service, occupied) {
            (true, true) => Effect::Take(idx),
            (true, false) => Effect::Release(idx),
            (false, _) => Effect::OutOfService(idx),
        };
        let event = if in_service {
            Event::SpotInService {
                spot: spot.to_string(),
                note: reason.to_string(),
            }
        } else {
            Event::SpotOutOfService {
                spot: spot.to_string(),
                reason: reason.to_string(),
            }
        };
        Ok(Applied {
            refused: None,
            outcome: Outcome::SpotService(SpotService {
                spot: spot.to_string(),
                in_service,
                occupied,
            }),
            events: vec![event],
            effects: vec![effect],
        })
    }
}

impl Handle for req::OverrideSpot {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::OverrideSpot { stay, spot, reason } = self;
        tx.override_spot(at, stay, spot, reason)
    }
}

impl Handle for req::SetSpotService {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        let req::SetSpotService {
            spot,
            in_service,
            reason,
        } = self;
        tx.set_service(spot, *in_service, reason)
    }
}
