#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A lot's own database and lanes, opened live (what `gatehouse-app --lot` runs): its lanes
//! start from its config, and after a restart every stay is still there.

use chrono::Utc;
use gatehouse_core::{Actor, Command, Engine, Lot, LotConfig, Plate, VehicleClass};
use gatehouse_lanes::site::Site;
use gatehouse_lanes::wiring::NoSimulators;
use gatehouse_sim::lane::SimulatedLanes;

/// The demo lot's database, made by init in a temporary folder (kept while the folder lives).
fn demo_lot_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lot.db");
    Engine::init(
        &db,
        &LotConfig::demo().unwrap(),
        Utc::now(),
        &Actor::system("test"),
    )
    .unwrap();
    (dir, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_reopened_after_a_restart_has_its_lanes_and_its_stays_again() {
    let (_dir, db) = demo_lot_db();

    let site = Site::open(&db, &SimulatedLanes::new()).await.unwrap();
    let lanes: Vec<String> = site.lanes().map(|l| l.id().to_string()).collect();
    assert_eq!(lanes, ["E1", "E2", "X1", "X2"]);
    site.engine()
        .submit(
            &Actor::system("lane-E1"),
            (site.clock())(),
            Command::entry(
                Some(Plate::parse("KLM 4821").unwrap()),
                VehicleClass::Standard,
            ),
        )
        .await
        .unwrap();
    // The process stops (a crash, a reboot) and starts again on the same database.
    site.stop();
    drop(site);

    let site = Site::open(&db, &SimulatedLanes::new()).await.unwrap();
    assert_eq!(site.lanes().count(), 4);
    let lot = Lot::open(site.db()).unwrap();
    let inside = lot.plates_inside().unwrap();
    assert_eq!(inside, ["KLM4821"], "the stay survived the restart");
    site.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_lot_database_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let Err(e) = Site::open(&dir.path().join("nowhere.db"), &NoSimulators).await else {
        panic!("a missing database opened");
    };
    assert!(e.message.contains("gatehouse init"), "{}", e.message);
}

/// A program that drives real devices only (no simulators given) refuses a lot whose lanes are
/// simulated, naming the lane and the config section, instead of starting it half.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_lanes_without_simulators_are_refused_by_name() {
    let (_dir, db) = demo_lot_db();
    let Err(e) = Site::open(&db, &NoSimulators).await else {
        panic!("simulated lanes started without simulators");
    };
    assert!(e.message.contains("lane E1"), "{}", e.message);
    assert!(e.message.contains("[lanes.devices]"), "{}", e.message);
    assert!(
        e.message.contains("simulated lanes run in the demo"),
        "{}",
        e.message
    );
}
