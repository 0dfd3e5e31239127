//! Two `gatehouse` processes writing one lot at once: each has its own in-memory free-spot
//! indexes, so each must notice the other's writes. A spot holding two vehicles would be refused
//! by the database (one vehicle per spot) and show up as an error here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

mod common;
use common::gatehouse_on;

#[test]
fn two_processes_share_one_lot_without_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lot.db");
    assert!(
        gatehouse_on(&db)
            .args(["init", "--demo"])
            .status()
            .unwrap()
            .success()
    );
    let spawn = || {
        gatehouse_on(&db)
            .args(["load", "--cycles", "400", "--workers", "4"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let errors = String::from_utf8_lossy(&out.stderr);
        let first: Vec<&str> = errors.lines().take(3).collect();
        assert!(
            errors.is_empty(),
            "{} commands failed, e.g. {first:?}",
            errors.lines().count()
        );
        let acks = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(acks, 1200, "400 cycles of entry, pay and exit");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (stays, inside): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE exit_at IS NULL) FROM stays",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((stays, inside), (800, 0));
    let audit = gatehouse_on(&db)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}
