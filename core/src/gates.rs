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
