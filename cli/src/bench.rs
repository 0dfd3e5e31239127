//! `gatehouse bench`: concurrent entry → pay → exit cycles through the engine on a temporary
//! database with synchronous=FULL; durable events/s and latency percentiles, for group commit
//! and for one commit per command, and latency at a steady command rate.

use chrono::{DateTime, Utc};
use clap::Args;
use gatehouse_core::{Actor, Engine, EngineOptions, Error, LotConfig, Outcome};
use serde::Serialize;
use std::time::{Duration, Instant};

use crate::output::Out;

#[derive(Args)]
pub struct BenchArgs {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent workers in the closed-loop runs.
    #[arg(long, default_value_t = 64)]
    workers: usize,
    /// Commands per second in the steady-rate run.
    #[arg(long, default_value_t = 100)]
    rate: u32,
}

#[derive(Serialize)]
struct Run {
    mode: &'static str,
    workers: usize,
    seconds: f64,
    commands: usize,
    events: i64,
    events_per_s: f64,
    commands_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct Report {
    synchronous: String,
    journal_mode: String,
    group_commit: Run,
    one_commit_per_command: Run,
    steady: Run,
    steady_rate_per_s: u32,
}

struct Bench {
    _dir: tempfile::TempDir,
    engine: Engine,
    path: std::path::PathBuf,
}

fn open(max_group: usize) -> Result<Bench, Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::storage(format!("cannot make a temporary directory: {e}")))?;
    let path = dir.path().join("bench.db");
    Engine::init(
        &path,
        &LotConfig::demo()?,
        Utc::now(),
        &Actor::system("bench"),
    )?;
    let engine = Engine::open(&path, EngineOptions { max_group })?;
    Ok(Bench {
        _dir: dir,
        engine,
        path,
    })
}

fn journal_seq(path: &std::path::Path) -> Result<i64, Error> {
    let lot = gatehouse_core::Lot::open(path)?;
    Ok(lot
        .connection()
        .query_row("SELECT coalesce(max(seq), 0) FROM journal", [], |r| {
            r.get(0)
        })?)
}

/// One command of a worker's cycle; returns the ticket after an entry.
fn step(
    engine: &Engine,
    actor: &Actor,
    n: usize,
    plate: &str,
    ticket: &mut String,
    base: DateTime<Utc>,
) -> Result<Duration, Error> {
    let (cmd, at) = crate::cycle::command(n, plate, ticket, base)?;
    let t0 = Instant::now();
    let outcome = engine.execute(actor, at, cmd)?;
    let took = t0.elapsed();
    if let Outcome::Entered(e) = outcome {
        // The lane scans the signed QR code, as a real exit lane would.
        *ticket = e.qr;
    }
    Ok(took)
}

fn summarize(
    mode: &'static str,
    workers: usize,
    elapsed: Duration,
    mut lat: Vec<Duration>,
    events: i64,
) -> Run {
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        (lat[i].as_secs_f64() * 1e6).round() / 1e3
    };
    let secs = elapsed.as_secs_f64();
    Run {
        mode,
        workers,
        seconds: (secs * 100.0).round() / 100.0,
        commands: lat.len(),
        events,
        events_per_s: (events as f64 / secs).round(),
        commands_per_s: (lat.len() as f64 / secs).round(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: lat
            .last()
            .map_or(0.0, |d| (d.as_secs_f64() * 1e6).round() / 1e3),
    }
}

fn closed_loop(
    mode: &'static str,
    max_group: usize,
    workers: usize,
    seconds: f64,
) -> Result<Run, Error> {
    let b = open(max_group)?;
    let actor = Actor::system("bench");
    let before = journal_seq(&b.path)?;
    let base = Utc::now();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let results: Vec<Result<Vec<Duration>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (engine, actor) = (&b.engine, &actor);
                s.spawn(move || {
                    let mut lat = Vec::new();
                    let mut ticket = String::new();
                    let mut n = 0usize;
                    // Finish the cycle in hand so no vehicle is left inside.
                    while !n.is_multiple_of(3) || Instant::now() < deadline {
                        let plate = format!("B{w:03}{:07}", n / 3);
                        lat.push(step(engine, actor, n, &plate, &mut ticket, base)?);
                        n += 1;
                    }
                    Ok(lat)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::storage("a bench worker panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    let events = journal_seq(&b.path)? - before;
    Ok(summarize(mode, workers, elapsed, all, events))
}

fn steady(rate: u32, seconds: f64) -> Result<Run, Error> {
    let b = open(EngineOptions::default().max_group)?;
    let actor = Actor::system("bench");
    let before = journal_seq(&b.path)?;
    let base = Utc::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let total = ((seconds * f64::from(rate)) as usize / 3 * 3).max(3);
    let mut lat = Vec::with_capacity(total);
    let mut ticket = String::new();
    let start = Instant::now();
    for n in 0..total {
        let due = start + interval * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let plate = format!("S{:09}", n / 3);
        lat.push(step(&b.engine, &actor, n, &plate, &mut ticket, base)?);
    }
    let elapsed = start.elapsed();
    let events = journal_seq(&b.path)? - before;
    Ok(summarize("steady", 1, elapsed, lat, events))
}

pub fn run(args: &BenchArgs, out: &Out) -> Result<(), Error> {
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        return Err(Error::invalid("--seconds is between 0 and 600"));
    }
    let workers = args.workers.clamp(1, 200);
    let (synchronous, journal_mode) = {
        let b = open(1)?;
        let conn = gatehouse_core::store::open(&b.path, false)?;
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let sync = match sync {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            _ => "?",
        };
        (sync.to_string(), mode)
    };
    if !out.json {
        eprintln!(
            "bench: {workers} workers, {} s per run, synchronous={synchronous}, journal_mode={journal_mode}",
            args.seconds
        );
    }
    let group = closed_loop(
        "group_commit",
        EngineOptions::default().max_group,
        workers,
        args.seconds,
    )?;
    let single = closed_loop("one_commit_per_command", 1, workers, args.seconds)?;
    let steady = steady(args.rate, args.seconds)?;
    let report = Report {
        synchronous,
        journal_mode,
        group_commit: group,
        one_commit_per_command: single,
        steady,
        steady_rate_per_s: args.rate,
    };
    if out.json {
        out.print_json(&report);
    } else {
        println!(
            "{:<24} {:>10} {:>12} {:>9} {:>9} {:>9}",
            "run", "events/s", "commands/s", "p50 ms", "p99 ms", "max ms"
        );
        for r in [
            &report.group_commit,
            &report.one_commit_per_command,
            &report.steady,
        ] {
            println!(
                "{:<24} {:>10} {:>12} {:>9} {:>9} {:>9}",
                r.mode, r.events_per_s, r.commands_per_s, r.p50_ms, r.p99_ms, r.max_ms
            );
        }
    }
    Ok(())
}
