//! Durability: kill -9 the `gatehouse` process in the middle of a load, reopen the lot and find
//! every command it had acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;
use common::gatehouse_on;

#[test]
fn every_acknowledged_command_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lot.db");
    let init = gatehouse_on(&db).args(["init", "--demo"]).output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let mut child = gatehouse_on(&db)
        .args(["load", "--cycles", "100000000", "--workers", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Let it run until a good number of commands are acknowledged, then kill it mid-flight.
    let mut acked = Vec::new();
    let start = Instant::now();
    while acked.len() < 1500 && start.elapsed() < Duration::from_secs(60) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            acked.push(line);
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    acked.extend(rx.try_iter());
    assert!(
        acked.len() >= 1500,
        "the load acknowledged only {} commands",
        acked.len()
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let (mut entries, mut pays, mut exits) = (0, 0, 0);
    for line in &acked {
        let parts: Vec<&str> = line.split(' ').collect();
        let serial: i64 = parts[1].split('-').next().unwrap().parse().unwrap();
        match parts[0] {
            "entry" => {
                entries += 1;
                let n: i64 = conn
                    .query_row("SELECT count(*) FROM stays WHERE id = ?1", [serial], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert_eq!(n, 1, "acknowledged entry {} is missing", parts[1]);
            }
            "pay" => {
                pays += 1;
                let n: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM payments WHERE idem_key = ?1 AND stay_id = ?2",
                        rusqlite::params![parts[2], serial],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(n, 1, "acknowledged payment {} is missing", parts[2]);
            }
            "exit" => {
                exits += 1;
                let out: Option<String> = conn
                    .query_row("SELECT exit_at FROM stays WHERE id = ?1", [serial], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert!(out.is_some(), "acknowledged exit {} is missing", parts[1]);
            }
            other => panic!("unexpected line {other}"),
        }
    }
    assert!(entries > 0 && pays > 0 && exits > 0);
    drop(conn);

    // The lot opens, its journal verifies, and it takes new commands.
    let audit = gatehouse_on(&db)
        .args(["--json", "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let entry = gatehouse_on(&db)
        .args(["--json", "entry", "--plate", "AFTER 1"])
        .output()
        .unwrap();
    assert!(
        entry.status.success(),
        "{}",
        String::from_utf8_lossy(&entry.stdout)
    );
}
