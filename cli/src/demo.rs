//! `gatehouse demo`: the demo lot, live. Every lane runs on simulated devices over their real
//! protocols and vehicles come from a day's traffic profile on a fast clock (gatehouse-sim's demo); this
//! shell prints what happens and the summary.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use clap::Args;
use gatehouse_core::{Error, LotConfig};
use gatehouse_sim::demo::{DemoOptions, DemoSummary, StepFigure};
use std::path::PathBuf;

use crate::output::Out;

#[derive(Args)]
pub struct DemoArgs {
    /// How long to run, in real minutes.
    #[arg(long, default_value_t = 3.0)]
    minutes: f64,
    /// How fast the lot's clock runs: lot seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Local time of day the lot's clock starts at (HH:MM).
    #[arg(long, default_value = "07:30")]
    from: String,
    /// The local date (YYYY-MM-DD); default today, or the date of --at.
    #[arg(long)]
    date: Option<String>,
    /// Vehicles arriving over the whole day (those due while the demo runs come).
    #[arg(long, default_value_t = 900)]
    vehicles: usize,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Keep the lot database at this path (default: a temporary file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print every fallback and refusal as it happens (default: the first few).
    #[arg(long)]
    verbose: bool,
    /// Entry and exit lanes instead of the demo lot's 2x2, e.g. 8x8 (all simulated).
    #[arg(long, value_name = "ENTRYxEXIT")]
    lanes: Option<String>,
    /// Benchmark the lanes: vehicles back to back at every entry lane (each staying 3 to 60 lot
    /// minutes) instead of the day's traffic profile.
    #[arg(long)]
    full_tilt: bool,
}

fn lanes_of(text: &str) -> Result<(usize, usize), Error> {
    text.trim()
        .split_once(['x', 'X'])
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .ok_or_else(|| {
            Error::invalid(format!(
                "--lanes '{text}' is not ENTRYxEXIT; write it like 8x8"
            ))
        })
}

fn start_of(args: &DemoArgs, at: Option<&str>) -> Result<DateTime<Utc>, Error> {
    let tz = LotConfig::demo()?.lot.timezone;
    let date = crate::day::local_date(args.date.as_deref(), at, tz)?;
    let time = NaiveTime::parse_from_str(args.from.trim(), "%H:%M").map_err(|_| {
        Error::invalid(format!(
            "--from '{}' is not a time of day; write HH:MM",
            args.from
        ))
    })?;
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Error::invalid(format!(
                "--from {} does not exist on {date} in {tz} (a clock change); pick another time",
                args.from
            ))
        })
}

pub fn run(args: &DemoArgs, at: Option<&str>, out: &Out) -> Result<(), Error> {
    let start = start_of(args, at)?;
    let dir = tempfile::tempdir()
        .map_err(|e| Error::storage(format!("cannot make a temporary directory: {e}")))?;
    let db = match &args.out {
        Some(p) => p.clone(),
        None => dir.path().join("demo.db"),
    };
    let opts = DemoOptions {
        db: db.clone(),
        start,
        speed: args.speed,
        minutes: args.minutes,
        vehicles_per_day: args.vehicles,
        seed: args.seed,
        lanes: args.lanes.as_deref().map(lanes_of).transpose()?,
        full_tilt: args.full_tilt,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::storage(format!("cannot start the async runtime: {e}")))?;
    let (json, verbose) = (out.json, args.verbose);
    if !json {
        println!(
            "Gatehouse demo lot, live: {} lanes on simulated devices (Modbus TCP gate boards and loops, HTTP cameras, ESC/POS printers, serial scanners, ZVT terminals) for {} min at {}×{}",
            args.lanes.as_deref().unwrap_or("2x2"),
            args.minutes,
            args.speed,
            if args.full_tilt {
                ", vehicles back to back"
            } else {
                ""
            }
        );
    }
    let shown = std::sync::atomic::AtomicUsize::new(0);
    let summary = rt.block_on(gatehouse_sim::demo::run(opts, move |line| {
        if json {
            return;
        }
        let n = shown.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if verbose || n < 25 {
            println!("  {line}");
        } else if n == 25 {
            println!("  … (--verbose shows every line)");
        }
    }))?;
    if json {
        out.print_json(&summary);
    } else {
        print_summary(&summary);
        if args.out.is_some() {
            println!(
                "  The lot database is kept at {}: try `gatehouse --db {} occupancy` or `audit verify`.",
                db.display(),
                db.display()
            );
        }
    }
    if !summary.journal_verified {
        return Err(Error::new(
            gatehouse_core::ErrorKind::Journal,
            "the demo's journal does not verify",
        ));
    }
    Ok(())
}

fn join(map: &std::collections::BTreeMap<String, usize>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn steps(title: &str, figures: &[StepFigure]) {
    println!("  {title}");
    for f in figures {
        println!(
            "    {:<16} p50 {:>5} ms   p99 {:>5} ms   ({} vehicles)",
            f.step, f.p50_ms, f.p99_ms, f.count
        );
    }
}

fn print_summary(s: &DemoSummary) {
    println!();
    println!("Summary: lot time {} to {} at {}×", s.from, s.to, s.speed);
    println!(
        "  Vehicles   {} arrived; in: {}; turned away: {}",
        s.arrived,
        join(&s.entered),
        join(&s.refused)
    );
    println!(
        "             {} out: {}; {} inside at the end; {} still queued at a lane",
        s.exited,
        join(&s.exits_by),
        s.inside_at_end,
        s.unfinished
    );
    println!(
        "  Spots      given: {}; asked at the entry screen: {}",
        join(&s.spots_given),
        join(&s.asked)
    );
    println!(
        "  Peak       {} of {} spots occupied",
        s.peak_occupied, s.capacity
    );
    if let Some(r) = &s.revenue {
        let m: Vec<String> = r
            .by_method
            .iter()
            .map(|(k, a)| format!("{k} {a}"))
            .collect();
        println!(
            "  Revenue    {} {} from {} payments ({})",
            r.total,
            r.currency,
            r.payments,
            m.join(" · ")
        );
    }
    println!(
        "  Fallbacks  {}; {} declined cards paid on retry; {} tailgates",
        join(&s.fallbacks),
        s.declined_then_paid,
        s.tailgates
    );
    steps("Entry lanes, from the vehicle on the loop:", &s.entry_steps);
    steps("Exit lanes, from the vehicle on the loop:", &s.exit_steps);
    if let Some(d) = &s.engine_decision {
        println!(
            "  Engine     entry decision as the lane saw it: p50 {} ms, p99 {} ms ({} entries by plate)",
            d.p50_ms, d.p99_ms, d.count
        );
    }
    println!(
        "  Throughput {:.2} vehicles through a barrier per second, {:.2} journal events per second, over {:.0} s",
        s.passes_per_s, s.journal_events_per_s, s.seconds
    );
    println!(
        "  Queue      waits at a lane: p50 {:.1} s, p99 {:.1} s (real time)",
        s.queue_wait_s.0, s.queue_wait_s.1
    );
    println!(
        "  Journal    {} rows, hash chain {}",
        s.journal_rows,
        if s.journal_verified {
            "verified"
        } else {
            "BROKEN"
        }
    );
    if !s.problems.is_empty() {
        println!("  Problems   {}", s.problems.len());
        for p in s.problems.iter().take(10) {
            println!("    {p}");
        }
    }
}
