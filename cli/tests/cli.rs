//! The `gatehouse` binary as scripts use it: JSON results, one-line errors, exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{gatehouse_on, lot};
use serde_json::Value;

#[test]
fn entry_quote_pay_exit_as_a_script_would() {
    let lot = lot();
    let (ok, e) = lot.json(
        "09:00",
        &[
            "entry", "--plate", "B-AB 123", "--class", "standard", "--lane", "E2",
        ],
    );
    assert!(ok, "{e}");
    for key in ["ticket", "qr", "spot", "reason"] {
        assert!(
            e[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} in {e}"
        );
    }
    let ticket = e["ticket"].as_str().unwrap();
    let (ok, q) = lot.json("10:01", &["quote", "--ticket", ticket]);
    assert!(ok);
    assert_eq!(q["total"], "4.50");
    assert_eq!(q["currency"], "EUR");
    assert!(q["lines"].as_array().is_some_and(|l| !l.is_empty()));

    let (ok, err) = lot.json("10:01", &["exit", "--ticket", ticket]);
    assert!(!ok);
    assert_eq!(err["error"]["kind"], "unpaid");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4.50 EUR")
    );

    // The booth attendant takes cash on an open shift.
    let (ok, shift) = lot.json("08:00", &["shift", "open", "--float", "100"]);
    assert!(ok, "{shift}");
    let (ok, p) = lot.json(
        "10:01",
        &[
            "pay",
            "--plate",
            "bab123",
            "--method",
            "cash",
            "--amount",
            "5",
            "--key",
            "booth-1-77",
        ],
    );
    assert!(ok, "{p}");
    assert_eq!(
        (
            p["amount"].as_str(),
            p["change"].as_str(),
            p["due"].as_str()
        ),
        (Some("4.50"), Some("0.50"), Some("0.00"))
    );
    let (ok, again) = lot.json(
        "10:02",
        &[
            "pay",
            "--plate",
            "bab123",
            "--method",
            "cash",
            "--amount",
            "5",
            "--key",
            "booth-1-77",
        ],
    );
    assert!(ok && again["replayed"] == true, "{again}");

    // Revenue "so far" at the moment of payment includes it.
    let (_, r) = lot.json("10:01", &["revenue"]);
    assert_eq!(r["total"], "4.50", "{r}");
    let (ok, x) = lot.json("10:10", &["exit", "--ticket", ticket, "--lane", "X2"]);
    assert!(ok, "{x}");
    assert_eq!(x["fee"], "4.50");
    let (ok, err) = lot.json("10:11", &["exit", "--ticket", e["qr"].as_str().unwrap()]);
    assert!(!ok);
    assert_eq!(err["error"]["kind"], "ticket_used");
}

#[test]
fn error_without_json_is_one_clear_line_and_a_non_zero_exit() {
    let lot = lot();
    let out = lot.run(&["exit", "--plate", "NOBODY1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no vehicle with plate NOBODY1 is inside"),
        "{err}"
    );
    let out = lot.run(&["entry", "--plate", "B 1", "--class", "truck"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("'truck' is not a vehicle class"));
}

#[test]
fn invalid_config_is_refused_with_file_field_and_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/lots/demo.toml"
    ))
    .unwrap();
    std::fs::write(
        &cfg,
        text.replace("increment_minutes = 30", "increment_minutes = 0"),
    )
    .unwrap();
    let db = dir.path().join("lot.db");
    let out = gatehouse_on(&db)
        .args(["--json", "init", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "config");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("broken.toml: tariff.bands[0].increment_minutes:"),
        "{msg}"
    );
    assert!(!db.exists(), "nothing is written for an invalid config");
}

#[test]
fn forged_and_foreign_tickets_are_refused_by_ticket_verify() {
    let lot = lot();
    let (_, e) = lot.json("09:00", &["entry", "--plate", "B-AB 123"]);
    let qr = e["qr"].as_str().unwrap();
    let (ok, v) = lot.json("09:01", &["ticket", "verify", "--qr", qr]);
    assert!(ok && v["valid"] == true, "{v}");
    let forged: String = qr.chars().rev().collect();
    let (ok, v) = lot.json("09:01", &["ticket", "verify", "--qr", &forged]);
    assert!(!ok);
    assert!(
        v["error"]["kind"] == "ticket_forged" || v["error"]["kind"] == "ticket_foreign",
        "{v}"
    );

    // A ticket from another lot with the same layout.
    let other = self::lot();
    let (_, o) = other.json("09:00", &["entry", "--plate", "M-XY 1"]);
    let (ok, v) = lot.json(
        "09:01",
        &["ticket", "verify", "--qr", o["qr"].as_str().unwrap()],
    );
    assert!(!ok);
    // Same lot id "demo" but another secret: the signature fails.
    assert_eq!(v["error"]["kind"], "ticket_forged", "{v}");
}

#[test]
fn audit_verify_fails_after_a_row_is_edited() {
    let lot = lot();
    lot.json("09:00", &["entry", "--plate", "B-AB 123"]);
    lot.json("09:05", &["entry", "--plate", "B-AB 124"]);
    let (ok, v) = lot.json("09:06", &["audit", "verify"]);
    assert!(ok && v["rows"] == 3, "{v}");
    let conn = rusqlite::Connection::open(&lot.db).unwrap();
    conn.execute_batch("DROP TRIGGER journal_is_append_only_update; UPDATE journal SET actor = 'mallory' WHERE seq = 2;").unwrap();
    drop(conn);
    let (ok, v) = lot.json("09:07", &["audit", "verify"]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "journal");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("row 2"),
        "{v}"
    );
}

#[test]
fn backup_then_restore_through_the_cli() {
    let lot = lot();
    lot.json("09:00", &["entry", "--plate", "B-AB 123"]);
    let backup = lot.dir.path().join("b.db");
    let (ok, b) = lot.json("09:01", &["backup", "--to", backup.to_str().unwrap()]);
    assert!(ok, "{b}");
    let restored = lot.dir.path().join("r.db");
    let out = gatehouse_on(&restored)
        .args(["--json", "restore", "--from"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let q = gatehouse_on(&restored)
        .args([
            "--json",
            "--at",
            "2026-11-18T10:01:00+01:00",
            "quote",
            "--plate",
            "BAB123",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(v["total"], "4.50");
}

#[test]
fn occupancy_spots_override_and_out_of_service() {
    let lot = lot();
    let (_, e) = lot.json("09:00", &["entry", "--plate", "B-AB 123"]);
    let (ok, v) = lot.json(
        "09:01",
        &[
            "override",
            "--plate",
            "BAB123",
            "--spot",
            "P1-D-001",
            "--reason",
            "compact is fine",
        ],
    );
    assert!(!ok && v["error"]["kind"] == "forbidden", "{v}");
    let (ok, v) = lot.json(
        "09:01",
        &[
            "--role",
            "supervisor",
            "override",
            "--plate",
            "BAB123",
            "--spot",
            "P1-D-001",
            "--reason",
            "x",
        ],
    );
    assert!(
        !ok && v["error"]["kind"] == "conflict",
        "a compact spot does not fit a standard car: {v}"
    );
    let (ok, v) = lot.json(
        "09:01",
        &[
            "--role",
            "supervisor",
            "override",
            "--plate",
            "BAB123",
            "--spot",
            "P1-DS-001",
            "--reason",
            "family",
        ],
    );
    assert!(ok, "{v}");
    let (ok, v) = lot.json(
        "09:02",
        &[
            "--role",
            "supervisor",
            "spots",
            "out-of-service",
            e["spot"].as_str().unwrap(),
            "--reason",
            "pothole",
        ],
    );
    assert!(ok, "{v}");
    let (_, o) = lot.json("09:03", &["occupancy"]);
    assert_eq!(o["total"]["occupied"], 1);
    assert_eq!(o["total"]["out_of_service"], 1);
    assert_eq!(o["by_level"]["P1"]["occupied"], 1);
    let (_, s) = lot.json("09:03", &["spots", "--level", "P1"]);
    let taken: Vec<&Value> = s["spots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["plate"] == "BAB123")
        .collect();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0]["id"], "P1-DS-001");
}

#[test]
fn bench_prints_the_figures_it_measures() {
    let lot = lot();
    let out = lot.run(&["--json", "bench", "--seconds", "0.3", "--workers", "4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["durability"].as_str().unwrap().contains("fsynced"), "{v}");
    for run in ["group_commit", "one_commit_per_command", "steady"] {
        for key in ["events_per_s", "p50_ms", "p99_ms", "max_ms", "mean_group"] {
            assert!(
                v[run][key].as_f64().is_some_and(|x| x > 0.0),
                "{run}.{key} in {v}"
            );
        }
        assert!(v[run]["events"].as_i64().unwrap() > 0);
        // Where the writer's time went, per command: every command is applied and journaled,
        // every group committed and synced.
        let w = &v[run]["writer_us_per_command"];
        for key in ["apply", "journal", "commit", "fsync", "total"] {
            assert!(
                w[key].as_f64().is_some_and(|x| x > 0.0),
                "{run}.writer_us_per_command.{key} in {v}"
            );
        }
        let parts: f64 = ["due", "validate", "apply", "journal", "commit"]
            .iter()
            .map(|k| w[*k].as_f64().unwrap())
            .sum();
        assert!((parts - w["total"].as_f64().unwrap()).abs() < 0.05, "{w}");
    }
}

#[test]
fn scripted_day_runs_and_its_journal_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("day.db");
    let out = common::gatehouse()
        .args([
            "--json",
            "day",
            "--date",
            "2026-11-18",
            "--vehicles",
            "300",
            "--out",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["journal_verified"], true);
    assert_eq!(v["vehicles"]["arrived"], 300);
    let entered = v["vehicles"]["entered"].as_u64().unwrap();
    let left = v["vehicles"]["exited"].as_u64().unwrap();
    let inside = v["vehicles"]["inside_at_midnight"].as_u64().unwrap();
    assert_eq!(entered, left + inside);
    assert!(
        v["revenue"]["total"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    // The kept database agrees with the summary.
    let occ = gatehouse_on(&db)
        .args(["--json", "--at", "2026-11-18T23:59:59+01:00", "occupancy"])
        .output()
        .unwrap();
    let o: Value = serde_json::from_slice(&occ.stdout).unwrap();
    let inside_by_class: u64 = o["vehicles_by_class"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(inside_by_class, inside);
}

#[test]
fn the_demo_lot_runs_live_through_its_lanes() {
    let out = common::gatehouse()
        .args([
            "--json",
            "demo",
            "--minutes",
            "0.5",
            "--speed",
            "120",
            "--from",
            "09:00",
            "--date",
            "2026-11-18",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["journal_verified"], true);
    // An hour of the lot's morning went through the lanes: cars in, some out again, each
    // through the barrier with the timing of its steps.
    let entered: u64 = v["entered"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(entered >= 10, "{v}");
    assert!(v["exited"].as_u64().unwrap() >= 1, "{v}");
    let steps: Vec<&str> = v["entry_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    for step in ["plate read", "decided", "gate command", "passed"] {
        assert!(steps.contains(&step), "{step} missing: {steps:?}");
    }
    // Drivers who asked for a charger on the entry screen got one.
    assert!(v["asked"]["charger"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(
        v["spots_given"]["EV charger"].as_u64().unwrap_or(0) >= 1,
        "{v}"
    );
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
}
