//! A lot's own database and lanes, live on the wall clock: what the desktop app runs when it is
//! given a lot (`gatehouse-app --lot lot.db`) instead of the demo. The lot is opened as it was
//! left (a restart after a crash picks up every stay, payment and shift from the database), and
//! each lane in its config with `[lanes.devices]` is started on its real drivers, or on
//! simulators when the lane is `simulated`.

use crate::runtime::{Clock, LaneHandle, LotServices, start_lane, wall_clock};
use crate::wiring::{Simulators, wire_lanes};
use gatehouse_anpr::{Anpr, PlateReader};
use gatehouse_core::engine::EngineOptions;
use gatehouse_core::{Engine, Error, ErrorKind, LotConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A lot running live: its engine and its lanes.
pub struct Site {
    engine: Arc<Engine>,
    config: LotConfig,
    db: PathBuf,
    clock: Clock,
    lanes: Vec<LaneHandle>,
    /// The simulators of simulated lanes, kept running with them.
    _sims: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl Site {
    /// Opens the lot database made by `gatehouse init` and starts its configured lanes; lanes
    /// marked `simulated` run on `sims`' simulators.
    pub async fn open<S: Simulators>(db: &Path, sims: &S) -> Result<Site, Error> {
        if !db.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "there is no lot database at {}; make one with `gatehouse init --config LOT.toml --db {}`",
                    db.display(),
                    db.display()
                ),
            ));
        }
        let engine = Arc::new(Engine::open(db, EngineOptions::default())?);
        let config = engine.context().config.clone();
        let reader = PlateReader::embedded()
            .map_err(|e| Error::storage(format!("cannot load the plate reader's model: {e}")))?;
        let clock = wall_clock();
        let services = Arc::new(LotServices {
            engine: engine.clone(),
            lot_path: db.to_path_buf(),
            anpr: Arc::new(Anpr::new(reader)),
            clock: clock.clone(),
            signs: vec![],
        });
        let mut lanes = Vec::new();
        let mut running: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
        for wired in wire_lanes(&config, sims).await? {
            lanes.push(start_lane(wired.setup, services.clone())?);
            if let Some(sim) = wired.sim {
                running.push(Box::new(sim));
            }
        }
        Ok(Site {
            engine,
            config,
            db: db.to_path_buf(),
            clock,
            lanes,
            _sims: running,
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The wall clock.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    pub fn config(&self) -> &LotConfig {
        &self.config
    }

    /// The lot database.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Every running lane, in the config's order.
    pub fn lanes(&self) -> impl Iterator<Item = &LaneHandle> {
        self.lanes.iter()
    }

    pub fn lane(&self, id: &str) -> Option<&LaneHandle> {
        self.lanes.iter().find(|l| l.id() == id)
    }

    /// Stops every lane.
    pub fn stop(&self) {
        for l in &self.lanes {
            l.stop();
        }
    }
}
