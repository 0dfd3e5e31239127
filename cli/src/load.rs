//! `gatehouse load`: entry → pay → exit cycles against a lot database, one stdout line per
//! acknowledged command. A line is printed only after the engine acknowledged the command, so a
//! crash test can kill the process at any moment and check that every printed line is in the
//! database.

use chrono::{DateTime, Utc};
use clap::Args;
use gatehouse_core::{Actor, Engine, EngineOptions, Error};
use std::io::Write;
use std::path::Path;

#[derive(Args)]
pub struct LoadArgs {
    /// Cycles in all (spread over the workers).
    #[arg(long, default_value_t = 1000)]
    cycles: u64,
    /// Concurrent workers (at most 9).
    #[arg(long, default_value_t = 4)]
    workers: u64,
}

pub fn run(args: &LoadArgs, db: &Path, actor: &Actor) -> Result<(), Error> {
    let engine = Engine::open(db, EngineOptions::default())?;
    let workers = args.workers.clamp(1, 9);
    let base = Utc::now();
    let run = run_prefix()?;
    let per_worker = args.cycles.div_ceil(workers);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (engine, run) = (&engine, &run);
            s.spawn(move || {
                for i in 0..per_worker {
                    if let Err(e) = cycle(engine, actor, base, &format!("{run}{w}{i:06}")) {
                        eprintln!("error ({}): {}", e.kind.as_str(), e.message);
                    }
                }
            });
        }
    });
    Ok(())
}

/// Four random letters and digits (36^4, about 1.7 million) that start every plate of this run,
/// so that another run on the same lot, before or at the same time, meets neither its cars
/// (anti-passback) nor its payment keys. The prefix was once the process id XOR the clock's
/// microseconds modulo 10 000, and two processes started together drew the same one.
fn run_prefix() -> Result<String, Error> {
    const ALNUM: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    Ok(gatehouse_core::random_bytes::<4>()?
        .iter()
        .map(|b| char::from(ALNUM[usize::from(*b) % ALNUM.len()]))
        .collect())
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn cycle(engine: &Engine, actor: &Actor, base: DateTime<Utc>, plate: &str) -> Result<(), Error> {
    let e = engine.run(actor, base, crate::cycle::entry(plate)?)?;
    say(format!("entry {}", e.ticket));
    // Pay and exit present the signed QR code, as a lane does.
    let at = base + crate::cycle::pays_after();
    let p = engine.run(actor, at, crate::cycle::pay(plate, &e.qr))?;
    say(format!("pay {} {}", e.ticket, p.key));
    let at = base + crate::cycle::leaves_after();
    engine.run(actor, at, crate::cycle::exit(&e.qr))?;
    say(format!("exit {}", e.ticket));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::Plate;

    #[test]
    fn a_run_s_last_plate_is_a_valid_plate() {
        // A plate has at most 12 characters: the prefix, the worker and up to 7 digits.
        let plate = format!("{}{}{:06}", run_prefix().unwrap(), 8, 9_999_999);
        assert_eq!(Plate::parse(&plate).unwrap().as_str(), plate);
    }
}
