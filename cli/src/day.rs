//! `gatehouse day`: a scripted day on the demo lot through the engine alone (no lanes), as fast
//! as the engine goes. Arrivals from a profile (commuters,
//! shoppers, quick stops, evening and overnight guests), every change through the engine with
//! the engine clock set to the simulated time, and the exceptions an attendant meets: unpaid exit
//! attempts, drivers who dawdle past the exit grace, lost tickets, payment retries after a
//! terminal timeout, passback attempts, a spot out of service, a supervisor override.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clap::Args;
use gatehouse_core::command as req;
use gatehouse_core::lot::Lot;
use gatehouse_core::{
    Actor, Engine, EngineOptions, Error, ErrorKind, LotConfig, PaymentMethod, Plate, Request, Role,
    StayRef, VehicleClass,
};
use rust_decimal::Decimal;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::PathBuf;
use std::time::Instant;

use crate::output::Out;
use gatehouse_sim::Rng;
use gatehouse_sim::traffic::{CLASSES, Habit};

#[derive(Args)]
pub struct DayArgs {
    /// Keep the day's lot database at this path (default: a temporary file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The local date to simulate (YYYY-MM-DD); default today, or the date of --at.
    #[arg(long)]
    date: Option<String>,
    /// Seed of the traffic generator: the same seed gives the same day.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Vehicles arriving during the day.
    #[arg(long, default_value_t = 900)]
    vehicles: usize,
    /// Print every entry and exit, not only the first few and the exceptions.
    #[arg(long)]
    verbose: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quirk {
    None,
    ExitUnpaid,
    Dawdles,
    LosesTicket,
    TerminalTimeout,
}

struct Vehicle {
    plate: Plate,
    class: VehicleClass,
    ev: bool,
    accessible: bool,
    lane: &'static str,
    exit_lane: &'static str,
    stay_minutes: f64,
    method: PaymentMethod,
    quirk: Quirk,
    /// The QR payload of the ticket while the vehicle is inside.
    ticket: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Action {
    Sample,
    Arrive(usize),
    PayStation(usize),
    ExitLane(usize),
    Passback(usize),
    SpotOut,
    SpotBack,
    Override,
}

#[derive(Default, Serialize)]
struct Tally {
    arrived: usize,
    entered: usize,
    refused_full: BTreeMap<String, usize>,
    refused_passback: usize,
    exited: usize,
    inside_at_midnight: usize,
    unpaid_exit_attempts: usize,
    grace_overruns: usize,
    lost_tickets: usize,
    payment_retries_not_charged_twice: usize,
    free_exits: usize,
    stay_minutes_total: i64,
}

#[derive(Serialize)]
struct Summary {
    lot: String,
    date: NaiveDate,
    seed: u64,
    db: Option<String>,
    vehicles: Tally,
    average_stay_minutes: f64,
    peak_occupied: usize,
    peak_at: String,
    capacity: usize,
    peak_by_level: BTreeMap<String, usize>,
    revenue: gatehouse_core::lot::Revenue,
    journal_rows: i64,
    journal_verified: bool,
    backup_verified_rows: i64,
    engine_commands: usize,
    engine_seconds: f64,
}

/// A short, stable tag of a ticket's QR payload for idempotency keys.
fn p_ticket(qr: &str) -> &str {
    &qr[qr.len().saturating_sub(12)..]
}

const CITIES: [&str; 10] = ["B", "M", "HH", "K", "F", "S", "D", "L", "P", "HB"];

fn plate(rng: &mut Rng, taken: &mut std::collections::HashSet<String>) -> Result<Plate, Error> {
    loop {
        let city = CITIES[rng.below(CITIES.len() as u64) as usize];
        let a = (b'A' + rng.below(26) as u8) as char;
        let b = (b'A' + rng.below(26) as u8) as char;
        let n = 1 + rng.below(9999);
        let text = format!("{city}-{a}{b} {n}");
        if taken.insert(text.clone()) {
            return Plate::parse(&text);
        }
    }
}

fn generate(rng: &mut Rng, n: usize) -> Result<(Vec<Vehicle>, Vec<f64>), Error> {
    let mut taken = std::collections::HashSet::new();
    let mut vehicles = Vec::with_capacity(n);
    let mut arrivals = Vec::with_capacity(n);
    let methods = [
        (PaymentMethod::Card, 50),
        (PaymentMethod::Cash, 25),
        (PaymentMethod::MobileWallet, 15),
        (PaymentMethod::Upi, 5),
        (PaymentMethod::Prepaid, 5),
    ];
    for _ in 0..n {
        let habit = Habit::draw(rng);
        // Minutes after local midnight, and minutes of stay.
        let (arrive, stay) = habit.arrival_and_stay(rng);
        let class = *rng.pick(&CLASSES);
        let accessible = class != VehicleClass::Motorcycle && rng.chance(0.04);
        let ev =
            matches!(class, VehicleClass::Compact | VehicleClass::Standard) && rng.chance(0.14);
        let quirk = if habit == Habit::QuickStop {
            Quirk::None
        } else {
            *rng.pick(&[
                (Quirk::None, 910),
                (Quirk::ExitUnpaid, 40),
                (Quirk::Dawdles, 20),
                (Quirk::LosesTicket, 15),
                (Quirk::TerminalTimeout, 15),
            ])
        };
        vehicles.push(Vehicle {
            plate: plate(rng, &mut taken)?,
            class,
            ev,
            accessible,
            lane: if rng.chance(0.55) { "E1" } else { "E2" },
            exit_lane: if rng.chance(0.5) { "X1" } else { "X2" },
            stay_minutes: stay.max(3.0),
            method: *rng.pick(&methods),
            quirk,
            ticket: None,
        });
        arrivals.push(arrive.clamp(5.0, 23.0 * 60.0 + 50.0));
    }
    Ok((vehicles, arrivals))
}

struct Day<'a> {
    engine: &'a Engine,
    lot_path: PathBuf,
    booth: Actor,
    pay_station: Actor,
    lane: Actor,
    supervisor: Actor,
    tally: Tally,
    commands: usize,
    out: &'a Out,
    verbose: bool,
    tz: chrono_tz::Tz,
    shown: usize,
}

impl Day<'_> {
    fn exec<R: Request>(
        &mut self,
        actor: &Actor,
        at: DateTime<Utc>,
        request: R,
    ) -> Result<R::Reply, Error> {
        self.commands += 1;
        self.engine.run(actor, at, request)
    }
    fn say(&mut self, at: DateTime<Utc>, exceptional: bool, text: String) {
        if self.out.json {
            return;
        }
        if exceptional || self.verbose || self.shown < 6 {
            if !exceptional {
                self.shown += 1;
            }
            println!("  {} {text}", at.with_timezone(&self.tz).format("%H:%M"));
        }
    }
    fn due(&self, ticket: &str, at: DateTime<Utc>) -> Result<Decimal, Error> {
        Ok(Lot::open(&self.lot_path)?
            .quote(&StayRef::Ticket(ticket.to_string()), at)?
            .total
            .amount)
    }
    fn pay(
        &mut self,
        actor: &Actor,
        at: DateTime<Utc>,
        ticket: &str,
        method: PaymentMethod,
        key: Option<String>,
    ) -> Result<Option<String>, Error> {
        let due = self.due(ticket, at)?;
        if due.is_zero() {
            return Ok(None);
        }
        // Cash: the driver hands over the next round note.
        let amount = if method == PaymentMethod::Cash {
            [5, 10, 20, 50, 100, 200]
                .into_iter()
                .map(Decimal::from)
                .find(|n| *n >= due)
                .unwrap_or(due)
        } else {
            due
        };
        Ok(Some(
            self.exec(
                actor,
                at,
                req::Pay {
                    stay: StayRef::Ticket(ticket.to_string()),
                    method,
                    amount,
                    key,
                },
            )?
            .amount,
        ))
    }
}

/// The lot's local date to simulate: `--date`, else the date of `--at`, else today.
pub fn local_date(
    date: Option<&str>,
    at: Option<&str>,
    tz: chrono_tz::Tz,
) -> Result<NaiveDate, Error> {
    Ok(match (date, at) {
        (Some(d), _) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| Error::invalid(format!("--date '{d}' is not a date; write YYYY-MM-DD")))?,
        (None, Some(a)) => crate::parse_at(Some(a))?.with_timezone(&tz).date_naive(),
        (None, None) => Utc::now().with_timezone(&tz).date_naive(),
    })
}

pub fn run(args: &DayArgs, at: Option<&str>, out: &Out) -> Result<(), Error> {
    let config = LotConfig::demo()?;
    let tz = config.lot.timezone;
    let date = local_date(args.date.as_deref(), at, tz)?;
    let local = |minutes: f64| -> DateTime<Utc> {
        let midnight = tz
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        midnight + Duration::seconds((minutes * 60.0) as i64)
    };
    let dir = tempfile::tempdir()
        .map_err(|e| Error::storage(format!("cannot make a temporary directory: {e}")))?;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => dir.path().join("demo-day.db"),
    };
    Engine::init(&path, &config, local(0.0), &Actor::system("demo"))?;
    let engine = Engine::open(&path, EngineOptions::default())?;
    if !out.json {
        println!(
            "Gatehouse scripted day: {} ({}), {date}, seed {}",
            config.lot.name, config.lot.id, args.seed
        );
        println!(
            "  {} spots on {} levels, lanes E1 E2 (entry) X1 X2 (exit); first entries and every exception:",
            config.spots.len(),
            config.levels.len()
        );
    }
    let mut rng = Rng::new(args.seed);
    let (mut vehicles, arrivals) = generate(&mut rng, args.vehicles)?;
    let mut queue: BinaryHeap<Reverse<(i64, usize, Action)>> = BinaryHeap::new();
    let mut seq = 0usize;
    let mut push =
        |q: &mut BinaryHeap<Reverse<(i64, usize, Action)>>, at: DateTime<Utc>, a: Action| {
            seq += 1;
            q.push(Reverse((at.timestamp_millis(), seq, a)));
        };
    for (i, m) in arrivals.iter().enumerate() {
        push(&mut queue, local(*m), Action::Arrive(i));
    }
    for k in 0..96 {
        push(
            &mut queue,
            local(f64::from(k) * 15.0 + 14.9),
            Action::Sample,
        );
    }
    for (k, m) in [9.5, 12.25, 16.75, 18.5].iter().enumerate() {
        push(
            &mut queue,
            local(m * 60.0),
            Action::Passback(k * 97 % vehicles.len().max(1)),
        );
    }
    push(&mut queue, local(10.25 * 60.0), Action::SpotOut);
    push(&mut queue, local(14.67 * 60.0), Action::SpotBack);
    push(&mut queue, local(12.0 * 60.0), Action::Override);

    let mut day = Day {
        engine: &engine,
        lot_path: path.clone(),
        booth: Actor::new("booth-anna", Role::Cashier)?,
        pay_station: Actor::new("pay-station-1", Role::System)?,
        lane: Actor::new("lane", Role::System)?,
        supervisor: Actor::new("sup-marco", Role::Supervisor)?,
        tally: Tally::default(),
        commands: 0,
        out,
        verbose: args.verbose,
        tz,
        shown: 0,
    };
    let end_of_day = local(24.0 * 60.0) - Duration::seconds(1);
    let mut peak = (0usize, end_of_day, BTreeMap::new());
    let started = Instant::now();
    while let Some(Reverse((ms, _, action))) = queue.pop() {
        let at = Utc.timestamp_millis_opt(ms).single().unwrap_or(end_of_day);
        if at > end_of_day {
            break;
        }
        match action {
            Action::Sample => {
                let o = Lot::open(&path)?.occupancy(at)?;
                if o.total.occupied > peak.0 {
                    let levels = o
                        .by_level
                        .iter()
                        .map(|(k, c)| (k.clone(), c.occupied))
                        .collect();
                    peak = (o.total.occupied, at, levels);
                }
            }
            Action::Arrive(i) => {
                day.tally.arrived += 1;
                let v = &vehicles[i];
                let cmd = req::Entry {
                    plate: Some(v.plate.clone()),
                    class: v.class,
                    lane: Some(v.lane.to_string()),
                    ev: v.ev,
                    accessible: v.accessible,
                    presented_ticket: None,
                    spot: None,
                    card: None,
                    reservation: None,
                };
                let lane_actor = day.lane.clone();
                match day.exec(&lane_actor, at, cmd) {
                    Ok(e) => {
                        day.tally.entered += 1;
                        let (plate, class) = (v.plate.clone(), v.class);
                        day.say(
                            at,
                            false,
                            format!(
                                "{} in: {plate} ({class}) ticket {} → {} ({})",
                                e.lane, e.ticket, e.spot, e.reason
                            ),
                        );
                        let v = &mut vehicles[i];
                        // Lanes and pay stations scan the signed QR code.
                        v.ticket = Some(e.qr);
                        let leave = at + Duration::seconds((v.stay_minutes * 60.0) as i64);
                        let pays_first = v.stay_minutes > 10.0
                            && v.quirk != Quirk::ExitUnpaid
                            && v.quirk != Quirk::LosesTicket;
                        if pays_first {
                            push(
                                &mut queue,
                                leave - Duration::minutes(6),
                                Action::PayStation(i),
                            );
                        }
                        // A dawdler's exit is queued by the pay station, 25 minutes after paying.
                        if !(pays_first && v.quirk == Quirk::Dawdles) {
                            push(&mut queue, leave, Action::ExitLane(i));
                        }
                    }
                    Err(e) if e.kind == ErrorKind::Full => {
                        *day.tally
                            .refused_full
                            .entry(v.class.as_str().to_string())
                            .or_insert(0) += 1;
                        let msg = format!("{} refused at {}: {}", v.plate, v.lane, e.message);
                        day.say(at, true, msg);
                    }
                    Err(e) => return Err(e),
                }
            }
            Action::PayStation(i) => {
                let Some(ticket) = vehicles[i].ticket.clone() else {
                    continue;
                };
                let (method, quirk) = (vehicles[i].method, vehicles[i].quirk);
                let station = day.pay_station.clone();
                if quirk == Quirk::TerminalTimeout && method != PaymentMethod::Cash {
                    // The terminal charged but its answer timed out; the pay station sends the
                    // same request again with the same key.
                    let due = day.due(&ticket, at)?;
                    if !due.is_zero() {
                        let cmd = req::Pay {
                            stay: StayRef::Ticket(ticket.clone()),
                            method,
                            amount: due,
                            key: Some(format!("ps1-{}", p_ticket(&ticket))),
                        };
                        day.exec(&station, at, cmd.clone())?;
                        let p = day.exec(&station, at + Duration::seconds(20), cmd)?;
                        if p.replayed {
                            day.tally.payment_retries_not_charged_twice += 1;
                            day.say(at, true, format!("ticket {}: terminal timeout, retried with the same key: {} {} charged once", p.ticket, p.amount, p.currency));
                        }
                    }
                } else {
                    day.pay(&station, at, &ticket, method, None)?;
                }
                if quirk == Quirk::Dawdles {
                    // Back to the car slowly: the exit comes 25 minutes after paying.
                    push(&mut queue, at + Duration::minutes(25), Action::ExitLane(i));
                    vehicles[i].quirk = Quirk::None;
                }
            }
            Action::ExitLane(i) => {
                let Some(ticket) = vehicles[i].ticket.clone() else {
                    continue;
                };
                let exit_lane = vehicles[i].exit_lane.to_string();
                let lane_actor = day.lane.clone();
                let booth = day.booth.clone();
                let plate = vehicles[i].plate.clone();
                let by_ticket = |t: &str| req::Exit {
                    stay: StayRef::Ticket(t.to_string()),
                    lane: Some(exit_lane.clone()),
                };
                if vehicles[i].quirk == Quirk::LosesTicket {
                    day.tally.lost_tickets += 1;
                    let l = day.exec(
                        &booth,
                        at,
                        req::LostTicket {
                            plate: Some(plate.clone()),
                            class: vehicles[i].class,
                        },
                    )?;
                    day.say(
                        at,
                        true,
                        format!(
                            "{plate} lost the ticket: stay found by plate, {} {} owed",
                            l.quote.total.amount, l.quote.currency
                        ),
                    );
                    day.pay(&booth, at, &ticket, PaymentMethod::Card, None)?;
                }
                let mut attempt = day.exec(&lane_actor, at, by_ticket(&ticket));
                if let Err(e) = &attempt {
                    if e.kind != ErrorKind::Unpaid {
                        return Err(e.clone());
                    }
                    if vehicles[i].quirk == Quirk::ExitUnpaid {
                        day.tally.unpaid_exit_attempts += 1;
                    } else {
                        day.tally.grace_overruns += 1;
                    }
                    day.say(at, true, format!("{} at {exit_lane}: {}", plate, e.message));
                    day.pay(
                        &lane_actor,
                        at + Duration::minutes(1),
                        &ticket,
                        PaymentMethod::Card,
                        None,
                    )?;
                    attempt = day.exec(&lane_actor, at + Duration::minutes(2), by_ticket(&ticket));
                }
                let x = attempt?;
                day.tally.exited += 1;
                day.tally.stay_minutes_total += x.minutes;
                if x.fee == "0.00" {
                    day.tally.free_exits += 1;
                }
                day.say(
                    at,
                    false,
                    format!(
                        "{} out: {plate} after {} min, paid {} {}",
                        x.lane, x.minutes, x.paid, x.currency
                    ),
                );
                vehicles[i].ticket = None;
            }
            Action::Passback(i) => {
                // Someone tries to enter with the plate of a vehicle that is inside.
                let Some(v) = vehicles.iter().skip(i).find(|v| v.ticket.is_some()) else {
                    continue;
                };
                let cmd = req::Entry {
                    lane: Some("E2".into()),
                    ..req::Entry::new(Some(v.plate.clone()), v.class)
                };
                let lane_actor = day.lane.clone();
                match day.exec(&lane_actor, at, cmd) {
                    Err(e) if e.kind == ErrorKind::Passback => {
                        day.tally.refused_passback += 1;
                        day.say(at, true, format!("E2 refused: {}", e.message));
                    }
                    Err(e) => return Err(e),
                    Ok(_) => {
                        return Err(Error::invalid(
                            "a passback attempt was admitted under hard anti-passback",
                        ));
                    }
                }
            }
            Action::SpotOut | Action::SpotBack => {
                let on = action == Action::SpotBack;
                let sup = day.supervisor.clone();
                let spot = "P0-B-001".to_string();
                let reason = if on { "cleaned and dry" } else { "oil spill" }.to_string();
                match day.exec(
                    &sup,
                    at,
                    req::SetSpotService {
                        spot: spot.clone(),
                        in_service: on,
                        reason: reason.clone(),
                    },
                ) {
                    Ok(_) => day.say(
                        at,
                        true,
                        format!(
                            "supervisor: {spot} {} ({reason})",
                            if on {
                                "back in service"
                            } else {
                                "out of service"
                            }
                        ),
                    ),
                    Err(e) => day.say(
                        at,
                        true,
                        format!("supervisor could not change {spot}: {}", e.message),
                    ),
                }
            }
            Action::Override => {
                let sup = day.supervisor.clone();
                let Some(v) = vehicles.iter().find(|v| {
                    v.ticket.is_some() && v.class == VehicleClass::Standard && !v.accessible
                }) else {
                    continue;
                };
                let ticket = v.ticket.clone().unwrap_or_default();
                let free = Lot::open(&path)?.spots()?.into_iter().find(|s| {
                    s.level == "P2"
                        && s.size == VehicleClass::Standard
                        && !s.ev
                        && !s.accessible
                        && s.in_service
                        && s.ticket.is_none()
                });
                if let Some(s) = free {
                    let r = day.exec(
                        &sup,
                        at,
                        req::OverrideSpot {
                            stay: StayRef::Ticket(ticket.clone()),
                            spot: s.id.clone(),
                            reason: "wedding party parks together on the roof".into(),
                        },
                    );
                    if let Ok(o) = r {
                        day.say(
                            at,
                            true,
                            format!(
                                "supervisor moved ticket {} from {} to {}",
                                o.ticket,
                                o.from.unwrap_or_default(),
                                o.to
                            ),
                        );
                    }
                }
            }
        }
    }
    let engine_seconds = started.elapsed().as_secs_f64();
    day.tally.inside_at_midnight = vehicles.iter().filter(|v| v.ticket.is_some()).count();
    let commands = day.commands;
    let tally = day.tally;
    drop(engine);

    let lot = Lot::open(&path)?;
    let revenue = lot.revenue(local(0.0), end_of_day + Duration::seconds(1))?;
    let audit = lot.audit()?;
    let backup_path = dir.path().join("demo-day-backup.db");
    let backup = lot.backup(&backup_path)?;
    let avg = if tally.exited > 0 {
        tally.stay_minutes_total as f64 / tally.exited as f64
    } else {
        0.0
    };
    let summary = Summary {
        lot: config.lot.name.clone(),
        date,
        seed: args.seed,
        db: args.out.as_ref().map(|p| p.display().to_string()),
        average_stay_minutes: (avg * 10.0).round() / 10.0,
        peak_occupied: peak.0,
        peak_at: peak.1.with_timezone(&tz).format("%H:%M").to_string(),
        capacity: config.spots.len(),
        peak_by_level: peak.2,
        revenue,
        journal_rows: audit.rows,
        journal_verified: audit.ok,
        backup_verified_rows: backup.journal_rows,
        engine_commands: commands,
        engine_seconds: (engine_seconds * 100.0).round() / 100.0,
        vehicles: tally,
    };
    if out.json {
        out.print_json(&summary);
    } else {
        print_summary(&summary);
    }
    if !audit.ok {
        return Err(Error::new(
            ErrorKind::Journal,
            "the demo day's journal does not verify",
        ));
    }
    Ok(())
}

fn print_summary(s: &Summary) {
    let v = &s.vehicles;
    println!();
    println!("Summary of {} on {}", s.lot, s.date);
    println!(
        "  Vehicles   {} arrived, {} entered, {} left, {} still inside at midnight",
        v.arrived, v.entered, v.exited, v.inside_at_midnight
    );
    let full: Vec<String> = v
        .refused_full
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    println!(
        "  Refused    {} for lack of a fitting spot{}, {} by anti-passback",
        v.refused_full.values().sum::<usize>(),
        if full.is_empty() {
            String::new()
        } else {
            format!(" ({})", full.join(", "))
        },
        v.refused_passback
    );
    println!(
        "  Stays      average {:.0} min; {} left within the free minutes",
        s.average_stay_minutes, v.free_exits
    );
    let levels: Vec<String> = s
        .peak_by_level
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "  Peak       {} of {} spots at {} ({})",
        s.peak_occupied,
        s.capacity,
        s.peak_at,
        levels.join(", ")
    );
    println!(
        "  Revenue    {} {} from {} payments, {} refunds",
        s.revenue.total, s.revenue.currency, s.revenue.payments, s.revenue.refunds
    );
    let m: Vec<String> = s
        .revenue
        .by_method
        .iter()
        .map(|(k, a)| format!("{k} {a}"))
        .collect();
    println!("             by method: {}", m.join(" · "));
    let c: Vec<String> = s
        .revenue
        .by_class
        .iter()
        .map(|(k, a)| format!("{k} {a}"))
        .collect();
    println!("             by class:  {}", c.join(" · "));
    println!(
        "  Exceptions {} unpaid exit attempts, {} past the exit grace, {} lost tickets, {} terminal retries charged once",
        v.unpaid_exit_attempts,
        v.grace_overruns,
        v.lost_tickets,
        v.payment_retries_not_charged_twice
    );
    println!(
        "  Journal    {} rows, hash chain {}; online backup verified ({} rows)",
        s.journal_rows,
        if s.journal_verified {
            "verified"
        } else {
            "BROKEN"
        },
        s.backup_verified_rows
    );
    println!(
        "  Engine     {} durable commands in {:.2} s",
        s.engine_commands, s.engine_seconds
    );
    if let Some(db) = &s.db {
        println!(
            "  The day's lot database is kept at {db}: try `gatehouse --db {db} occupancy` or `audit verify`."
        );
    }
}
