//! What the engine test files share: local Berlin times and a lot on a temporary SQLite file.

#![allow(dead_code)] // each test file uses its own part

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use gatehouse_core::{Actor, Engine, EngineOptions, LotConfig};
use std::path::PathBuf;

/// A Berlin local time, `YYYY-MM-DD HH:MM`, in UTC.
pub fn berlin(s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    chrono_tz::Europe::Berlin
        .from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// A lot initialised from config text at 2026-11-18 06:00, with its engine running.
pub struct TestLot {
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub engine: Engine,
}

impl TestLot {
    pub fn from_toml(toml: &str) -> TestLot {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lot.db");
        let cfg = LotConfig::from_toml_str("test.toml", toml).unwrap();
        Engine::init(
            &path,
            &cfg,
            berlin("2026-11-18 06:00"),
            &Actor::system("init"),
        )
        .unwrap();
        let engine = Engine::open(&path, EngineOptions::default()).unwrap();
        TestLot {
            _dir: dir,
            path,
            engine,
        }
    }
}
