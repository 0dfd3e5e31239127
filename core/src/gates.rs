//! Lanes and their gates: which lane a command came from, what a lane reports, a gate opened
//! by hand.

use crate::command as req;
use crate::config::LaneKind;
use crate::engine::{Job, LaneReport};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::tx::{Applied, Handle, Tx, recorded};
use chrono::{DateTime, Utc};

impl Tx<'_> {
    pub(crate) fn lane(&self, lane: Option<&str>, kind: LaneKind) -> Result<(usize, String)> {
        let cfg = &self.ctx.config;
        let name = if kind == LaneKind::Entry {
            "entry"
        } else {
            "exit"
        };
        match lane {
            None => cfg
                .lanes
                .iter()
                .position(|l| l.kind == kind)
                .map(|i| (i, cfg.lanes[i].id.clone()))
                .ok_or_else(|| Error::invalid(format!("the lot has no {name} lane"))),
            Some(id) => {
                let i = cfg.lane_index(id).ok_or_else(|| {
                    let known: Vec<&str> = cfg
                        .lanes
                        .iter()
                        .filter(|l| l.kind == kind)
                        .map(|l| l.id.as_str())
                        .collect();
                    Error::not_found(format!(
                        "there is no lane '{id}'; the {name} lanes are {}",
                        known.join(", ")
                    ))
                })?;
                if cfg.lanes[i].kind != kind {
                    return Err(Error::invalid(format!("lane '{id}' is not an {name} lane")));
                }
                Ok((i, id.to_string()))
            }
        }
    }

    fn lane_report(&mut self, at: DateTime<Utc>, report: &LaneReport) -> Result<Applied> {
        let lane = &report.lane;
        if self.ctx.config.lane_index(lane).is_none() {
            return Err(Error::not_found(format!("there is no lane '{lane}'")));
        }
        let what = report.what.trim();
        if what.is_empty()
            || what.len() > 64
            || !what.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Err(Error::invalid(format!(
                "a lane report's kind is 1 to 64 lower-case letters and underscores, not '{what}'"
            )));
        }
        let mut events = vec![Event::LaneReported {
            lane: lane.clone(),
            what: what.to_string(),
            reason: report.reason.trim().to_string(),
            stay: report.stay,
            plate: report.plate.clone(),
            timing: report.timing.clone(),
        }];
        if report.alert {
            events.push(self.raise_alert(
                &format!("lane_{what}"),
                &format!("lane {lane}: {}", report.reason.trim()),
                report.stay,
                report.plate.as_deref(),
                Some(lane),
                at,
            )?);
        }
        Ok(Applied::new(
            recorded("lane report", None, format!("lane {lane}: {what}")),
            events,
            vec![],
        ))
    }

    fn open_gate(&mut self, lane: &str, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "opening a gate by hand needs a reason (--reason), for the audit trail",
            ));
        }
        if self.ctx.config.lane_index(lane).is_none() {
            return Err(Error::not_found(format!("there is no lane '{lane}'")));
        }
        Ok(Applied::new(
            recorded(
                "gate opened",
                None,
                format!("gate of lane {lane} opened by hand: {}", reason.trim()),
            ),
            vec![Event::GateOpenedByHand {
                lane: lane.to_string(),
                reason: reason.trim().to_string(),
            }],
            vec![],
        ))
    }
}

impl Handle for req::OpenGate {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        let req::OpenGate { lane, reason } = self;
        tx.open_gate(lane, reason)
    }
}

impl Handle for req::LaneReport {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let report = self;
        tx.lane_report(at, report)
    }
}

impl Tx<'_> {
    /// An attendant closes a lane or opens it again.
    fn set_lane_open(&mut self, r: &req::SetLaneOpen) -> Result<Applied> {
        let reason = lane_action_reason(&r.reason, "closing or reopening a lane")?;
        if self.ctx.config.lane_index(&r.lane).is_none() {
            return Err(Error::not_found(format!("there is no lane '{}'", r.lane)));
        }
        let (what, event) = if r.open {
            (
                "lane reopened",
                Event::LaneReopened {
                    lane: r.lane.clone(),
                    reason: reason.clone(),
                },
            )
        } else {
            (
                "lane closed",
                Event::LaneClosed {
                    lane: r.lane.clone(),
                    reason: reason.clone(),
                },
            )
        };
        Ok(Applied::new(
            recorded(what, None, format!("{what}: {}: {reason}", r.lane)),
            vec![event],
            vec![],
        ))
    }

    /// An attendant holds an exit barrier open for everyone, or ends that.
    fn set_free_exit(&mut self, r: &req::SetFreeExit) -> Result<Applied> {
        let reason = lane_action_reason(&r.reason, "free exit")?;
        match self.ctx.config.lanes.iter().find(|l| l.id == r.lane) {
            None => return Err(Error::not_found(format!("there is no lane '{}'", r.lane))),
            Some(l) if l.kind != LaneKind::Exit => {
                return Err(Error::invalid(format!(
                    "lane {} is an entry lane; free exit is for exit lanes",
                    r.lane
                )));
            }
            Some(_) => {}
        }
        let what = if r.on {
            "free exit on"
        } else {
            "free exit off"
        };
        Ok(Applied::new(
            recorded(what, None, format!("{what} at lane {}: {reason}", r.lane)),
            vec![Event::FreeExitChanged {
                lane: r.lane.clone(),
                on: r.on,
                reason: reason.clone(),
            }],
            vec![],
        ))
    }
}

/// The reason an attendant gave for acting on a lane, which the audit trail needs.
fn lane_action_reason(reason: &str, what: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(format!(
            "{what} needs a reason, for the audit trail"
        )));
    }
    Ok(reason.to_string())
}

impl Handle for req::SetLaneOpen {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        tx.set_lane_open(self)
    }
}

impl Handle for req::SetFreeExit {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        tx.set_free_exit(self)
    }
}
