//! The demo lot, live: every lane of the demo lot runs on simulated devices that speak their real
//! protocols, and a traffic generator drives vehicles through them on a fast clock. Arrivals come
//! from a day's profile (commuters in the morning rush, shoppers, quick stops, evening guests),
//! with permit holders, reservations, dirty plates the camera cannot read, lost tickets, drivers
//! who pay at a pay station first, a declined card now and then, and a printer that runs out of
//! paper for a while. Each vehicle's plate is rendered into the lane camera's picture and read by
//! the real anpr path; tickets come out of the simulated printer and are scanned back in at the
//! exit; cards are charged at the simulated terminal.
//!
//! Time: the lot's clock runs `speed` times faster than the wall clock from `start`; the lanes
//! themselves (barrier travel, loops, printing, reading) take their real time.

use crate::lane::{SimLane, SimulatedLanes};
use crate::rng::Rng;
use crate::scene::Renderer;
use crate::traffic::Habit;
use chrono::{DateTime, Duration as Span, Utc};
use gatehouse_anpr::{Anpr, PlateReader};
use gatehouse_core::command as req;
use gatehouse_core::config::{LaneKind, SpotDef};
use gatehouse_core::lot::Revenue;
use gatehouse_core::permits::{PermitKind, PermitRequest};
use gatehouse_core::reservations::ReservationRequest;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, Error, ErrorKind, Lot, LotConfig, PaymentMethod, Plate,
    Role, StayRef, VehicleClass,
};
use gatehouse_drivers::gate::sim::Arm;
use gatehouse_drivers::payment::sim::SimResult;
use gatehouse_lanes::runtime::{Clock, LaneHandle, LaneNotice, LotServices, start_lane};
use gatehouse_lanes::wiring::wire_lanes;
use gatehouse_lanes::{LaneEvent, Needs, Screen, StepTimes};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The lot database to create (must not exist yet).
    pub db: PathBuf,
    /// Where the lot's clock starts.
    pub start: DateTime<Utc>,
    /// Lot seconds per wall-clock second.
    pub speed: f64,
    /// How long vehicles keep arriving, in wall-clock minutes.
    pub minutes: f64,
    /// Vehicles arriving over a whole day; those due in the run's window come.
    pub vehicles_per_day: usize,
    pub seed: u64,
    /// Entry and exit lanes instead of the demo lot's two and two (all simulated).
    pub lanes: Option<(usize, usize)>,
    /// A benchmark: each entry lane takes vehicles back to back, and each stays 3 to 60 lot
    /// minutes, instead of the day's profile.
    pub full_tilt: bool,
}

/// What the demo did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DemoSummary {
    pub from: String,
    pub to: String,
    pub speed: f64,
    pub arrived: usize,
    /// Entries by how the vehicle got in: ticket, ticketless, permit, reservation.
    pub entered: BTreeMap<String, usize>,
    /// Entries by the kind of spot the lane gave: motorcycle, EV charger, accessible, compact,
    /// standard, large.
    pub spots_given: BTreeMap<String, usize>,
    /// Drivers who asked at the entry screen: for a charger, as a motorcycle.
    pub asked: BTreeMap<String, usize>,
    /// Vehicles that could not get in, by the screen's reason.
    pub refused: BTreeMap<String, usize>,
    pub exited: usize,
    /// Exits by how the stay was settled: paid at the lane, paid at a pay station, booth (lost
    /// ticket), nothing owed (permit, grace).
    pub exits_by: BTreeMap<String, usize>,
    pub inside_at_end: usize,
    /// Vehicles still waiting at a lane when the run ended.
    pub unfinished: usize,
    pub peak_occupied: usize,
    pub capacity: usize,
    pub revenue: Option<Revenue>,
    /// Fallbacks the lanes took, by kind.
    pub fallbacks: BTreeMap<String, usize>,
    pub declined_then_paid: usize,
    pub tailgates: usize,
    /// Per step, milliseconds from the arming loop, for entry and exit lanes.
    pub entry_steps: Vec<StepFigure>,
    pub exit_steps: Vec<StepFigure>,
    /// The engine's entry decision as the lane saw it (from the plate read to the decision).
    pub engine_decision: Option<StepFigure>,
    /// Seconds vehicles waited behind others at a lane: p50, p99.
    pub queue_wait_s: (f64, f64),
    /// Real seconds the traffic ran, and what went through in them.
    pub seconds: f64,
    pub passes_per_s: f64,
    pub journal_events_per_s: f64,
    pub journal_rows: i64,
    pub journal_verified: bool,
    pub problems: Vec<String>,
}

/// How long lanes took to reach a step, from the vehicle on the arming loop.
#[derive(Debug, Clone, Serialize)]
pub struct StepFigure {
    pub step: String,
    pub count: usize,
    pub p50_ms: u64,
    pub p99_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Visitor,
    Permit,
    Reservation,
}

#[derive(Debug, Clone)]
struct Visit {
    plate: String,
    kind: Kind,
    arrive: DateTime<Utc>,
    stay: Span,
    entry_lane: usize,
    exit_lane: usize,
    /// The camera cannot read this plate (dirt, a bike rack): the ticket paths.
    dirty: bool,
    /// What the vehicle needs of its spot: a motorcycle, or an EV whose driver wants a charger
    /// (asked for on the entry screen, or booked with the reservation).
    needs: Needs,
    loses_ticket: bool,
    pays_at_station: bool,
    declined_first: bool,
    seed: u64,
}

/// A lane of the demo: its simulated devices (one vehicle at a time) and the running lane.
struct DemoLane {
    id: String,
    exit: bool,
    sim: tokio::sync::Mutex<SimLane>,
    handle: LaneHandle,
}

#[derive(Default)]
struct Tally {
    summary: DemoSummary,
    waits: Vec<f64>,
    entry_steps: BTreeMap<&'static str, Vec<u64>>,
    exit_steps: BTreeMap<&'static str, Vec<u64>>,
    decisions: Vec<u64>,
    passes: usize,
}

fn bump(map: &mut BTreeMap<String, usize>, key: impl Into<String>) {
    *map.entry(key.into()).or_insert(0) += 1;
}

/// A plate as US-style plates are written (the embedded reader's training): 3 letters and 4
/// digits, or 1 digit, 3 letters and 3 digits.
fn plate_text(rng: &mut Rng) -> String {
    let letter = |rng: &mut Rng| (b'A' + rng.range(0, 26) as u8) as char;
    let digit = |rng: &mut Rng| (b'0' + rng.range(0, 10) as u8) as char;
    let mut s = String::new();
    if rng.unit() < 0.7 {
        (0..3).for_each(|_| s.push(letter(rng)));
        (0..4).for_each(|_| s.push(digit(rng)));
    } else {
        s.push((b'1' + rng.range(0, 9) as u8) as char);
        (0..3).for_each(|_| s.push(letter(rng)));
        (0..3).for_each(|_| s.push(digit(rng)));
    }
    s
}

/// The day's visits (visitors, permit holders, reservations) whose arrival falls in
/// `[opts.start, to)`, in order of arrival.
fn traffic(
    opts: &DemoOptions,
    tz: chrono_tz::Tz,
    to: DateTime<Utc>,
    entries: usize,
    exits: usize,
) -> Vec<Visit> {
    let mut rng = Rng::new(opts.seed);
    let midnight = opts
        .start
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(tz).earliest())
        .map(|m| m.with_timezone(&Utc))
        .unwrap_or(opts.start);
    let mut taken = std::collections::HashSet::new();
    let mut visits = Vec::new();
    for i in 0..opts.vehicles_per_day {
        let pick = rng.unit();
        // (arrival, stay) in minutes; kind. Visitors come by the one traffic profile; the demo
        // adds its permit holders and reservations.
        let (arrive, stay, kind) = if pick < 0.08 {
            // Permit holders: the morning rush, a working day.
            (
                rng.around(480.0, 90.0),
                rng.around(540.0, 90.0),
                Kind::Permit,
            )
        } else if pick < 0.12 {
            (
                rng.between(540.0, 1140.0),
                rng.between(60.0, 180.0),
                Kind::Reservation,
            )
        } else {
            let (arrive, stay) = Habit::draw(&mut rng).arrival_and_stay(&mut rng);
            (arrive, stay, Kind::Visitor)
        };
        let mut plate = plate_text(&mut rng);
        while !taken.insert(plate.clone()) {
            plate = plate_text(&mut rng);
        }
        let needs = match rng.unit() {
            x if x < 0.05 && kind == Kind::Visitor => Needs::class(VehicleClass::Motorcycle),
            x if x < 0.15 => Needs {
                ev: true,
                ..Needs::class(VehicleClass::Standard)
            },
            _ => Needs::class(VehicleClass::Standard),
        };
        let visit = Visit {
            plate,
            kind,
            arrive: midnight + Span::seconds((arrive.clamp(1.0, 1439.0) * 60.0) as i64),
            stay: Span::seconds((stay.max(3.0) * 60.0) as i64),
            entry_lane: rng.range(0, entries.max(1) as i64) as usize,
            exit_lane: rng.range(0, exits.max(1) as i64) as usize,
            dirty: rng.unit() < 0.06,
            needs,
            loses_ticket: rng.unit() < 0.03,
            pays_at_station: rng.unit() < 0.25,
            declined_first: rng.unit() < 0.04,
            seed: i as u64 * 7 + 1,
        };
        if visit.arrive >= opts.start && visit.arrive < to {
            visits.push(visit);
        }
    }
    visits.sort_by_key(|v| v.arrive);
    visits
}

fn figures(steps: BTreeMap<&'static str, Vec<u64>>) -> Vec<StepFigure> {
    steps
        .into_iter()
        .map(|(name, mut v)| {
            v.sort_unstable();
            let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
            StepFigure {
                // The names sort in step order by their leading digit.
                step: name[2..].to_string(),
                count: v.len(),
                p50_ms: at(0.5),
                p99_ms: at(0.99),
            }
        })
        .collect()
}

fn err(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unavailable, format!("demo: {what}"))
}

/// The demo's world: the lot, its lanes and the people who work there.
struct World {
    services: Arc<LotServices>,
    entries: Vec<Arc<DemoLane>>,
    exits: Vec<Arc<DemoLane>>,
    t0: Instant,
    speed: f64,
    start: DateTime<Utc>,
    booth: Actor,
    pay_station: Actor,
    tally: Mutex<Tally>,
    say: Box<dyn Fn(String) + Send + Sync>,
    /// The run is over: no vehicle starts at a lane any more.
    closing: AtomicBool,
    /// Each spot's kind, for the summary.
    spot_kinds: HashMap<String, &'static str>,
}

/// A spot's kind as the summary counts it.
fn spot_kind(s: &SpotDef) -> &'static str {
    match (s.size, s.ev, s.accessible) {
        (_, _, true) => "accessible",
        (_, true, _) => "EV charger",
        (VehicleClass::Motorcycle, ..) => "motorcycle",
        (VehicleClass::Compact, ..) => "compact",
        (VehicleClass::Standard, ..) => "standard",
        (VehicleClass::Large, ..) => "large",
        (VehicleClass::Bus, ..) => "bus",
    }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        (self.services.clock)()
    }

    /// Waits until the lot's clock reaches `at`.
    async fn until(&self, at: DateTime<Utc>) {
        let lot_secs = (at - self.start).num_milliseconds() as f64 / 1000.0;
        let real = Duration::from_secs_f64((lot_secs / self.speed).max(0.0));
        tokio::time::sleep_until((self.t0 + real).into()).await;
    }

    fn tally(&self, f: impl FnOnce(&mut Tally)) {
        if let Ok(mut t) = self.tally.lock() {
            f(&mut t);
        }
    }

    fn log(&self, text: String) {
        (self.say)(text);
    }

    /// Lets the vehicle wait its turn at the lane, and counts the wait; None when the run ended
    /// while it waited.
    async fn turn<'a>(&self, lane: &'a DemoLane) -> Option<tokio::sync::MutexGuard<'a, SimLane>> {
        let asked = Instant::now();
        let guard = lane.sim.lock().await;
        if self.closing.load(Ordering::SeqCst) {
            self.tally(|t| t.summary.unfinished += 1);
            return None;
        }
        let waited = asked.elapsed().as_secs_f64();
        self.tally(|t| t.waits.push(waited));
        Some(guard)
    }

    /// Vehicles back to back at one entry lane until the run ends; each leaves by a random exit
    /// lane after its stay.
    async fn full_tilt(self: Arc<Self>, lane: usize, seed: u64) {
        let mut rng = Rng::new(seed);
        let mut n = 0u64;
        while !self.closing.load(Ordering::SeqCst) {
            n += 1;
            let v = Visit {
                plate: plate_text(&mut rng),
                kind: Kind::Visitor,
                arrive: self.now(),
                stay: Span::seconds(rng.range(180, 3600)),
                entry_lane: lane,
                exit_lane: rng.range(0, self.exits.len().max(1) as i64) as usize,
                dirty: false,
                needs: Needs::class(VehicleClass::Standard),
                loses_ticket: false,
                pays_at_station: false,
                declined_first: false,
                seed: seed.wrapping_mul(1000).wrapping_add(n),
            };
            self.tally(|t| t.summary.arrived += 1);
            match self.enter(&v).await {
                Ok(Some(qr)) => {
                    let w = self.clone();
                    tokio::spawn(async move {
                        w.until(v.arrive + v.stay).await;
                        if !w.closing.load(Ordering::SeqCst)
                            && let Err(e) = w.leave(&v, qr).await
                        {
                            w.tally(|t| t.summary.problems.push(e));
                        }
                    });
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => self.tally(|t| t.summary.problems.push(e)),
            }
        }
    }

    async fn visit(&self, v: Visit) -> Result<(), String> {
        self.until(v.arrive).await;
        self.tally(|t| t.summary.arrived += 1);
        let Some(qr) = self.enter(&v).await? else {
            return Ok(());
        };
        self.until(v.arrive + v.stay).await;
        if self.closing.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.leave(&v, qr).await
    }

    /// Drives in. Returns the ticket's QR payload when a ticket was printed, `Some(None)` when in
    /// without one, `None` when refused.
    async fn enter(&self, v: &Visit) -> Result<Option<Option<String>>, String> {
        let lane = &self.entries[v.entry_lane % self.entries.len()];
        let Some(sim) = self.turn(lane).await else {
            return Ok(None);
        };
        let mut notes = lane.handle.notices();
        // A motorcycle has no front plate for the entry camera.
        let bike = v.needs.class == VehicleClass::Motorcycle;
        sim.show_plate((!v.dirty && !bike).then_some(v.plate.as_str()), v.seed)
            .await?;
        sim.arming(true)?;
        let mut got_ticket = false;
        // A walk-in who wants a charger says so on the welcome screen (a booking already has it).
        let mut asks = v.needs.ev && v.kind == Kind::Visitor;
        let (how, spot) = loop {
            match next(&mut notes, 30).await {
                Some(LaneNotice::Screen(Screen::Welcome { .. })) if asks => {
                    asks = false;
                    self.tally(|t| bump(&mut t.summary.asked, "charger"));
                    lane.handle.press_ticket_button_for(v.needs);
                }
                Some(LaneNotice::Screen(Screen::PressForTicket)) => {
                    if bike {
                        self.tally(|t| bump(&mut t.summary.asked, "motorcycle"));
                    }
                    if bike || v.needs.ev {
                        lane.handle.press_ticket_button_for(v.needs)
                    } else {
                        lane.handle.press_ticket_button()
                    }
                }
                Some(LaneNotice::Screen(Screen::TakeTicket { spot, .. })) => {
                    break ("ticket", spot);
                }
                Some(LaneNotice::Ticket(_)) => got_ticket = true,
                Some(LaneNotice::Screen(Screen::Proceed { spot, .. })) => {
                    let how = match v.kind {
                        Kind::Permit => "permit",
                        Kind::Reservation => "reservation",
                        Kind::Visitor => "ticketless",
                    };
                    break (how, spot);
                }
                Some(LaneNotice::Screen(
                    s @ (Screen::Full
                    | Screen::Refused { .. }
                    | Screen::WaitForAttendant { .. }
                    | Screen::LaneClosed),
                )) => {
                    let why = match s {
                        Screen::Full => "full".to_string(),
                        Screen::Refused { reason } | Screen::WaitForAttendant { reason } => reason,
                        _ => "lane closed".to_string(),
                    };
                    self.log(format!("{} {}: not let in: {why}", lane.id, v.plate));
                    self.tally(|t| bump(&mut t.summary.refused, short(&why)));
                    back_off(&sim).await?;
                    return Ok(None);
                }
                Some(_) => {}
                None => {
                    back_off(&sim).await?;
                    return Err(format!("{} {}: no decision within 30 s", lane.id, v.plate));
                }
            }
        };
        self.drive_through(lane, &sim, &mut notes).await?;
        sim.show_plate(None, 0).await?;
        // The ticket is printed while the screen already says take it.
        if how == "ticket" && !got_ticket {
            while let Some(n) = next(&mut notes, 1).await {
                if matches!(n, LaneNotice::Ticket(_)) {
                    break;
                }
            }
        }
        let qr = if how == "ticket" {
            sim.printer.as_ref().and_then(|p| {
                p.tickets()
                    .last()
                    .and_then(|t| t.qr_payloads.first().cloned())
            })
        } else {
            None
        };
        let kind = self.spot_kinds.get(&spot).copied().unwrap_or("unknown");
        self.tally(|t| {
            bump(&mut t.summary.entered, how);
            bump(&mut t.summary.spots_given, kind);
        });
        Ok(Some(qr))
    }

    /// The barrier is open (or opening): through it, until the lane reports the pass.
    async fn drive_through(
        &self,
        lane: &DemoLane,
        sim: &SimLane,
        notes: &mut broadcast::Receiver<LaneNotice>,
    ) -> Result<(), String> {
        let until = Instant::now() + Duration::from_secs(8);
        while sim.board.arm() != Arm::Open {
            if Instant::now() > until {
                sim.arming(false)?;
                return Err(format!("{}: the barrier did not open", lane.id));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // A car takes a moment to cross each loop.
        sim.drive_through(Duration::from_millis(250)).await?;
        loop {
            match next(notes, 8).await {
                Some(LaneNotice::Event(LaneEvent::Passed { timing, .. })) => {
                    self.tally(|t| record_steps(t, lane.exit, &timing));
                    return Ok(());
                }
                Some(_) => {}
                None => return Err(format!("{}: no pass reported", lane.id)),
            }
        }
    }

    async fn leave(&self, v: &Visit, mut qr: Option<String>) -> Result<(), String> {
        let mut settled = None;
        if v.loses_ticket && qr.is_some() {
            // At the booth: the stay is found by plate, a replacement ticket printed, and the
            // driver pays in cash.
            qr = Some(self.booth_by_plate(v).await?);
            self.log(format!(
                "booth {}: lost ticket, found by plate, paid",
                v.plate
            ));
            settled = Some("booth (lost ticket)");
        } else if v.pays_at_station
            && let Some(q) = &qr
            && self.pay(&self.pay_station, q, PaymentMethod::Card).await?
        {
            settled = Some("pay station");
        }
        let lane = &self.exits[v.exit_lane % self.exits.len()];
        let Some(mut sim) = self.turn(lane).await else {
            return Ok(());
        };
        let mut notes = lane.handle.notices();
        if v.declined_first
            && let Some(t) = &sim.terminal
        {
            t.push(SimResult::Decline(0x05));
        }
        sim.show_plate((!v.dirty).then_some(v.plate.as_str()), v.seed + 3)
            .await?;
        sim.arming(true)?;
        let mut declined = false;
        let mut paid_here = false;
        loop {
            match next(&mut notes, 40).await {
                Some(LaneNotice::Screen(Screen::ScanTicket)) => {
                    let q = match &qr {
                        Some(q) => q.clone(),
                        None => {
                            // In without a ticket and the plate not read here: the driver calls
                            // the attendant, who finds the stay by plate and takes the payment.
                            let q = self.booth_by_plate(v).await?;
                            self.log(format!(
                                "{} {}: plate not read at the exit; the attendant found the stay by plate",
                                lane.id, v.plate
                            ));
                            settled = Some("attendant (plate not read at the exit)");
                            qr = Some(q.clone());
                            q
                        }
                    };
                    sim.scan(&q).await?;
                }
                Some(LaneNotice::Screen(Screen::PayHere { .. })) => paid_here = true,
                Some(LaneNotice::Screen(Screen::Declined { .. })) => {
                    declined = true;
                    lane.handle.pay_again();
                }
                Some(LaneNotice::Screen(Screen::Goodbye { .. })) => break,
                Some(LaneNotice::Screen(
                    s @ (Screen::Unpaid { .. }
                    | Screen::WaitForAttendant { .. }
                    | Screen::Refused { .. }),
                )) => {
                    back_off(&sim).await?;
                    return Err(format!("{} {}: stuck at {s:?}", lane.id, v.plate));
                }
                Some(_) => {}
                None => {
                    back_off(&sim).await?;
                    return Err(format!("{} {}: no answer within 40 s", lane.id, v.plate));
                }
            }
        }
        self.drive_through(lane, &sim, &mut notes).await?;
        sim.show_plate(None, 0).await?;
        let by = match (settled, paid_here, v.kind) {
            (Some(s), _, _) => s,
            (None, true, _) => "paid at the lane",
            (None, false, Kind::Permit) => "permit",
            (None, false, _) => "nothing owed",
        };
        self.tally(|t| {
            t.summary.exited += 1;
            bump(&mut t.summary.exits_by, by);
            if declined {
                t.summary.declined_then_paid += 1;
            }
        });
        Ok(())
    }

    /// At the booth: the stay found by the vehicle's plate, a replacement ticket printed and what
    /// it owes paid in cash. Returns the replacement ticket's QR payload.
    async fn booth_by_plate(&self, v: &Visit) -> Result<String, String> {
        let plate = Plate::parse(&v.plate).map_err(|e| e.to_string())?;
        let l = self
            .services
            .engine
            .call(
                &self.booth,
                self.now(),
                req::LostTicket {
                    plate: Some(plate),
                    class: v.needs.class,
                },
            )
            .await
            .map_err(|e| format!("booth {}: {e}", v.plate))?;
        self.pay(&self.booth, &l.qr, PaymentMethod::Cash).await?;
        Ok(l.qr)
    }

    /// Pays what the ticket's stay owes now; false when nothing is owed.
    async fn pay(&self, actor: &Actor, qr: &str, method: PaymentMethod) -> Result<bool, String> {
        let at = self.now();
        let due = Lot::open(&self.services.lot_path)
            .and_then(|l| l.quote(&StayRef::Ticket(qr.to_string()), at))
            .map_err(|e| format!("quote: {e}"))?
            .total
            .amount;
        if due.is_zero() {
            return Ok(false);
        }
        self.services
            .engine
            .submit(
                actor,
                at,
                Command::Pay(req::Pay {
                    stay: StayRef::Ticket(qr.to_string()),
                    method,
                    amount: due,
                    key: None,
                }),
            )
            .await
            .map_err(|e| format!("pay: {e}"))?;
        Ok(true)
    }
}

/// The vehicle leaves the lane's loop and the camera's view. Backing off takes a car a moment,
/// and the lane must see the loop clear before the next car drives on (found by the demo: a car
/// that drove on at once was never seen arriving).
/// A driver at a kiosk holds a ticket or code to the lane's scanner, a moment after the screen
/// asked.
async fn hold_to_scanner(sim: &mut SimLane, code: &str) -> Result<(), Error> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    sim.scan(code).await.map_err(err)
}

/// The driver waits a moment at a screen that will not let them through, then backs off; what
/// the screen said is the drive's outcome.
async fn give_up(sim: &SimLane, screen: Screen) -> Result<String, Error> {
    tokio::time::sleep(Duration::from_secs(3)).await;
    back_off(sim).await.map_err(err)?;
    Ok(format!("{screen:?}"))
}

async fn back_off(sim: &SimLane) -> Result<(), String> {
    sim.arming(false)?;
    sim.show_plate(None, 0).await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    Ok(())
}

fn short(reason: &str) -> String {
    reason
        .split([';', '('])
        .next()
        .unwrap_or(reason)
        .trim()
        .to_string()
}

fn record_steps(t: &mut Tally, exit: bool, s: &StepTimes) {
    t.passes += 1;
    if !exit && let (Some(read), Some(decided)) = (s.plate_read_ms, s.decided_ms) {
        t.decisions.push(decided.saturating_sub(read));
    }
    let steps = if exit {
        &mut t.exit_steps
    } else {
        &mut t.entry_steps
    };
    for (name, ms) in [
        ("1 plate read", s.plate_read_ms),
        ("2 decided", s.decided_ms),
        ("3 ticket printed", s.ticket_printed_ms),
        ("3 paid", s.paid_ms),
        ("4 gate command", s.gate_command_ms),
        ("5 gate open", s.gate_open_ms),
        ("6 passed", s.passed_ms),
    ] {
        if let Some(ms) = ms {
            steps.entry(name).or_default().push(ms);
        }
    }
}

/// The next notice within `secs`, skipping lag; None on time-out or a closed lane.
async fn next(rx: &mut broadcast::Receiver<LaneNotice>, secs: u64) -> Option<LaneNotice> {
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Ok(n)) => return Some(n),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            _ => return None,
        }
    }
}

/// The demo lot with `entry` and `exit` simulated lanes instead of its own.
fn lot_with_lanes(entry: usize, exit: usize) -> Result<LotConfig, Error> {
    let text = gatehouse_core::config::DEMO_TOML;
    let (Some(first), Some(after)) = (text.find("[[lanes]]"), text.find("# Spots come in rows"))
    else {
        return Err(err(
            "the embedded demo lot has no [[lanes]] block to replace",
        ));
    };
    if !(1..=32).contains(&entry) || !(1..=32).contains(&exit) {
        return Err(Error::invalid(format!(
            "{entry} entry and {exit} exit lanes: give 1 to 32 of each"
        )));
    }
    let mut lanes = String::new();
    for (kind, prefix, n, x) in [("entry", "E", entry, 0), ("exit", "X", exit, 6)] {
        for i in 1..=n {
            lanes.push_str(&format!(
                "[[lanes]]\nid = \"{prefix}{i}\"\nkind = \"{kind}\"\nlevel = \"P0\"\nx = {x}\ny = {}\n{}[lanes.devices]\nsimulated = true\n\n",
                (i - 1) * 12,
                if kind == "entry" { "plate_confidence = 0.6\n" } else { "" }
            ));
        }
    }
    let text = format!("{}{lanes}{}", &text[..first], &text[after..]);
    LotConfig::from_toml_str("the demo lot with more lanes", &text)
}

/// Permits for the permit holders and reservations for the reserved, made before the run.
async fn paperwork(
    engine: &Engine,
    office: &Actor,
    at: DateTime<Utc>,
    visits: &[Visit],
) -> Result<(usize, usize), Error> {
    let (mut permits, mut reservations) = (0, 0);
    for v in visits {
        let plate = Plate::parse(&v.plate)?;
        let cmd = match v.kind {
            Kind::Visitor => continue,
            Kind::Permit => {
                permits += 1;
                Command::IssuePermit(PermitRequest {
                    kind: PermitKind::Monthly,
                    holder: format!("Permit holder {permits}"),
                    plates: vec![plate],
                    card: None,
                    valid_from: at - Span::days(1),
                    valid_to: at + Span::days(30),
                    levels: vec![],
                    hours: None,
                    max_inside: 1,
                    passback: true,
                })
            }
            Kind::Reservation => {
                reservations += 1;
                Command::Reserve(ReservationRequest {
                    plate: Some(plate),
                    class: v.needs.class,
                    ev: v.needs.ev,
                    accessible: v.needs.accessible,
                    spot: None,
                    // Booked before the run: the window cannot start before the booking.
                    start: (v.arrive - Span::minutes(15)).max(at + Span::minutes(1)),
                    end: v.arrive + v.stay + Span::minutes(30),
                    holder: Some(format!("Online booking {reservations}")),
                })
            }
        };
        engine.submit(office, at, cmd).await?;
    }
    Ok((permits, reservations))
}

/// A person who works at the demo lot, added as a user so the console can log in.
#[derive(Debug, Clone)]
pub struct Staff {
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// The demo lot while it runs: its engine, its lanes, and the vehicles a person sends by hand.
pub struct DemoLot {
    world: Arc<World>,
    opts: DemoOptions,
    config: LotConfig,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    rows_before: i64,
    driving: Instant,
    /// Tickets printed for vehicles driven by hand, with the plate the camera was shown (None:
    /// unreadable), for their exit.
    by_hand: Mutex<Vec<(Option<String>, String)>>,
    /// The second-factor secrets of the demo's admins (base32), by user.
    second_factors: HashMap<String, String>,
}

/// Runs the demo and returns its summary. `say` gets a line for each notable thing as it
/// happens.
pub async fn run(
    opts: DemoOptions,
    say: impl Fn(String) + Send + Sync + 'static,
) -> Result<DemoSummary, Error> {
    let minutes = opts.minutes;
    let lot = DemoLot::start(opts, vec![], say).await?;
    // The run: arrivals stop at the end of the window; vehicles already at a lane finish.
    tokio::time::sleep_until((lot.world.t0 + Duration::from_secs_f64(minutes * 60.0)).into()).await;
    lot.finish().await
}

impl DemoLot {
    /// Makes the lot database, starts every lane on its simulated devices and lets the traffic
    /// come. With `staff`, the lot has users (and the demo's own booth and office log in).
    pub async fn start(
        opts: DemoOptions,
        staff: Vec<Staff>,
        say: impl Fn(String) + Send + Sync + 'static,
    ) -> Result<DemoLot, Error> {
        if !(opts.speed > 0.0 && opts.speed <= 3600.0) {
            return Err(Error::invalid(format!(
                "speed {} is out of range; give lot seconds per real second, 1 to 3600",
                opts.speed
            )));
        }
        if !(opts.minutes > 0.0 && opts.minutes <= 24.0 * 60.0) {
            return Err(Error::invalid(format!(
                "minutes {} is out of range; give 0.1 to 1440 real minutes",
                opts.minutes
            )));
        }
        let config = match opts.lanes {
            None => LotConfig::demo()?,
            Some((entry, exit)) => lot_with_lanes(entry, exit)?,
        };
        let tz = config.lot.timezone;
        Engine::init(&opts.db, &config, opts.start, &Actor::system("demo"))?;
        let engine = Arc::new(Engine::open(&opts.db, EngineOptions::default())?);
        let window = Span::milliseconds((opts.minutes * 60_000.0 * opts.speed) as i64);
        let to = opts.start + window;
        let t0 = Instant::now();
        let (start, speed) = (opts.start, opts.speed);
        let clock: Clock = Arc::new(move || {
            start + Span::microseconds((t0.elapsed().as_secs_f64() * speed * 1e6) as i64)
        });
        let reader = PlateReader::embedded().map_err(err)?;
        let sims = SimulatedLanes::with_renderer(Arc::new(Renderer::new().map_err(err)?));
        let services = Arc::new(LotServices {
            engine: engine.clone(),
            lot_path: opts.db.clone(),
            anpr: Arc::new(Anpr::new(reader)),
            clock: clock.clone(),
            signs: vec![],
        });
        let mut entries = Vec::new();
        let mut exits = Vec::new();
        for wired in wire_lanes(&config, &sims).await? {
            let Some(sim) = wired.sim else {
                continue;
            };
            let id = wired.setup.id.clone();
            let exit = config
                .lanes
                .iter()
                .any(|l| l.id == id && l.kind == LaneKind::Exit);
            let handle = start_lane(wired.setup, services.clone())?;
            let lane = Arc::new(DemoLane {
                id,
                exit,
                sim: tokio::sync::Mutex::new(sim),
                handle,
            });
            if exit {
                exits.push(lane);
            } else {
                entries.push(lane);
            }
        }
        if entries.is_empty() || exits.is_empty() {
            return Err(err("the demo lot needs simulated entry and exit lanes"));
        }
        let visits = if opts.full_tilt {
            Vec::new()
        } else {
            traffic(&opts, tz, to, entries.len(), exits.len())
        };
        let mut booth = Actor::new("booth-demo", Role::Cashier)?;
        let mut office = Actor::new("office-demo", Role::Supervisor)?;
        let mut second_factors = HashMap::new();
        if !staff.is_empty() {
            // The lot's first user is its admin (who adds the others, logged in with the second
            // factor); then the demo's own booth and office log in like everyone else.
            let password =
                |name: &str| format!("demo {name} {:016x}", Rng::new(opts.seed).next_u64());
            let mut admin = Actor::new("demo-admin", Role::Admin)?;
            let secret = add_user(
                &engine,
                &admin,
                opts.start,
                &admin.name,
                admin.role,
                &password(&admin.name),
            )
            .await?
            .ok_or_else(|| err("the demo's admin got no second factor"))?;
            let code = gatehouse_core::auth::totp_code(
                &gatehouse_core::auth::decode_totp_secret(&secret)?,
                opts.start.timestamp(),
            );
            admin.session = Some(
                log_in(
                    &engine,
                    opts.start,
                    &admin.name,
                    &password(&admin.name),
                    Some(format!("{code:06}")),
                )
                .await?,
            );
            for s in &staff {
                if let Some(secret) =
                    add_user(&engine, &admin, opts.start, &s.name, s.role, &s.password).await?
                {
                    second_factors.insert(s.name.clone(), secret);
                }
            }
            for actor in [&mut booth, &mut office] {
                add_user(
                    &engine,
                    &admin,
                    opts.start,
                    &actor.name,
                    actor.role,
                    &password(&actor.name),
                )
                .await?;
                actor.session = Some(
                    log_in(
                        &engine,
                        opts.start,
                        &actor.name,
                        &password(&actor.name),
                        None,
                    )
                    .await?,
                );
            }
        }
        let (permits, reservations) = paperwork(&engine, &office, opts.start, &visits).await?;
        engine
            .submit(
                &booth,
                opts.start,
                Command::OpenShift(req::OpenShift {
                    float: rust_decimal::Decimal::from(150),
                }),
            )
            .await?;
        // A whole day starts and ends at the same time of day: say so with the dates.
        let clock = if to - opts.start >= chrono::Duration::days(1) {
            "%a %H:%M"
        } else {
            "%H:%M"
        };
        say(format!(
            "{} vehicles due between {} and {} (lot time, {}× real time); {permits} permit holders, {reservations} reservations",
            visits.len(),
            opts.start.with_timezone(&tz).format(clock),
            to.with_timezone(&tz).format(clock),
            opts.speed
        ));
        let world = Arc::new(World {
            services: services.clone(),
            entries,
            exits,
            t0,
            speed,
            start,
            booth,
            pay_station: Actor::new("pay-station-1", Role::System)?,
            tally: Mutex::new(Tally::default()),
            say: Box::new(say),
            closing: AtomicBool::new(false),
            spot_kinds: config
                .spots
                .iter()
                .map(|s| (s.id.clone(), spot_kind(s)))
                .collect(),
        });
        let mut tasks = Vec::new();
        // Fallbacks and tailgates, from every lane's notices.
        for lane in world.entries.iter().chain(world.exits.iter()) {
            let mut rx = lane.handle.notices();
            let (w, id) = (world.clone(), lane.id.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(LaneNotice::Event(LaneEvent::Fallback { fallback, reason })) => {
                            w.log(format!("{id}: fallback {}: {reason}", fallback.name()));
                            w.tally(|t| bump(&mut t.summary.fallbacks, fallback.name()));
                        }
                        Ok(LaneNotice::Event(LaneEvent::Tailgate)) => {
                            w.tally(|t| t.summary.tailgates += 1);
                        }
                        Ok(LaneNotice::Problem(p)) => {
                            w.log(format!("{id}: problem: {p}"));
                            w.tally(|t| t.summary.problems.push(format!("{id}: {p}")));
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return,
                    }
                }
            }));
        }
        // Occupancy, sampled every lot quarter hour.
        let w = world.clone();
        tasks.push(tokio::spawn(async move {
            let mut at = w.start;
            loop {
                w.until(at).await;
                if let Ok(o) = Lot::open(&w.services.lot_path).and_then(|l| l.occupancy(w.now())) {
                    w.tally(|t| {
                        t.summary.peak_occupied = t.summary.peak_occupied.max(o.total.occupied);
                        t.summary.capacity = o.total.capacity;
                    });
                }
                at += Span::minutes(15);
            }
        }));
        // An incident: E1's printer runs out of paper for a while, a third of the way in.
        let w = world.clone();
        tasks.push(tokio::spawn(async move {
            w.until(start + window / 3).await;
            let lane = &w.entries[0];
            if let Some(p) = &lane.sim.lock().await.printer {
                p.set_paper_out(true);
                w.log(format!("{}: the printer ran out of paper", lane.id));
            }
            w.until(start + window / 3 + Span::minutes(20)).await;
            if let Some(p) = &lane.sim.lock().await.printer {
                p.set_paper_out(false);
                w.log(format!("{}: paper refilled", lane.id));
            }
        }));
        let rows_before = Lot::open(&opts.db)?.audit()?.rows;
        let driving = Instant::now();
        for v in visits {
            let w = world.clone();
            tasks.push(tokio::spawn(async move {
                let plate = v.plate.clone();
                if let Err(e) = w.visit(v).await {
                    w.log(format!("vehicle {plate}: {e}"));
                    w.tally(|t| t.summary.problems.push(e));
                }
            }));
        }
        if opts.full_tilt {
            for lane in 0..world.entries.len() {
                let w = world.clone();
                let seed = opts.seed.wrapping_mul(31).wrapping_add(lane as u64);
                tasks.push(tokio::spawn(async move { w.full_tilt(lane, seed).await }));
            }
        }
        Ok(DemoLot {
            world,
            opts,
            config,
            tasks,
            rows_before,
            driving,
            by_hand: Mutex::new(Vec::new()),
            second_factors,
        })
    }

    /// A demo admin's second-factor code at lot time `at` (the demo's people are public).
    pub fn second_factor_code(&self, user: &str, at: DateTime<Utc>) -> Option<String> {
        let secret = self.second_factors.get(user)?;
        let secret = gatehouse_core::auth::decode_totp_secret(secret).ok()?;
        Some(format!(
            "{:06}",
            gatehouse_core::auth::totp_code(&secret, at.timestamp())
        ))
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.world.services.engine
    }

    /// The lot's clock (faster than the wall clock by the demo's speed).
    pub fn clock(&self) -> Clock {
        self.world.services.clock.clone()
    }

    /// Lot seconds per real second.
    pub fn speed(&self) -> f64 {
        self.opts.speed
    }

    pub fn config(&self) -> &LotConfig {
        &self.config
    }

    /// The lot database.
    pub fn db(&self) -> &std::path::Path {
        &self.opts.db
    }

    /// Every lane, entry lanes first.
    pub fn lanes(&self) -> impl Iterator<Item = &LaneHandle> {
        self.world
            .entries
            .iter()
            .chain(self.world.exits.iter())
            .map(|l| &l.handle)
    }

    pub fn lane(&self, id: &str) -> Option<&LaneHandle> {
        self.lanes().find(|l| l.id() == id)
    }

    /// A vehicle driven up to a lane by hand (the console's "send a vehicle", the kiosk tests):
    /// the camera shows its plate (None: a plate it cannot read) and it drives onto the loop.
    /// The driver's choices are left to the lane's screen (a person at the kiosk); a ticket
    /// printed for it is kept and scanned at the exit when the exit asks for it. At an exit,
    /// `pays_with` is a merchant voucher's or a prepaid card's code the driver holds to the
    /// scanner instead of presenting a card to the terminal. Returns what the lane's screen said
    /// last, once the vehicle has passed or backed off.
    pub async fn drive_up(
        &self,
        lane_id: &str,
        plate: Option<&str>,
        pays_with: Option<&str>,
    ) -> Result<String, Error> {
        let Some(lane) = self
            .world
            .entries
            .iter()
            .chain(self.world.exits.iter())
            .find(|l| l.id == lane_id)
        else {
            return Err(Error::invalid(format!(
                "there is no simulated lane '{lane_id}'; the lanes are {}",
                self.lanes().map(|l| l.id()).collect::<Vec<_>>().join(", ")
            )));
        };
        let mut sim = lane.sim.lock().await;
        let answer = self.drive_up_with(lane, &mut sim, plate, pays_with).await;
        if let Some(t) = &sim.terminal {
            // A driver who scripted the terminal and then owed nothing leaves it as it was.
            t.clear_script();
        }
        answer
    }

    async fn drive_up_with(
        &self,
        lane: &DemoLane,
        sim: &mut tokio::sync::MutexGuard<'_, SimLane>,
        plate: Option<&str>,
        pays_with: Option<&str>,
    ) -> Result<String, Error> {
        let lane_id = lane.id.as_str();
        let mut notes = lane.handle.notices();
        let mut pays_with = pays_with.filter(|_| lane.exit).map(str::to_string);
        if pays_with.is_some()
            && let Some(t) = &sim.terminal
        {
            // This driver does not present a card: the terminal waits until the lane stops it.
            t.push(gatehouse_drivers::payment::sim::SimResult::WaitForCard);
        }
        let seed = plate.map_or(1, |p| p.bytes().map(u64::from).sum());
        sim.show_plate(plate, seed).await.map_err(err)?;
        sim.arming(true).map_err(err)?;
        // At an exit, the ticket this vehicle took when it was driven in by hand.
        let ticket = self.by_hand.lock().ok().and_then(|mut m| {
            let i = m.iter().rposition(|(p, _)| p.as_deref() == plate)?;
            (lane.exit).then(|| m.remove(i).1)
        });
        // A driver at a kiosk takes their time: two minutes for each screen.
        loop {
            let Some(n) = next(&mut notes, 120).await else {
                back_off(sim).await.map_err(err)?;
                return Err(err(format!(
                    "{lane_id}: the vehicle waited two minutes at the lane and backed off"
                )));
            };
            match n {
                LaneNotice::Screen(Screen::ScanTicket) => {
                    if let Some(t) = &ticket {
                        hold_to_scanner(sim, t).await?;
                        return self.finish_drive(lane, sim, notes, pays_with).await;
                    }
                }
                LaneNotice::Screen(Screen::PayHere { .. }) => {
                    if let Some(code) = pays_with.take() {
                        hold_to_scanner(sim, &code).await?;
                    }
                }
                LaneNotice::Screen(
                    s @ (Screen::TakeTicket { .. }
                    | Screen::Proceed { .. }
                    | Screen::Goodbye { .. }),
                ) => {
                    return self.pass(lane, sim, &mut notes, s, plate).await;
                }
                LaneNotice::Screen(
                    s @ (Screen::Full
                    | Screen::Refused { .. }
                    | Screen::LaneClosed
                    | Screen::Unpaid { .. }),
                ) => {
                    return give_up(sim, s).await;
                }
                _ => {}
            }
        }
    }

    async fn finish_drive(
        &self,
        lane: &DemoLane,
        sim: &mut tokio::sync::MutexGuard<'_, SimLane>,
        mut notes: broadcast::Receiver<LaneNotice>,
        mut pays_with: Option<String>,
    ) -> Result<String, Error> {
        loop {
            let Some(n) = next(&mut notes, 120).await else {
                back_off(sim).await.map_err(err)?;
                return Err(err(format!("{}: no answer to the ticket", lane.id)));
            };
            match n {
                LaneNotice::Screen(s @ Screen::Goodbye { .. }) => {
                    return self.pass(lane, sim, &mut notes, s, None).await;
                }
                LaneNotice::Screen(Screen::PayHere { .. }) => {
                    if let Some(code) = pays_with.take() {
                        hold_to_scanner(sim, &code).await?;
                    }
                }
                LaneNotice::Screen(s @ Screen::Unpaid { .. }) => {
                    return give_up(sim, s).await;
                }
                _ => {}
            }
        }
    }

    async fn pass(
        &self,
        lane: &DemoLane,
        sim: &SimLane,
        notes: &mut broadcast::Receiver<LaneNotice>,
        screen: Screen,
        plate: Option<&str>,
    ) -> Result<String, Error> {
        self.world
            .drive_through(lane, sim, notes)
            .await
            .map_err(err)?;
        sim.show_plate(None, 0).await.map_err(err)?;
        if matches!(screen, Screen::TakeTicket { .. })
            && let Some(qr) = sim.printer.as_ref().and_then(|pr| {
                pr.tickets()
                    .last()
                    .and_then(|t| t.qr_payloads.first().cloned())
            })
            && let Ok(mut m) = self.by_hand.lock()
        {
            m.push((plate.map(str::to_string), qr));
        }
        Ok(format!("{screen:?}"))
    }

    /// Ends the traffic (vehicles on a lane's loops finish, those queued give up) and sums up.
    pub async fn finish(self) -> Result<DemoSummary, Error> {
        let DemoLot {
            world,
            opts,
            config,
            tasks,
            rows_before,
            driving,
            ..
        } = self;
        let tz = config.lot.timezone;
        world.closing.store(true, Ordering::SeqCst);
        let grace = Instant::now() + Duration::from_secs(60);
        for lane in world.entries.iter().chain(world.exits.iter()) {
            let left = grace.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, lane.sim.lock()).await.is_err() {
                world.log(format!(
                    "{}: a vehicle was still on the lane at the end",
                    lane.id
                ));
            }
        }
        let end = (world.services.clock)();
        let seconds = driving.elapsed().as_secs_f64();
        for t in tasks {
            t.abort();
        }
        // The lanes stop before the journal is verified: a lane still writing while the chain is
        // read made the check see a chain cut short (found by CI: "hash chain BROKEN").
        for lane in world.entries.iter().chain(world.exits.iter()) {
            lane.handle.stop();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let lot = Lot::open(&opts.db)?;
        let mut t = match world.tally.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(_) => return Err(err("the tally was poisoned by a panic")),
        };
        let audit = lot.audit()?;
        let s = &mut t.summary;
        s.from = opts.start.with_timezone(&tz).to_rfc3339();
        s.to = end.with_timezone(&tz).to_rfc3339();
        s.speed = opts.speed;
        s.inside_at_end = lot.plates_inside()?.len();
        s.revenue = Some(lot.revenue(opts.start, end + Span::seconds(1))?);
        s.journal_rows = audit.rows;
        s.journal_verified = audit.ok;
        s.seconds = (seconds * 10.0).round() / 10.0;
        s.passes_per_s = (t.passes as f64 / seconds * 100.0).round() / 100.0;
        s.journal_events_per_s =
            ((audit.rows - rows_before) as f64 / seconds * 100.0).round() / 100.0;
        s.engine_decision = figures(BTreeMap::from([(
            "0 engine decision",
            std::mem::take(&mut t.decisions),
        )]))
        .pop();
        s.entry_steps = figures(std::mem::take(&mut t.entry_steps));
        s.exit_steps = figures(std::mem::take(&mut t.exit_steps));
        let mut waits = std::mem::take(&mut t.waits);
        waits.sort_by(f64::total_cmp);
        let q = |p: f64| {
            waits
                .get(((waits.len().saturating_sub(1)) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        s.queue_wait_s = (q(0.5), q(0.99));
        Ok(t.summary)
    }
}

/// Adds a user as `admin`; an admin's second-factor secret comes back.
async fn add_user(
    engine: &Engine,
    admin: &Actor,
    at: DateTime<Utc>,
    name: &str,
    role: Role,
    password: &str,
) -> Result<Option<String>, Error> {
    let added = req::AddUser {
        name: name.to_string(),
        role,
        password: gatehouse_core::auth::Secret(password.to_string()),
    };
    Ok(engine.call(admin, at, added).await?.totp_secret)
}

async fn log_in(
    engine: &Engine,
    at: DateTime<Utc>,
    name: &str,
    password: &str,
    code: Option<String>,
) -> Result<String, Error> {
    let login = req::Login {
        user: name.to_string(),
        password: gatehouse_core::auth::Secret(password.to_string()),
        totp: code.map(gatehouse_core::auth::Secret),
    };
    Ok(engine.call(&Actor::system("login"), at, login).await?.token)
}
