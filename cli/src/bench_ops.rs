//! `gatehouse bench-ops`: the operations benchmarks.
//! - Availability for a window with N reservations on the books (booked through the engine):
//!   p50/p99/max of the query.
//! - A monthly report over D days × S stays a day (the month written straight into the tables
//!   the engine writes, since the demo lot cannot physically hold 6,000 stays a day through its
//!   lanes): the time to compute it, and to render it as PDF.

use crate::output::Out;
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use gatehouse_core::reservations::{ReservationRequest, availability};
use gatehouse_core::{Actor, Command, Engine, EngineOptions, Error, Lot, LotConfig, VehicleClass};
use gatehouse_sim::Rng;
use serde::Serialize;
use std::time::Instant;

#[derive(Args)]
pub struct BenchOpsArgs {
    /// Reservations on the books for the availability benchmark.
    #[arg(long, default_value_t = 10_000)]
    reservations: usize,
    /// Availability queries to time.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Days in the report benchmark.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Stays a day in the report benchmark.
    #[arg(long, default_value_t = 6_000)]
    stays_per_day: i64,
}

#[derive(Serialize)]
struct Figures {
    reservations_booked: usize,
    reservations_refused_full: usize,
    booking_seconds: f64,
    availability_queries: usize,
    availability_p50_ms: f64,
    availability_p99_ms: f64,
    availability_max_ms: f64,
    report_days: i64,
    report_stays: i64,
    report_payments: i64,
    report_ms: f64,
    report_pdf_ms: f64,
    report_pdf_bytes: usize,
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::storage(format!("benchmark set-up failed: {e}"))
}

/// The `p` quantile (0 to 1) of sorted milliseconds, rounded to microseconds.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i.min(sorted.len() - 1)] * 1000.0).round() / 1000.0
}

fn new_lot(
    name: &str,
    at: DateTime<Utc>,
) -> Result<(tempfile::TempDir, std::path::PathBuf), Error> {
    let dir = tempfile::tempdir().map_err(fail)?;
    let path = dir.path().join(name);
    Engine::init(&path, &LotConfig::demo()?, at, &Actor::system("bench"))?;
    Ok((dir, path))
}

pub fn run(args: &BenchOpsArgs, out: &Out) -> Result<(), Error> {
    let now = Utc::now();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    // ---- availability with N reservations ------------------------------------------------
    let (_d1, path) = new_lot("availability.db", now)?;
    let engine = Engine::open(&path, EngineOptions::default())?;
    let classes = [
        VehicleClass::Compact,
        VehicleClass::Standard,
        VehicleClass::Standard,
        VehicleClass::Standard,
        VehicleClass::Large,
    ];
    let requests: Vec<ReservationRequest> = (0..args.reservations)
        .map(|_| {
            let start = now + Duration::minutes(60 + rng.below(29 * 24 * 60) as i64);
            let ev = rng.below(10) == 0;
            ReservationRequest {
                plate: None,
                class: classes[rng.below(classes.len() as u64) as usize],
                ev,
                accessible: !ev && rng.below(30) == 0,
                spot: None,
                start,
                end: start + Duration::minutes(60 + rng.below(180) as i64),
                holder: None,
            }
        })
        .collect();
    let started = Instant::now();
    let (booked, full) = std::thread::scope(|s| {
        let chunks: Vec<&[ReservationRequest]> = requests
            .chunks(args.reservations.div_ceil(8).max(1))
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let engine = &engine;
                s.spawn(move || {
                    let (mut ok, mut full) = (0, 0);
                    for r in chunk {
                        match engine.execute(
                            &Actor::system("web"),
                            now,
                            Command::Reserve(r.clone()),
                        ) {
                            Ok(_) => ok += 1,
                            Err(_) => full += 1,
                        }
                    }
                    (ok, full)
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let booking_seconds = started.elapsed().as_secs_f64();
    drop(engine);
    let lot = Lot::open(&path)?;
    let policy = &lot.context().config.policies.reservations;
    let mut times = Vec::with_capacity(args.queries);
    for _ in 0..args.queries {
        let start = now + Duration::minutes(rng.below(29 * 24 * 60) as i64);
        let class = classes[rng.below(classes.len() as u64) as usize];
        let t = Instant::now();
        let a = availability(
            lot.connection(),
            policy,
            class,
            false,
            false,
            start,
            start + Duration::hours(3),
        )?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(a);
    }
    times.sort_by(f64::total_cmp);
    // ---- a month of stays and its report -------------------------------------------------
    let (_d2, rpath) = new_lot("report.db", now)?;
    let lot2 = Lot::open(&rpath)?;
    let ctx = lot2.context();
    let from = gatehouse_core::reports::period_bounds(
        ctx,
        "month",
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).ok_or_else(|| fail("date"))?,
    )?;
    let spots: Vec<String> = ctx.config.spots.iter().map(|s| s.id.clone()).collect();
    let methods = ["cash", "card", "card", "mobile_wallet", "upi"];
    let conn = rusqlite::Connection::open(&rpath).map_err(fail)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN")
        .map_err(fail)?;
    let mut payments = 0i64;
    {
        let mut stay = conn
            .prepare("INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, spot_id, paid, exit_at, exit_lane) VALUES (?1, 'standard', 0, 0, 'E1', ?2, ?3, ?4, ?5, 'X1')")
            .map_err(fail)?;
        let mut spot = conn
            .prepare(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at, to_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(fail)?;
        let mut pay = conn
            .prepare("INSERT INTO payments (stay_id, idem_key, kind, method, amount, tendered, change, at, actor) VALUES (?1, ?2, 'payment', ?3, ?4, ?4, '0', ?5, 'bench')")
            .map_err(fail)?;
        let mut line = conn
            .prepare("INSERT INTO stay_lines (stay_id, kind, amount) VALUES (?1, 'band', ?2)")
            .map_err(fail)?;
        let ts = gatehouse_core::store::ts;
        for day in 0..args.days {
            for k in 0..args.stays_per_day {
                let entry =
                    from.0 + Duration::days(day) + Duration::minutes(rng.below(24 * 60 - 5) as i64);
                let exit = entry + Duration::minutes(5 + rng.below(240) as i64);
                let fee = rust_decimal::Decimal::new(150 * (1 + rng.below(8) as i64), 2);
                let spot_id = &spots[(k as usize + day as usize * 7) % spots.len()];
                stay.execute(rusqlite::params![
                    format!("B{day}X{k}"),
                    ts(entry),
                    spot_id,
                    fee.to_string(),
                    ts(exit)
                ])
                .map_err(fail)?;
                let id = conn.last_insert_rowid();
                spot.execute(rusqlite::params![id, spot_id, ts(entry), ts(exit)])
                    .map_err(fail)?;
                pay.execute(rusqlite::params![
                    id,
                    format!("b-{id}"),
                    methods[rng.below(methods.len() as u64) as usize],
                    fee.to_string(),
                    ts(exit - Duration::minutes(3))
                ])
                .map_err(fail)?;
                line.execute(rusqlite::params![id, fee.to_string()])
                    .map_err(fail)?;
                payments += 1;
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(fail)?;
    drop(conn);
    let t = Instant::now();
    let report = gatehouse_core::reports::report(lot2.connection(), ctx, "month", from.0, from.1)?;
    let report_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let pdf = gatehouse_paper::render_pdf(&gatehouse_reports::document(&report))
        .map_err(|e| Error::invalid(e.message))?;
    let report_pdf_ms = t.elapsed().as_secs_f64() * 1000.0;
    let f = Figures {
        reservations_booked: booked,
        reservations_refused_full: full,
        booking_seconds: (booking_seconds * 100.0).round() / 100.0,
        availability_queries: times.len(),
        availability_p50_ms: percentile(&times, 0.50),
        availability_p99_ms: percentile(&times, 0.99),
        availability_max_ms: percentile(&times, 1.0),
        report_days: args.days,
        report_stays: report.entries as i64,
        report_payments: payments,
        report_ms: report_ms.round(),
        report_pdf_ms: report_pdf_ms.round(),
        report_pdf_bytes: pdf.len(),
    };
    out.value(&f, || {
        format!(
            "availability with {} reservations booked ({} refused as full, booked in {:.1} s): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} queries\n\
             monthly report over {} days × {} stays ({} stays): computed in {:.0} ms, PDF rendered in {:.0} ms ({} bytes)",
            f.reservations_booked,
            f.reservations_refused_full,
            f.booking_seconds,
            f.availability_p50_ms,
            f.availability_p99_ms,
            f.availability_max_ms,
            f.availability_queries,
            f.report_days,
            args.stays_per_day,
            f.report_stays,
            f.report_ms,
            f.report_pdf_ms,
            f.report_pdf_bytes
        )
    });
    Ok(())
}
