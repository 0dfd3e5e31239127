//! A vehicle enters: the lane, anti-passback, reservations and permits, a spot, a signed ticket.

use crate::command as req;
use crate::config::LaneKind;
use crate::domain::{AntiPassback, Plate, Role, VehicleClass};
use crate::engine::{Command, Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::stays::{LotContext, StayRow, stay_of_ticket};
use crate::store::ts;
use crate::ticket::ticket_number;
use crate::tx::{Applied, Effect, Handle, Tx};
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entered {
    pub stay: i64,
    pub ticket: String,
    pub qr: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub lane: String,
    pub spot: String,
    pub level: String,
    pub zone: String,
    pub reason: String,
    pub entry_at: DateTime<Utc>,
    /// The permit that covers this stay, if any.
    pub permit: Option<i64>,
    /// The reservation this entry fulfilled, if any.
    pub reservation: Option<String>,
    pub alerts: Vec<String>,
}

/// What an entry ticket says, in the lot's words; a lane's printer only lays it out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketText {
    pub lot_name: String,
    pub title: String,
    /// Label and value, one per printed line.
    pub lines: Vec<(String, String)>,
    /// What the ticket's QR code holds (the signed ticket).
    pub qr_payload: String,
    pub footer: String,
}

impl Entered {
    /// The printed ticket of this entry: its number, the entry time in the lot's timezone, the
    /// spot and level, the plate if read, and the signed QR.
    pub fn ticket_text(&self, ctx: &LotContext) -> TicketText {
        let mut lines = vec![
            ("Ticket".to_string(), self.ticket.clone()),
            ("Entry".to_string(), ctx.local(self.entry_at)),
            (
                "Spot".to_string(),
                format!("{} (level {})", self.spot, self.level),
            ),
        ];
        if let Some(p) = &self.plate {
            lines.push(("Plate".to_string(), p.clone()));
        }
        TicketText {
            lot_name: ctx.config.lot.name.clone(),
            title: "Entry ticket".into(),
            lines,
            qr_payload: self.qr.clone(),
            footer: "Keep this ticket. Pay before you return to your vehicle.".into(),
        }
    }
}

fn require_supervisor(role: Role, what: &str) -> Result<()> {
    if role.is_supervisor() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Forbidden,
            format!(
                "only a supervisor or admin may {what} (acting role: {})",
                role.as_str()
            ),
        ))
    }
}

impl Tx<'_> {
    fn entry(&mut self, job: &Job) -> Result<Applied> {
        let Command::Entry(req::Entry {
            plate,
            class,
            lane,
            ev,
            accessible,
            presented_ticket,
            spot: spot_override,
            card,
            reservation,
        }) = &job.command
        else {
            return Err(Error::storage("entry called for another command"));
        };
        let (plate, class, ev, accessible) = (plate.as_ref(), *class, *ev, *accessible);
        let at = job.at;
        let (lane_idx, lane_id) = self.lane(lane.as_deref(), LaneKind::Entry)?;
        let passback = self.ctx.config.lot.anti_passback;
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        // The watchlist first: a refused plate changes nothing but the alert.
        if let Some(p) = plate
            && let Some((action, note)) = self.watchlist_hit(p)?
        {
            let msg = format!("watchlist: plate {p} at lane {lane_id}: {note}");
            let alert = self.raise_alert(
                "watchlist",
                &msg,
                None,
                Some(p.as_str()),
                Some(&lane_id),
                at,
            )?;
            if action == crate::watchlist::WatchAction::Refuse {
                return Ok(Applied::refusal(
                    Error::new(
                        ErrorKind::Forbidden,
                        format!(
                            "plate {p} is on the watchlist to be refused ({note}); the gate stays closed and an attendant was alerted"
                        ),
                    ),
                    vec![alert],
                ));
            }
            alerts.push(msg);
            events.push(alert);
        }
        let permit = self.permit_at_entry(at, plate, card.as_deref(), &lane_id, &mut alerts)?;
        let mut inside: Option<(StayRow, String)> = None;
        if let Some(text) = presented_ticket {
            let stay = stay_of_ticket(self.conn, &self.ctx.signer, text)?;
            if let Some(exit) = stay.exit_at {
                return Err(Error::new(
                    ErrorKind::TicketUsed,
                    format!(
                        "ticket {} was already used (its stay exited at {}); it cannot enter again",
                        stay.ticket(),
                        self.ctx.local(exit)
                    ),
                ));
            }
            if passback != AntiPassback::Off {
                let what = format!("ticket {}", stay.ticket());
                inside = Some((stay, what));
            }
        }
        if inside.is_none()
            && let Some(p) = plate
            && passback != AntiPassback::Off
            && let Some(stay) = crate::stays::stay_inside_by_plate(self.conn, p)?
        {
            inside = Some((stay, format!("plate {p}")));
        }
        if let Some((stay, what)) = inside {
            let entered = format!(
                "{what} is already inside (entered {} at lane {}, ticket {})",
                self.ctx.local(stay.entry_at),
                stay.entry_lane.as_deref().unwrap_or("?"),
                stay.ticket()
            );
            let plate_s = plate.map(Plate::as_str);
            if passback == AntiPassback::Hard {
                let alert = self.raise_alert(
                    "passback",
                    &format!("anti-passback: {entered}; entry refused at lane {lane_id}"),
                    Some(stay.id),
                    plate_s,
                    Some(&lane_id),
                    at,
                )?;
                return Ok(Applied::refusal(
                    Error::new(
                        ErrorKind::Passback,
                        format!(
                            "{entered}; anti-passback refuses a second entry. An attendant can check the vehicle and exit the earlier stay"
                        ),
                    ),
                    vec![alert],
                ));
            }
            let msg = format!("anti-passback: {entered}; admitted (soft anti-passback)");
            events.push(self.raise_alert(
                "passback",
                &msg,
                Some(stay.id),
                plate_s,
                Some(&lane_id),
                at,
            )?);
            alerts.push(msg);
        }
        let booked = if permit.is_none() {
            self.reservation_at_entry(at, plate, reservation.as_deref())?
        } else {
            None
        };
        let levels = permit
            .as_ref()
            .map(|p| p.levels.clone())
            .unwrap_or_default();
        let (spot, reason) = match spot_override.as_deref() {
            Some(id) => {
                require_supervisor(job.actor.role, "choose the spot at entry")?;
                let s = self.spot_named(id)?;
                self.check_target_spot(s, class, accessible)?;
                (
                    s,
                    format!("supervisor override to {id} by {}", job.actor.name),
                )
            }
            None => match &booked {
                Some(r) => self.allocate_reserved(r, lane_idx)?,
                None => {
                    let allowed = self.walk_in_rule(at);
                    let level_ok = |spot: usize| {
                        levels.is_empty() || levels.contains(&self.ctx.config.spots[spot].level)
                    };
                    match self.alloc.allocate_where(
                        class,
                        ev,
                        accessible,
                        lane_idx,
                        |pool, size| allowed.allows(pool, size),
                        level_ok,
                    ) {
                        Some(a) => (a.spot, a.reason),
                        None => {
                            return Err(self.full_error(class, ev, accessible, !levels.is_empty()));
                        }
                    }
                }
            },
        };
        let (occupied, in_service) = self.alloc.occupied_and_in_service();
        let percent = (occupied * 100).checked_div(in_service).unwrap_or(100) as u32;
        let factor = self.ctx.tariffs.at(at).occupancy_factor(percent);
        let spot_id = self.alloc.spot_id(spot).to_string();
        let at_s = ts(at);
        self.conn
            .prepare_cached(
                "INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, spot_id, occupancy_factor, permit_id, permit_until, reservation_id, reserved_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                plate.map(Plate::as_str),
                class.as_str(),
                ev,
                accessible,
                lane_id,
                at_s,
                spot_id,
                factor.to_string(),
                permit.as_ref().map(|p| p.id),
                permit.as_ref().map(|p| ts(p.valid_to)),
                booked.as_ref().map(|r| r.id),
                booked.as_ref().map(|r| ts(r.end)),
            ])?;
        let stay = self.conn.last_insert_rowid();
        if stay > i64::from(u32::MAX) {
            return Err(Error::storage(
                "the lot has issued 4 billion tickets; ticket numbers are exhausted",
            ));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![stay, spot_id, at_s])?;
        let ticket = ticket_number(stay as u32);
        let def = &self.ctx.config.spots[spot];
        let reason = match &permit {
            Some(p) => format!("permit {} ({}); {reason}", p.id, p.kind),
            None => reason,
        };
        events.insert(
            0,
            Event::VehicleEntered {
                stay,
                ticket: ticket.clone(),
                plate: plate.map(|p| p.to_string()),
                class,
                ev,
                accessible,
                lane: lane_id.clone(),
                spot: spot_id.clone(),
                reason: reason.clone(),
                occupancy_factor: factor.to_string(),
            },
        );
        let mut effects = vec![Effect::Take(spot)];
        if let Some(r) = &booked {
            self.conn
                .prepare_cached(
                    "UPDATE reservations SET status = 'arrived', stay_id = ?2 WHERE id = ?1",
                )?
                .execute(params![r.id, stay])?;
            events.push(Event::ReservationArrived {
                reservation: r.id,
                code: r.code.clone(),
                stay,
            });
            effects.push(Effect::Unbook(r.id));
        }
        Ok(Applied::new(
            Outcome::Entered(Entered {
                stay,
                qr: self.ctx.signer.payload(stay as u32),
                ticket,
                plate: plate.map(|p| p.to_string()),
                class,
                lane: lane_id,
                spot: spot_id,
                level: def.level.clone(),
                zone: def.zone.clone(),
                reason,
                entry_at: at,
                permit: permit.map(|p| p.id),
                reservation: booked.map(|r| r.code),
                alerts,
            }),
            events,
            effects,
        ))
    }

    fn full_error(
        &self,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        level_limited: bool,
    ) -> Error {
        let (usable, total) = self.alloc.free_counts(class, ev, accessible);
        let msg = if total == 0 {
            format!(
                "the car park is full: none of its {} spots is free; no ticket was issued",
                self.alloc.len()
            )
        } else if usable > 0 && level_limited {
            format!(
                "no spot on the permit's levels is free for a {class} vehicle ({usable} free elsewhere); no ticket was issued"
            )
        } else if usable > 0 {
            format!(
                "full for a {class} vehicle: the {usable} free spots that fit are held for reservations; no ticket was issued"
            )
        } else {
            let rule = if !accessible && !ev && !self.ctx.config.lot.ev_spots_for_others {
                " (EV and accessible spots are kept for vehicles that need them)"
            } else if !accessible {
                " (accessible spots need a credential)"
            } else {
                ""
            };
            format!(
                "full for a {class} vehicle: {total} spots are free but none fits it{rule}; no ticket was issued"
            )
        };
        Error::new(ErrorKind::Full, msg)
    }
}

impl Handle for req::Entry {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::Entry { .. } = self;
        tx.entry(job)
    }
}
