//! What the CLI test files share.

#![allow(dead_code)] // each test file uses its own part

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `gatehouse` binary under test.
pub fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

/// The `gatehouse` binary on one lot database.
pub fn gatehouse_on(db: &Path) -> Command {
    let mut c = gatehouse();
    c.arg("--db").arg(db);
    c
}

/// A demo lot in a temporary directory.
pub struct Lot {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

pub fn lot() -> Lot {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lot.db");
    let l = Lot { dir, db };
    let out = l.run(&[
        "init",
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/lots/demo.toml"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    l
}

impl Lot {
    pub fn run(&self, args: &[&str]) -> Output {
        gatehouse_on(&self.db).args(args).output().unwrap()
    }
    /// Runs with --json at a Berlin local time on 2026-11-18 and parses the one JSON object.
    pub fn json(&self, time: &str, args: &[&str]) -> (bool, Value) {
        self.json_on("2026-11-18", time, args)
    }
    /// Runs with --json at a Berlin local date and time and parses the one JSON object.
    pub fn json_on(&self, day: &str, time: &str, args: &[&str]) -> (bool, Value) {
        let at = format!("{day}T{time}:00+01:00");
        let mut all = vec!["--json", "--at", &at];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "one JSON object per result: {text}");
        (
            out.status.success(),
            serde_json::from_str(lines[0]).unwrap(),
        )
    }
}
