//! Ingest benchmark against a real PostgreSQL on this machine (printed, not a timed test):
//!   (a) many lots pushing at once, each its own chain, in gzip batches → events/s;
//!   (b) one lot catching up a busy day's journal → seconds.
//!
//! cargo run --release -p gatehouse-server --example bench -- [--lots 100] [--per-lot 3000]
//!     [--batch 500] [--catch-up 30000] [--database postgres://…] [--fast]
//!
//! Without --database it starts a throwaway cluster (durable: fsync and synchronous commit on,
//! as in production; --fast turns them off). The request bodies are built and gzipped before
//! the clock starts, so the figures are the server's and PostgreSQL's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gatehouse_server::app;
use gatehouse_server::auth;
use gatehouse_server::config::Config;
use gatehouse_server::pgtest::{Cluster, Options};
use gatehouse_sync::proto::WireEvent;
use serde_json::json;
use std::io::Write;
use std::time::Instant;

struct Args {
    lots: usize,
    per_lot: usize,
    batch: usize,
    catch_up: usize,
    database: Option<String>,
    fast: bool,
}

fn args() -> Args {
    let mut a = Args {
        lots: 100,
        per_lot: 3000,
        batch: 500,
        catch_up: 30_000,
        database: None,
        fast: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut num = || -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{k} needs a number"))
        };
        match k.as_str() {
            "--lots" => a.lots = num(),
            "--per-lot" => a.per_lot = num(),
            "--batch" => a.batch = num(),
            "--catch-up" => a.catch_up = num(),
            "--database" => a.database = it.next(),
            "--fast" => a.fast = true,
            _ => panic!("unknown argument {k}; see the header of server/examples/bench.rs"),
        }
    }
    a
}

/// A lot's day: entries, exits, payments and lane reports, chained from genesis, with payloads
/// the size of the real events.
fn journal(lot: usize, n: usize) -> Vec<WireEvent> {
    let mut prev = [0u8; 32];
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-18T05:00:00Z").unwrap();
    (1..=n as i64)
        .map(|seq| {
            let at = (t0 + chrono::Duration::milliseconds(seq * 2300))
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let stay = seq / 4;
            let (kind, payload) = match seq % 4 {
                0 => ("vehicle_entered", json!({"kind": "vehicle_entered", "stay": stay, "ticket": format!("T{lot}-{stay}"), "plate": format!("GH{stay:05}"), "class": "standard", "ev": false, "accessible": false, "lane": "E1", "spot": format!("A-{}", stay % 400), "reason": "free", "occupancy_factor": "1.00"})),
                1 => ("payment_recorded", json!({"kind": "payment_recorded", "stay": stay, "ticket": format!("T{lot}-{stay}"), "payment": stay, "method": "card", "amount": "4.50", "tendered": "4.50", "change": "0.00", "key": format!("k{lot}-{seq}"), "paid_total": "4.50", "due_after": "0.00"})),
                2 => ("vehicle_exited", json!({"kind": "vehicle_exited", "stay": stay, "ticket": format!("T{lot}-{stay}"), "plate": format!("GH{stay:05}"), "spot": format!("A-{}", stay % 400), "lane": "X1", "minutes": 95, "fee": "4.50", "paid": "4.50"})),
                _ => ("lane_reported", json!({"kind": "lane_reported", "lane": "E1", "what": "pass", "detail": "loop clear 1.8 s after the arm rose"})),
            };
            let payload = payload.to_string();
            let h = gatehouse_core::journal::link_hash(&prev, seq, &at, "lane-E1", "system", kind, &payload);
            prev = h;
            WireEvent { seq, at, actor: "lane-E1".into(), role: "system".into(), kind: kind.into(), payload, hash: hex::encode(h) }
        })
        .collect()
}

fn bodies(events: &[WireEvent], batch: usize) -> Vec<Vec<u8>> {
    events
        .chunks(batch)
        .map(|c| {
            let json = serde_json::to_vec(&json!({ "events": c })).unwrap();
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&json).unwrap();
            e.finish().unwrap()
        })
        .collect()
}

async fn push_all(
    http: &reqwest::Client,
    base: &str,
    lot: &str,
    token: &str,
    bodies: Vec<Vec<u8>>,
) {
    for b in bodies {
        let r = http
            .post(format!("{base}/v1/lots/{lot}/journal"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(b)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{lot}: {}",
            r.text().await.unwrap()
        );
    }
}

async fn create_lot(http: &reqwest::Client, base: &str, admin: &str, id: &str) -> String {
    let r = http
        .post(format!("{base}/v1/lots"))
        .bearer_auth(admin)
        .json(&json!({"id": id, "name": id, "timezone": "Europe/Berlin"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::main]
async fn main() {
    let a = args();
    let (_cluster, db) = match &a.database {
        Some(url) => (None, url.clone()),
        None => {
            let c = Cluster::start(Options { durable: !a.fast }).unwrap_or_else(|e| panic!("{e}"));
            let url = c.create_database("bench").await.unwrap();
            (Some(c), url)
        }
    };
    let admin = auth::new_token().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db,
        admin_token_sha256: auth::token_sha256(&admin),
        pool_size: 16,
        tls: None,
    };
    let state = gatehouse_server::connect(&config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(
        listener,
        app::router(state),
        None,
        std::future::pending(),
    ));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let run = std::process::id();

    // (a) many lots at once.
    let mut lots = Vec::new();
    for i in 0..a.lots {
        let id = format!("bench-{run}-{i}");
        let token = create_lot(&http, &base, &admin, &id).await;
        lots.push((id, token, bodies(&journal(i, a.per_lot), a.batch)));
    }
    let t0 = Instant::now();
    let tasks: Vec<_> = lots
        .into_iter()
        .map(|(id, token, b)| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move { push_all(&http, &base, &id, &token, b).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent_s = t0.elapsed().as_secs_f64();
    let total = a.lots * a.per_lot;
    let eps = total as f64 / concurrent_s;

    // (b) one lot catching up a busy day.
    let id = format!("bench-{run}-catchup");
    let token = create_lot(&http, &base, &admin, &id).await;
    let b = bodies(&journal(9999, a.catch_up), a.batch);
    let t0 = Instant::now();
    push_all(&http, &base, &id, &token, b).await;
    let catch_up_s = t0.elapsed().as_secs_f64();

    // Every row is there, once.
    let (c, conn) = tokio_postgres::connect(&config.database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let stored: i64 = c
        .query_one(
            "SELECT count(*) FROM journal WHERE lot_id LIKE $1",
            &[&format!("bench-{run}-%")],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored as usize, total + a.catch_up, "rows stored");

    let report = json!({
        "concurrent": {"lots": a.lots, "events_per_lot": a.per_lot, "batch": a.batch, "events": total,
                        "seconds": (concurrent_s * 1000.0).round() / 1000.0, "events_per_s": eps.round()},
        "catch_up": {"events": a.catch_up, "batch": a.batch, "seconds": (catch_up_s * 1000.0).round() / 1000.0,
                      "events_per_s": (a.catch_up as f64 / catch_up_s).round()},
        "durable": a.database.is_some() || !a.fast,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    println!("{report}");
    println!(
        "ingest: {} lots pushing at once, {total} events in batches of {}: {:.2} s, {:.0} events/s (target >= 5000)",
        a.lots, a.batch, concurrent_s, eps
    );
    println!(
        "catch-up: one lot, {} events in batches of {}: {:.2} s (target <= 10 s)",
        a.catch_up, a.batch, catch_up_s
    );
}
