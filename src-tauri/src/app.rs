//! The running app: the lot it serves, who is logged in at which window, and the forwarders that
//! turn the engine's broadcast and the lanes' screens and notices into Tauri events.

use crate::api::{
    Answer, ApiError, DemoUser, DeviceHealth, FeedItem, LaneFrameView, LaneNoticeView, LaneScreen,
};
use crate::boundary::{LaneFrame, LaneNoticed, LaneScreenChanged, LotEvent, emit};
use gatehouse_core::journal::JournalRecord;
use gatehouse_core::{Actor, ErrorKind, Lot};
use gatehouse_lanes::Screen;
use gatehouse_lanes::runtime::LaneNotice;
use gatehouse_lanes::runtime::{Clock, LaneHandle};
use gatehouse_lanes::site::Site;
use gatehouse_sim::demo::DemoLot;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::AppHandle;

/// What the app runs: the demo lot, or a lot's own database and lanes (`--lot`).
pub enum Running {
    Demo(Arc<DemoLot>),
    Site(Arc<Site>),
}

impl Running {
    pub fn engine(&self) -> &Arc<gatehouse_core::Engine> {
        match self {
            Running::Demo(d) => d.engine(),
            Running::Site(s) => s.engine(),
        }
    }

    /// The lot's clock: the demo's runs faster than the wall clock.
    pub fn clock(&self) -> Clock {
        match self {
            Running::Demo(d) => d.clock(),
            Running::Site(s) => s.clock(),
        }
    }

    /// Lot seconds per real second.
    pub fn speed(&self) -> f64 {
        match self {
            Running::Demo(d) => d.speed(),
            Running::Site(_) => 1.0,
        }
    }

    pub fn config(&self) -> &gatehouse_core::LotConfig {
        match self {
            Running::Demo(d) => d.config(),
            Running::Site(s) => s.config(),
        }
    }

    pub fn db(&self) -> &std::path::Path {
        match self {
            Running::Demo(d) => d.db(),
            Running::Site(s) => s.db(),
        }
    }

    pub fn lanes(&self) -> Box<dyn Iterator<Item = &LaneHandle> + '_> {
        match self {
            Running::Demo(d) => Box::new(d.lanes()),
            Running::Site(s) => Box::new(s.lanes()),
        }
    }

    pub fn lane(&self, id: &str) -> Option<&LaneHandle> {
        match self {
            Running::Demo(d) => d.lane(id),
            Running::Site(s) => s.lane(id),
        }
    }

    /// The demo lot, for what only the demo does (vehicles sent by hand).
    pub fn demo(&self) -> Option<&Arc<DemoLot>> {
        match self {
            Running::Demo(d) => Some(d),
            Running::Site(_) => None,
        }
    }
}

/// The app's state, shared by every command.
pub struct App {
    pub lot: Running,
    pub demo_users: Vec<DemoUser>,
    /// The person logged in at each window (by window label).
    sessions: Mutex<HashMap<String, Actor>>,
    /// The PIN that closes a kiosk window.
    pub kiosk_pin: String,
    /// Where reports and Z-reports are written.
    pub exports: PathBuf,
    pub started: Instant,
    pub figures: Mutex<Figures>,
}

/// What the app measures of itself.
#[derive(Default)]
pub struct Figures {
    pub cold_start_ms: Option<f64>,
    /// When each recent engine event was broadcast, by seq, until a window painted it.
    pub broadcast: HashMap<i64, Instant>,
    pub paint_ms: Vec<f64>,
}

impl App {
    pub fn new(
        lot: Running,
        demo_users: Vec<DemoUser>,
        kiosk_pin: String,
        exports: PathBuf,
        started: Instant,
    ) -> Self {
        App {
            lot,
            demo_users,
            sessions: Mutex::new(HashMap::new()),
            kiosk_pin,
            exports,
            started,
            figures: Mutex::new(Figures::default()),
        }
    }

    pub fn lot_db(&self) -> Answer<Lot> {
        Ok(Lot::open(self.lot.db())?)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.lot.clock())()
    }

    /// A time as the console shows it: the lot's local date and time to the minute.
    pub fn local_text(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.lot.config().lot.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// The person logged in at `window`, or a refusal that says to log in.
    pub fn actor(&self, window: &str) -> Answer<Actor> {
        self.sessions
            .lock()
            .ok()
            .and_then(|s| s.get(window).cloned())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Forbidden,
                    "nobody is logged in at this window; log in first",
                )
            })
    }

    pub fn set_actor(&self, window: &str, actor: Option<Actor>) {
        if let Ok(mut s) = self.sessions.lock() {
            match actor {
                Some(a) => s.insert(window.to_string(), a),
                None => s.remove(window),
            };
        }
    }

    /// Runs a request as the person at `window`; the reply is the one the request gives.
    pub async fn call<R: gatehouse_core::Request>(
        &self,
        window: &str,
        request: R,
    ) -> Answer<R::Reply> {
        let actor = self.actor(window)?;
        Ok(self.lot.engine().call(&actor, self.now(), request).await?)
    }

    /// The journal record in words, for the feed.
    pub fn feed_item(&self, lot: &Lot, r: &JournalRecord) -> FeedItem {
        let text = lot.reveal(r).unwrap_or_else(|_| r.payload.clone());
        let at_local = chrono::DateTime::parse_from_rfc3339(&r.at)
            .map(|t| {
                t.with_timezone(&self.lot.config().lot.timezone)
                    .format("%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|_| r.at.clone());
        FeedItem {
            seq: r.seq,
            at_local,
            actor: r.actor.clone(),
            kind: r.kind.clone(),
            text: gatehouse_core::journal::summary_line(&text),
        }
    }
}

/// A lane notice in words (None for screens and frames, which travel as `lane-screen` and
/// `lane-frame`).
pub fn notice_text(n: &LaneNotice) -> Option<(String, Option<DeviceHealth>)> {
    Some(match n {
        LaneNotice::Screen(_) | LaneNotice::Frame { .. } => return None,
        LaneNotice::Event(e) => (e.text(), None),
        LaneNotice::Attendant(why) => (format!("attendant called: {why}"), None),
        LaneNotice::Problem(p) => (format!("problem: {p}"), None),
        LaneNotice::Device { device, ok, reason } => {
            let name = format!("{device:?}").to_lowercase();
            (
                if *ok {
                    format!("{name} working")
                } else {
                    format!("{name} down: {reason}")
                },
                Some(DeviceHealth {
                    device: name,
                    ok: *ok,
                    reason: reason.clone(),
                }),
            )
        }
        LaneNotice::Ticket(t) => (format!("ticket {t} printed"), None),
        LaneNotice::ExitRecorded(t) => (format!("exit recorded for ticket {t}"), None),
    })
}

/// A lane's last camera frame, for the console's lane card.
pub fn frame_view(app: &App, lane: &str) -> Option<LaneFrameView> {
    let f = app.lot.lane(lane)?.last_frame()?;
    Some(LaneFrameView {
        lane: lane.to_string(),
        at_local: f
            .at
            .with_timezone(&app.lot.config().lot.timezone)
            .format("%H:%M:%S")
            .to_string(),
        plate: f.plate,
        confidence: f.confidence,
        image: format!(
            "data:image/jpeg;base64,{}",
            data_encoding::BASE64.encode(&f.jpeg)
        ),
    })
}

/// Forwards the engine's journal and every lane's screens and notices to the windows.
pub fn forward(app: Arc<App>, handle: AppHandle) {
    let mut journal = app.lot.engine().subscribe();
    let (a, h) = (app.clone(), handle.clone());
    tauri::async_runtime::spawn(async move {
        let Ok(lot) = a.lot_db() else { return };
        loop {
            match journal.recv().await {
                Ok(r) => {
                    if let Ok(mut f) = a.figures.lock() {
                        f.broadcast.insert(r.seq, Instant::now());
                        if f.broadcast.len() > 4096 {
                            let oldest = r.seq - 2048;
                            f.broadcast.retain(|seq, _| *seq > oldest);
                        }
                    }
                    emit::<LotEvent>(&h, a.feed_item(&lot, &r));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    });
    for lane in app.lot.lanes() {
        let id = lane.id().to_string();
        let mut screens = lane.screens();
        let (h, lane_id) = (handle.clone(), id.clone());
        tauri::async_runtime::spawn(async move {
            loop {
                let screen: Screen = screens.borrow_and_update().clone();
                emit::<LaneScreenChanged>(
                    &h,
                    LaneScreen {
                        lane: lane_id.clone(),
                        screen,
                    },
                );
                if screens.changed().await.is_err() {
                    return;
                }
            }
        });
        let mut notices = lane.notices();
        let h = handle.clone();
        let (app_for_frames, lane_for_frames) = (app.clone(), id.clone());
        tauri::async_runtime::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(LaneNotice::Frame { .. }) => {
                        if let Some(view) = frame_view(&app_for_frames, &lane_for_frames) {
                            emit::<LaneFrame>(&h, view);
                        }
                    }
                    Ok(n) => {
                        if let Some((text, device)) = notice_text(&n) {
                            emit::<LaneNoticed>(
                                &h,
                                LaneNoticeView {
                                    lane: id.clone(),
                                    text,
                                    device,
                                },
                            );
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_going_down_is_said_with_its_reason() {
        let (text, device) = notice_text(&LaneNotice::Device {
            device: gatehouse_lanes::Device::Camera,
            ok: false,
            reason: "connection refused".into(),
        })
        .unwrap_or_default();
        assert_eq!(text, "camera down: connection refused");
        assert!(device.is_some_and(|d| !d.ok));
    }
}
