//! What the end-to-end tests share: a demo lot on a temporary SQLite file with a clock the test
//! can move, its lanes running against simulated devices, and waits with clear failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration as Minutes, Utc};
use gatehouse_anpr::{Anpr, PlateReader};
use gatehouse_core::command as req;
use gatehouse_core::entry::Entered;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, Lot, LotConfig, Outcome, Plate, VehicleClass,
};
use gatehouse_drivers::CountSign;
use gatehouse_lanes::runtime::{
    Clock, LaneHandle, LaneNotice, LaneRole, LaneSetup, LotServices, start_lane,
};
use gatehouse_sim::lane::SimLane;
use gatehouse_sim::scene::Renderer;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// The demo lot, with minutes the test can add to the wall clock.
pub struct TestLot {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub services: Arc<LotServices>,
    offset_min: Arc<AtomicI64>,
}

fn anpr() -> Arc<Anpr> {
    static ANPR: OnceLock<Arc<Anpr>> = OnceLock::new();
    ANPR.get_or_init(|| Arc::new(Anpr::new(PlateReader::embedded().unwrap())))
        .clone()
}

pub fn renderer() -> Arc<Renderer> {
    static R: OnceLock<Arc<Renderer>> = OnceLock::new();
    R.get_or_init(|| Arc::new(Renderer::new().unwrap())).clone()
}

impl TestLot {
    pub fn demo() -> TestLot {
        TestLot::with(LotConfig::demo().unwrap(), vec![])
    }

    /// A lot of this config, whose lanes update these count signs.
    pub fn with(cfg: LotConfig, signs: Vec<Arc<dyn CountSign>>) -> TestLot {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lot.db");
        let offset_min = Arc::new(AtomicI64::new(0));
        let o = offset_min.clone();
        let clock: Clock =
            Arc::new(move || Utc::now() + Minutes::minutes(o.load(Ordering::SeqCst)));
        Engine::init(&path, &cfg, clock(), &Actor::system("init")).unwrap();
        let engine = Arc::new(Engine::open(&path, EngineOptions::default()).unwrap());
        let services = Arc::new(LotServices {
            engine,
            lot_path: path.clone(),
            anpr: anpr(),
            clock,
            signs,
        });
        TestLot {
            _dir: dir,
            path,
            services,
            offset_min,
        }
    }

    /// Runs a command as `actor` now.
    pub async fn run(&self, actor: &Actor, cmd: Command) -> Outcome {
        self.services
            .engine
            .submit(actor, self.now(), cmd)
            .await
            .unwrap()
    }

    /// A vehicle entered at E1 (without a lane run), for exit tests.
    pub async fn inside(&self, plate: &str) -> Entered {
        let plate = Plate::parse(plate).unwrap();
        self.services
            .engine
            .call(
                &Actor::system("lane-E1"),
                self.now(),
                req::Entry::new(Some(plate), VehicleClass::Standard),
            )
            .await
            .unwrap()
    }

    /// Waits until lane `lane` has journaled a report `what`.
    pub async fn expect_report(&self, lane: &str, what: &str) {
        eventually(5, &format!("lane {lane} journals {what}"), || {
            self.reported(lane, what)
        })
        .await;
    }

    /// Moves the lot's clock on.
    pub fn later(&self, minutes: i64) {
        self.offset_min.fetch_add(minutes, Ordering::SeqCst);
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.services.clock)()
    }

    pub fn reader(&self) -> Lot {
        Lot::open(&self.path).unwrap()
    }

    /// The journal as (kind, payload) pairs.
    pub fn journal(&self) -> Vec<(String, serde_json::Value)> {
        self.reader()
            .journal(1, 100_000)
            .unwrap()
            .into_iter()
            .map(|r| (r.kind, serde_json::from_str(&r.payload).unwrap()))
            .collect()
    }

    /// The lane reports journaled, by what they say (`passed`, `fallback_…`).
    pub fn lane_reports(&self, lane: &str) -> Vec<serde_json::Value> {
        self.journal()
            .into_iter()
            .filter(|(k, p)| k == "lane_reported" && p["lane"] == lane)
            .map(|(_, p)| p)
            .collect()
    }

    pub fn reported(&self, lane: &str, what: &str) -> bool {
        self.lane_reports(lane).iter().any(|p| p["what"] == what)
    }

    pub fn open_alerts(&self) -> Vec<gatehouse_core::alerts::AlertRow> {
        gatehouse_core::alerts::list_alerts(self.reader().connection(), false).unwrap()
    }

    /// Starts lane `id` on simulated devices.
    pub async fn lane(&self, id: &str, role: LaneRole) -> (SimLane, LaneHandle) {
        let exit = matches!(role, LaneRole::Exit(_));
        let (sim, devices) = SimLane::start(exit, renderer()).await.unwrap();
        let handle = start_lane(
            LaneSetup {
                id: id.into(),
                role,
                devices,
            },
            self.services.clone(),
        )
        .unwrap();
        (sim, handle)
    }
}

/// Waits up to `secs` for a notice that `want` accepts, and returns it; panics listing what came.
pub async fn expect_notice(
    rx: &mut broadcast::Receiver<LaneNotice>,
    secs: u64,
    what: &str,
    want: impl Fn(&LaneNotice) -> bool,
) -> LaneNotice {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            match rx.recv().await {
                Ok(n) if want(&n) => return n,
                Ok(n) => seen.push(n),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("notices closed: {e}"),
            }
        }
    })
    .await;
    match found {
        Ok(n) => n,
        Err(_) => panic!("no {what} within {secs} s; the lane did: {seen:#?}"),
    }
}

/// Waits up to `secs` for `check` to hold, polling.
pub async fn eventually(secs: u64, what: &str, check: impl Fn() -> bool) {
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < until {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not within {secs} s");
}
