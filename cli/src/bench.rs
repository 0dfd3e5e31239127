//! `gatehouse bench`: concurrent entry → pay → exit cycles through the engine on a temporary
//! database, each acknowledged only once it is on the disk; durable events/s and latency
//! percentiles, for group commit and for one commit per command, and latency at a steady rate;
//! and where the writer's time goes per command.

use chrono::{DateTime, Utc};
use clap::Args;
use gatehouse_core::{Actor, Engine, EngineOptions, Error, LotConfig, WriterTimes};
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
    /// Commands per durable commit, on average.
    mean_group: f64,
    /// Where the writer's time went, per command, in microseconds.
    writer_us_per_command: Phases,
}

/// The writer's time per command, by step, in microseconds.
#[derive(Serialize)]
struct Phases {
    /// Time-driven changes due before the command (reservation no-shows).
    due: f64,
    /// Permission and session checks.
    validate: f64,
    /// The command's own reads and writes, with its savepoint.
    apply: f64,
    /// Sealing personal data and appending to the hash-chained journal.
    journal: f64,
    /// The group's durable commit, shared out over its commands.
    commit: f64,
    /// All of the above: the writer's time per command.
    total: f64,
    /// The WAL's fsync, shared out over the commands it made durable: off the writer's path
    /// (the durability thread), but every caller waits for one.
    fsync: f64,
}

impl Phases {
    fn of(t: &WriterTimes) -> Phases {
        let per = |ns: u64| -> f64 {
            if t.commands == 0 {
                return 0.0;
            }
            (ns as f64 / t.commands as f64 / 10.0).round() / 100.0
        };
        Phases {
            due: per(t.due_ns),
            validate: per(t.validate_ns),
            apply: per(t.apply_ns),
            journal: per(t.journal_ns),
            commit: per(t.commit_ns),
            total: per(t.due_ns + t.validate_ns + t.apply_ns + t.journal_ns + t.commit_ns),
            fsync: per(t.sync_ns),
        }
    }
}

#[derive(Serialize)]
struct Report {
    /// When a command counts as done.
    durability: String,
    journal_mode: String,
    group_commit: Run,
    one_commit_per_command: Run,
    steady: Run,
    steady_rate_per_s: u32,
}

/// What the engine does before it acknowledges a command.
const DURABILITY: &str = "a command is acknowledged after its group's WAL frames are fsynced (one fsync for every group committed meanwhile)";

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

/// One command of a worker's cycle (entry, pay, exit, entry, ...): how long the engine took.
/// `qr` is the ticket the entry issued, which pay and exit scan, as a real lane would.
fn step(
    engine: &Engine,
    actor: &Actor,
    n: usize,
    plate: &str,
    qr: &mut String,
    base: DateTime<Utc>,
) -> Result<Duration, Error> {
    let t0 = Instant::now();
    match n % 3 {
        0 => *qr = engine.run(actor, base, crate::cycle::entry(plate)?)?.qr,
        1 => {
            let at = base + crate::cycle::pays_after();
            engine.run(actor, at, crate::cycle::pay(plate, qr))?;
        }
        _ => {
            let at = base + crate::cycle::leaves_after();
            engine.run(actor, at, crate::cycle::exit(qr))?;
        }
    }
    Ok(t0.elapsed())
}

fn summarize(
    mode: &'static str,
    workers: usize,
    elapsed: Duration,
    mut lat: Vec<Duration>,
    events: i64,
    times: &WriterTimes,
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
        mean_group: if times.groups == 0 {
            0.0
        } else {
            (times.commands as f64 / times.groups as f64 * 10.0).round() / 10.0
        },
        writer_us_per_command: Phases::of(times),
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
    Ok(summarize(
        mode,
        workers,
        elapsed,
        all,
        events,
        &b.engine.times(),
    ))
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
    Ok(summarize(
        "steady",
        1,
        elapsed,
        lat,
        events,
        &b.engine.times(),
    ))
}

pub fn run(args: &BenchArgs, out: &Out) -> Result<(), Error> {
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        return Err(Error::invalid("--seconds is between 0 and 600"));
    }
    let workers = args.workers.clamp(1, 200);
    let journal_mode: String = {
        let b = open(1)?;
        let conn = gatehouse_core::store::open(&b.path, false)?;
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?
    };
    let durability = DURABILITY.to_string();
    if !out.json {
        eprintln!(
            "bench: {workers} workers, {} s per run, journal_mode={journal_mode}; {durability}",
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
        durability,
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
        println!();
        println!(
            "{:<24} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "writer µs per command",
            "group",
            "due",
            "validate",
            "apply",
            "journal",
            "commit",
            "total"
        );
        for r in [
            &report.group_commit,
            &report.one_commit_per_command,
            &report.steady,
        ] {
            let p = &r.writer_us_per_command;
            println!(
                "{:<24} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
                r.mode,
                r.mean_group,
                p.due,
                p.validate,
                p.apply,
                p.journal,
                p.commit,
                p.total,
                p.fsync
            );
        }
    }
    Ok(())
}
