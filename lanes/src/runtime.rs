//! The lanes runtime: one task per lane that feeds the lane's state machine from its devices
//! (loops and limit switches from the gate board, scans and cards from the readers, health from
//! every driver) and carries out its actions: plate reading with the anpr crate (at an exit,
//! matched against the vehicles inside), the engine's decisions, printing, charging at the
//! terminal, moving the barrier, and journaling each lane event through the engine.
//!
//! Nothing here decides anything a car park cares about: the rules are in the lane machines and
//! the engine.

use crate::entry::{EntryConfig, EntryLane};
use crate::exit::{ExitConfig, ExitLane};
use crate::{
    Action, Admission, Credential, Device, EntryRequest, ExitQuote, Input, LaneEvent, LaneMachine,
    Needs, PaymentResult, PlateSeen, Redeem, Refusal, Screen, StepTimes, Timer,
};
use chrono::{DateTime, Utc};
use gatehouse_anpr::{Anpr, MatchRules, PlateMatch, match_plate};
use gatehouse_core::command as req;
use gatehouse_core::entry::Entered;
use gatehouse_core::{
    Actor, Command, Engine, Error, ErrorKind, LaneReport, Lot, PaymentMethod, Plate, StayRef,
};
use gatehouse_drivers::camera::Camera;
use gatehouse_drivers::gate::{Gate, GateEvent};
use gatehouse_drivers::payment::{PaymentOutcome, PaymentRequest, PaymentTerminal};
use gatehouse_drivers::printer::{TicketLayout, TicketPrinter};
use gatehouse_drivers::readers::{Reader, ScanSource};
use gatehouse_drivers::{CountSign, Health, HealthState};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

/// The lot's time for the engine: the wall clock, or the demo's faster one.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
pub fn wall_clock() -> Clock {
    Arc::new(Utc::now)
}

/// The devices at one lane. The gate board also carries the loops.
#[derive(Clone)]
pub struct LaneDevices {
    pub gate: Arc<dyn Gate>,
    /// The loop before the barrier, as named in the gate map.
    pub arming_loop: String,
    /// The loop beyond the barrier.
    pub pass_loop: String,
    pub camera: Option<Arc<dyn Camera>>,
    pub printer: Option<Arc<dyn TicketPrinter>>,
    /// Ticket scanners and RFID readers.
    pub readers: Vec<Arc<dyn Reader>>,
    pub terminal: Option<Arc<dyn PaymentTerminal>>,
}

/// What kind of lane, and how it behaves.
#[derive(Debug, Clone)]
pub enum LaneRole {
    Entry(EntryConfig),
    Exit(ExitConfig),
}

/// One lane to run.
#[derive(Clone)]
pub struct LaneSetup {
    /// The lane's id in the lot config.
    pub id: String,
    pub role: LaneRole,
    pub devices: LaneDevices,
}

/// What every lane of the lot shares.
pub struct LotServices {
    pub engine: Arc<Engine>,
    /// The lot's database, for each lane's own read connection (quotes, plates inside).
    pub lot_path: PathBuf,
    pub anpr: Arc<Anpr>,
    pub clock: Clock,
    /// Signs that show the free spaces of the whole lot (zone "lot").
    pub signs: Vec<Arc<dyn CountSign>>,
}

/// What a lane did, for screens, the console, tests and the demo.
#[derive(Debug, Clone, PartialEq)]
pub enum LaneNotice {
    Screen(Screen),
    Event(LaneEvent),
    /// The attendant is called, with the reason.
    Attendant(String),
    /// Something the runtime could not do (a journal write failed, a device refused a command).
    Problem(String),
    /// A device's health as the lane sees it, when it is reported: `ok` false with the reason.
    Device {
        device: Device,
        ok: bool,
        reason: String,
    },
    /// The camera gave a frame for a vehicle: what was read in it (the image is
    /// [`LaneHandle::last_frame`]).
    Frame {
        plate: Option<String>,
        confidence: Option<f32>,
    },
    /// A ticket was printed (entry) or an exit recorded: the stay's ticket number.
    Ticket(String),
    ExitRecorded(String),
}

/// The last frame a lane's camera gave for a vehicle, small, with the best plate read in it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneFrame {
    /// When it was read, on the lot's clock.
    pub at: DateTime<Utc>,
    /// At most [`FRAME_WIDTH`] pixels wide, JPEG.
    pub jpeg: Vec<u8>,
    pub plate: Option<String>,
    pub confidence: Option<f32>,
}

/// How wide the kept copy of a lane's last frame is.
pub const FRAME_WIDTH: u32 = 320;

/// Where a lane keeps its last frame and tells that a new one came.
#[derive(Clone)]
struct FrameSink {
    last: Arc<Mutex<Option<LaneFrame>>>,
    notices: broadcast::Sender<LaneNotice>,
    /// The lot's clock, which stamps each frame.
    clock: Clock,
}

impl FrameSink {
    fn keep(&self, jpeg: Vec<u8>, plate: Option<String>, confidence: Option<f32>) {
        let frame = LaneFrame {
            at: (self.clock)(),
            jpeg,
            plate,
            confidence,
        };
        let notice = LaneNotice::Frame {
            plate: frame.plate.clone(),
            confidence: frame.confidence,
        };
        if let Ok(mut last) = self.last.lock() {
            *last = Some(frame);
        }
        let _ = self.notices.send(notice);
    }
}

/// A small JPEG of a frame, for the console; None when it cannot be encoded.
fn small_jpeg(image: &image::RgbImage) -> Option<Vec<u8>> {
    let (w, h) = image.dimensions();
    let small;
    let image = if w > FRAME_WIDTH {
        let height = (u64::from(h) * u64::from(FRAME_WIDTH) / u64::from(w.max(1))).max(1) as u32;
        small = image::imageops::thumbnail(image, FRAME_WIDTH, height);
        &small
    } else {
        image
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(image)
        .ok()?;
    Some(out)
}

enum Msg {
    Input(Input),
    TimerFired(Timer, u64),
    /// The engine's entry, kept for printing the ticket (sent just before its decision).
    Entered(Box<Entered>),
}

/// A running lane: its screen, its notices, and the attendant's and driver's buttons.
pub struct LaneHandle {
    id: String,
    tx: mpsc::UnboundedSender<Msg>,
    screen: watch::Receiver<Screen>,
    notices: broadcast::Sender<LaneNotice>,
    frame: Arc<Mutex<Option<LaneFrame>>>,
    engine: Arc<Engine>,
    clock: Clock,
    task: tokio::task::JoinHandle<()>,
}

impl LaneHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the lane's screen shows now.
    pub fn screen(&self) -> Screen {
        self.screen.borrow().clone()
    }

    /// The last frame the camera gave for a vehicle, with the plate read in it.
    pub fn last_frame(&self) -> Option<LaneFrame> {
        self.frame.lock().ok().and_then(|f| f.clone())
    }

    pub fn screens(&self) -> watch::Receiver<Screen> {
        self.screen.clone()
    }

    /// Everything the lane does from now on.
    pub fn notices(&self) -> broadcast::Receiver<LaneNotice> {
        self.notices.subscribe()
    }

    /// The driver pressed "ticket" on the entry screen.
    pub fn press_ticket_button(&self) {
        self.send(Input::TicketButton(None));
    }

    /// Entry: the driver pressed one of the ticket button's choices (motorcycle, EV charging,
    /// accessible spot).
    pub fn press_ticket_button_for(&self, needs: Needs) {
        self.send(Input::TicketButton(Some(needs)));
    }

    /// The driver asks to try the card again after a decline.
    pub fn pay_again(&self) {
        self.send(Input::PayAgain);
    }

    /// An attendant opens the barrier by hand: journaled by the engine (which checks the
    /// permission), then the lane opens it.
    pub async fn open_gate(&self, actor: &Actor, reason: &str) -> Result<(), Error> {
        let request = req::OpenGate {
            lane: self.id.clone(),
            reason: reason.to_string(),
        };
        let input = Input::OpenGate {
            reason: reason.trim().to_string(),
        };
        self.attendant_acts(actor, request, input).await
    }

    /// An attendant closes the lane or opens it again: authorised and journaled by the engine
    /// first, then the lane acts.
    pub async fn set_open(&self, actor: &Actor, open: bool, reason: &str) -> Result<(), Error> {
        let request = req::SetLaneOpen {
            lane: self.id.clone(),
            open,
            reason: reason.to_string(),
        };
        let input = Input::SetLaneOpen {
            open,
            reason: format!("{}: {}", actor.name, reason.trim()),
        };
        self.attendant_acts(actor, request, input).await
    }

    /// An attendant holds an exit barrier open for everyone (an emergency), or ends that:
    /// authorised and journaled by the engine first, then the lane acts.
    pub async fn set_free_exit(&self, actor: &Actor, on: bool, reason: &str) -> Result<(), Error> {
        let request = req::SetFreeExit {
            lane: self.id.clone(),
            on,
            reason: reason.to_string(),
        };
        let input = Input::SetFreeExit {
            on,
            reason: format!("{}: {}", actor.name, reason.trim()),
        };
        self.attendant_acts(actor, request, input).await
    }

    /// An attendant's action on the lane: the engine checks who may and journals it, and only
    /// then does the lane act.
    async fn attendant_acts<R: gatehouse_core::Request>(
        &self,
        actor: &Actor,
        request: R,
        input: Input,
    ) -> Result<(), Error> {
        self.engine.call(actor, (self.clock)(), request).await?;
        self.send(input);
        Ok(())
    }

    fn send(&self, input: Input) {
        let _ = self.tx.send(Msg::Input(input));
    }

    /// Stops the lane's task.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for LaneHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a lane: its task runs until the handle is dropped.
pub fn start_lane(setup: LaneSetup, lot: Arc<LotServices>) -> Result<LaneHandle, Error> {
    let cfg = &lot.engine.context().config;
    let Some(lane_cfg) = cfg.lanes.iter().find(|l| l.id == setup.id) else {
        return Err(Error::not_found(format!(
            "there is no lane '{}' in the lot config",
            setup.id
        )));
    };
    let exit = matches!(setup.role, LaneRole::Exit(_));
    if exit != (lane_cfg.kind == gatehouse_core::config::LaneKind::Exit) {
        return Err(Error::invalid(format!(
            "lane {} is an {:?} lane in the lot config",
            setup.id, lane_cfg.kind
        )));
    }
    let reader = Lot::open(&lot.lot_path)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let (screen_tx, screen) = watch::channel(Screen::Idle);
    let (notices, _) = broadcast::channel(1024);
    let machine = match &setup.role {
        LaneRole::Entry(c) => LaneMachine::Entry(EntryLane::new(c.clone())),
        LaneRole::Exit(c) => LaneMachine::Exit(ExitLane::new(c.clone())),
    };
    let confident = match &setup.role {
        LaneRole::Entry(c) => c.confident,
        LaneRole::Exit(_) => 0.0,
    };
    forward_devices(&setup.devices, lot.engine.context().clone(), &tx);
    let journal = start_journal(setup.id.clone(), lot.clone(), notices.clone());
    let frame = Arc::new(Mutex::new(None));
    let runner = Runner {
        id: setup.id.clone(),
        actor: Actor::system(&format!("lane-{}", setup.id)),
        devices: setup.devices,
        lot: lot.clone(),
        reader: Arc::new(Mutex::new(reader)),
        tx: tx.clone(),
        screen: screen_tx,
        notices: notices.clone(),
        journal,
        timers: HashMap::new(),
        exit,
        entered: None,
        credential: None,
        attempt: 0,
        charging: None,
        frames: FrameSink {
            last: frame.clone(),
            notices: notices.clone(),
            clock: lot.clock.clone(),
        },
        confident,
    };
    let task = tokio::spawn(runner.run(machine, rx));
    Ok(LaneHandle {
        id: setup.id,
        tx,
        screen,
        notices,
        frame,
        engine: lot.engine.clone(),
        clock: lot.clock.clone(),
        task,
    })
}

struct Runner {
    id: String,
    actor: Actor,
    devices: LaneDevices,
    lot: Arc<LotServices>,
    reader: Arc<Mutex<Lot>>,
    tx: mpsc::UnboundedSender<Msg>,
    screen: watch::Sender<Screen>,
    notices: broadcast::Sender<LaneNotice>,
    journal: mpsc::UnboundedSender<LaneReport>,
    /// The generation of each timer: a timer that fires after it was restarted is ignored.
    timers: HashMap<Timer, u64>,
    exit: bool,
    /// The current vehicle's admission, for its ticket.
    entered: Option<Entered>,
    /// How the current vehicle at an exit was identified: its payment and exit name it the same
    /// way (a lane may not use typed ticket numbers).
    credential: Option<Credential>,
    attempt: u32,
    /// The reference of the card payment last started, for stopping it.
    charging: Option<String>,
    frames: FrameSink,
    confident: f32,
}

impl Runner {
    async fn run(mut self, mut machine: LaneMachine, mut rx: mpsc::UnboundedReceiver<Msg>) {
        while let Some(msg) = rx.recv().await {
            let input = match msg {
                Msg::Input(i) => i,
                Msg::Entered(e) => {
                    self.entered = Some(*e);
                    continue;
                }
                Msg::TimerFired(t, generation) => {
                    if self.timers.get(&t) != Some(&generation) {
                        continue;
                    }
                    Input::Timer(t)
                }
            };
            if let Input::Health { device, ok, reason } = &input {
                self.notice(LaneNotice::Device {
                    device: *device,
                    ok: *ok,
                    reason: reason.clone(),
                });
            }
            for action in machine.handle(Instant::now(), input) {
                self.act(action);
            }
        }
    }

    fn send_later(&self, f: impl Future<Output = Input> + Send + 'static) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let input = f.await;
            let _ = tx.send(Msg::Input(input));
        });
    }

    fn notice(&self, n: LaneNotice) {
        let _ = self.notices.send(n);
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::ReadPlate { budget } => self.read_plate(budget),
            Action::Decide(req) => self.decide(req),
            Action::Print { ticket, .. } => self.print(ticket),
            Action::Quote(credential) => self.quote(credential),
            Action::Charge { stay, amount } => self.charge(stay, amount),
            Action::CancelCharge => {
                if let (Some(terminal), Some(reference)) =
                    (self.devices.terminal.clone(), self.charging.clone())
                {
                    tokio::spawn(async move { terminal.cancel(&reference).await });
                }
            }
            Action::Redeem { stay, with } => self.redeem(stay, with),
            Action::Exit { stay } => self.record_exit(stay, None),
            Action::ExitOwing { stay, reason } => self.record_exit(stay, Some(reason)),
            Action::Show(screen) => {
                self.screen.send_replace(screen.clone());
                self.notice(LaneNotice::Screen(screen));
            }
            Action::OpenGate => {
                let gate = self.devices.gate.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    if let Err(e) = gate.open().await {
                        let _ = tx.send(Msg::Input(Input::GateFault(e.to_string())));
                    }
                });
            }
            Action::CloseGate => {
                let gate = self.devices.gate.clone();
                let notices = self.notices.clone();
                tokio::spawn(async move {
                    // A barrier that does not close is the attendant's to see; the lane goes on.
                    if let Err(e) = gate.close().await {
                        let _ = notices.send(LaneNotice::Problem(format!(
                            "the barrier did not close: {e}"
                        )));
                    }
                });
            }
            Action::StartTimer(timer, after) => {
                let generation = self.timers.entry(timer).or_insert(0);
                *generation += 1;
                let generation = *generation;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Msg::TimerFired(timer, generation));
                });
            }
            Action::CancelStay { stay, reason } => {
                let engine = self.lot.engine.clone();
                let (actor, at, lane) = (self.actor.clone(), (self.lot.clock)(), self.id.clone());
                let notices = self.notices.clone();
                let lot = self.lot.clone();
                let reader = self.reader.clone();
                tokio::spawn(async move {
                    let cmd = Command::CancelEntry(req::CancelEntry {
                        stay: StayRef::Ticket(stay.clone()),
                        lane,
                        reason,
                    });
                    match engine.submit(&actor, at, cmd).await {
                        Ok(_) => update_signs(&lot, &reader).await,
                        Err(e) => {
                            let _ = notices.send(LaneNotice::Problem(format!(
                                "the entry of ticket {stay} could not be cancelled: {}",
                                e.message
                            )));
                        }
                    }
                });
            }
            Action::CallAttendant(why) => {
                self.notice(LaneNotice::Attendant(why.clone()));
                self.report("attendant_called", why, None, BTreeMap::new(), true);
            }
            Action::Journal(event) => {
                self.notice(LaneNotice::Event(event.clone()));
                self.journal(event);
            }
        }
    }

    fn report(
        &self,
        what: &str,
        reason: String,
        stay: Option<&str>,
        timing: BTreeMap<String, u64>,
        alert: bool,
    ) {
        let stay = stay.and_then(|t| gatehouse_core::ticket::parse_ticket_number(t).ok());
        let _ = self.journal.send(LaneReport {
            lane: self.id.clone(),
            what: what.to_string(),
            reason,
            stay: stay.map(i64::from),
            plate: None,
            timing,
            alert,
        });
    }

    fn journal(&self, event: LaneEvent) {
        match event {
            LaneEvent::Fallback { fallback, reason } => {
                let what = format!("fallback_{}", snake(&fallback));
                self.report(&what, reason, None, BTreeMap::new(), false);
            }
            LaneEvent::Reversed { stay } => self.report(
                "reversed",
                "the vehicle backed off the loop before passing the barrier".into(),
                stay.as_deref(),
                BTreeMap::new(),
                false,
            ),
            LaneEvent::Tailgate => self.report(
                "tailgate",
                "a second vehicle came onto the loop while the barrier was open".into(),
                None,
                BTreeMap::new(),
                false,
            ),
            // Journaled by the engine when the attendant asked for it.
            LaneEvent::ManualOpen { .. } => {}
            LaneEvent::LaneState { open, reason } => self.report(
                if open { "lane_opened" } else { "lane_closed" },
                reason,
                None,
                BTreeMap::new(),
                false,
            ),
            LaneEvent::FreeExit { on, reason } => self.report(
                if on { "free_exit_on" } else { "free_exit_off" },
                reason,
                None,
                BTreeMap::new(),
                on,
            ),
            LaneEvent::Passed { stay, timing } => self.report(
                "passed",
                String::new(),
                stay.as_deref(),
                timing_map(&timing),
                false,
            ),
        }
    }

    fn read_plate(&self, budget: Duration) {
        let Some(camera) = self.devices.camera.clone() else {
            self.send_later(async { Input::PlateRead(None) });
            return;
        };
        let anpr = self.lot.anpr.clone();
        let confident = self.confident;
        let exit = self.exit;
        let reader = self.reader.clone();
        let frames = self.frames.clone();
        self.send_later(async move {
            let inside = if exit {
                let r = reader.clone();
                tokio::task::spawn_blocking(move || {
                    r.lock().ok().and_then(|l| l.plates_inside().ok())
                })
                .await
                .ok()
                .flatten()
            } else {
                None
            };
            Input::PlateRead(read_plate(camera, anpr, budget, confident, inside, frames).await)
        });
    }

    fn decide(&mut self, req: EntryRequest) {
        let engine = self.lot.engine.clone();
        let (actor, at, lane) = (self.actor.clone(), (self.lot.clock)(), self.id.clone());
        let plate = req.plate.as_ref().map(|p| p.plate.clone());
        let entry = req::Entry {
            plate,
            class: req.needs.class,
            lane: Some(lane),
            ev: req.needs.ev,
            accessible: req.needs.accessible,
            presented_ticket: None,
            spot: None,
            card: req.card,
            reservation: None,
        };
        let tx = self.tx.clone();
        let lot = self.lot.clone();
        let reader = self.reader.clone();
        tokio::spawn(async move {
            let answer = match engine.call(&actor, at, entry).await {
                Ok(e) => {
                    let a = admission(&lot, &e);
                    // Kept for the ticket, which the lane asks for next.
                    let _ = tx.send(Msg::Entered(Box::new(e)));
                    Ok(a)
                }
                Err(e) if e.kind == ErrorKind::Full => Err(Refusal::Full),
                Err(e) => Err(Refusal::Refused(e.message)),
            };
            let _ = tx.send(Msg::Input(Input::Decision(answer)));
            update_signs(&lot, &reader).await;
        });
    }

    fn print(&self, ticket: String) {
        let Some(printer) = self.devices.printer.clone() else {
            self.send_later(async {
                Input::Printed(Err("this lane has no ticket printer".into()))
            });
            return;
        };
        let Some(e) = self.entered.clone().filter(|e| e.ticket == ticket) else {
            self.send_later(async move {
                Input::Printed(Err(format!(
                    "ticket {ticket} is not this lane's current stay"
                )))
            });
            return;
        };
        let ctx = self.lot.engine.context().clone();
        let notices = self.notices.clone();
        self.send_later(async move {
            let text = e.ticket_text(&ctx);
            let layout = TicketLayout {
                lot_name: text.lot_name,
                title: text.title,
                lines: text.lines,
                qr_payload: text.qr_payload,
                footer: text.footer,
            };
            match printer.print_ticket(&layout).await {
                Ok(_) => {
                    let _ = notices.send(LaneNotice::Ticket(e.ticket.clone()));
                    Input::Printed(Ok(()))
                }
                Err(err) => Input::Printed(Err(err.to_string())),
            }
        });
    }

    fn quote(&mut self, credential: Credential) {
        self.credential = Some(credential.clone());
        let reader = self.reader.clone();
        let at = (self.lot.clock)();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let answer = tokio::task::spawn_blocking(move || exit_quote(&reader, &credential, at))
                .await
                .unwrap_or_else(|e| Err(format!("the quote failed: {e}")));
            let _ = tx.send(Msg::Input(Input::Quoted(answer)));
        });
    }

    fn charge(&mut self, ticket: String, amount: String) {
        let Some(terminal) = self.devices.terminal.clone() else {
            self.send_later(async {
                Input::Payment(PaymentResult::TerminalDown(
                    "this lane has no terminal".into(),
                ))
            });
            return;
        };
        self.attempt += 1;
        let reference = format!("{}-{}-{}", self.id, ticket, self.attempt);
        self.charging = Some(reference.clone());
        let stay = self.stay_ref(&ticket);
        let engine = self.lot.engine.clone();
        let (actor, clock) = (self.actor.clone(), self.lot.clock.clone());
        let currency = self.lot.engine.context().config.lot.currency;
        self.send_later(async move {
            let charge = match gatehouse_core::Money::parse(&amount, currency) {
                Ok(m) => m,
                Err(e) => return Input::Payment(PaymentResult::Declined(e.message)),
            };
            let amount_minor = match charge.to_minor() {
                Ok(m) => m,
                Err(e) => return Input::Payment(PaymentResult::Declined(e.message)),
            };
            let request = PaymentRequest {
                amount_minor,
                currency: currency.code().to_string(),
                reference: reference.clone(),
            };
            match terminal.authorise(&request).await {
                Ok(PaymentOutcome::Approved {
                    amount_minor: approved_minor,
                    receipt_no,
                    ..
                }) => {
                    // What the terminal approved is what was taken, and what is recorded; an
                    // amount other than the one asked is a fault for the attendant.
                    let approved = gatehouse_core::Money::from_minor(approved_minor, currency);
                    let pay = req::Pay {
                        stay,
                        method: PaymentMethod::Card,
                        amount: approved.amount,
                        key: Some(reference.clone()),
                    };
                    match engine.call(&actor, clock(), pay).await {
                        Ok(_) if approved_minor == amount_minor => {
                            Input::Payment(PaymentResult::Paid)
                        }
                        Ok(_) => Input::Payment(PaymentResult::AmountMismatch(format!(
                            "the terminal approved {approved} instead of the {charge} asked (receipt {receipt_no}); {approved} is recorded and the barrier stays down"
                        ))),
                        Err(e) => {
                            // Charged but not recorded: give the money back.
                            let _ = terminal.reverse(&reference).await;
                            Input::Payment(PaymentResult::Declined(format!(
                                "the payment could not be recorded ({}); it was reversed",
                                e.message
                            )))
                        }
                    }
                }
                Ok(PaymentOutcome::Declined { reason, .. }) => {
                    Input::Payment(PaymentResult::Declined(reason))
                }
                Ok(PaymentOutcome::AbortedByCustomer) => {
                    Input::Payment(PaymentResult::Declined("the payment was cancelled".into()))
                }
                Ok(PaymentOutcome::TimedOut { .. }) => Input::Payment(PaymentResult::TerminalDown(
                    "the terminal did not finish the payment".into(),
                )),
                Err(e) => Input::Payment(PaymentResult::TerminalDown(e.to_string())),
            }
        });
    }

    /// A voucher taken or a prepaid account charged for the stay, then the stay quoted again.
    fn redeem(&mut self, ticket: String, with: Redeem) {
        let stay = self.stay_ref(&ticket);
        let command = match with {
            Redeem::Voucher(voucher) => Command::ApplyVoucher(req::ApplyVoucher {
                stay: stay.clone(),
                voucher,
            }),
            Redeem::Prepaid(account) => Command::PayFromAccount(req::PayFromAccount {
                stay: stay.clone(),
                account,
            }),
        };
        let engine = self.lot.engine.clone();
        let (actor, clock) = (self.actor.clone(), self.lot.clock.clone());
        let reader = self.reader.clone();
        let credential = self
            .credential
            .clone()
            .unwrap_or(Credential::Ticket(ticket));
        self.send_later(async move {
            if let Err(e) = engine.submit(&actor, clock(), command).await {
                return Input::Redeemed(Err(e.message));
            }
            let at = clock();
            let answer = tokio::task::spawn_blocking(move || exit_quote(&reader, &credential, at))
                .await
                .unwrap_or_else(|e| Err(format!("the quote failed: {e}")));
            Input::Redeemed(answer)
        });
    }

    /// The current vehicle's stay, named as it was identified at the lane.
    fn stay_ref(&self, ticket: &str) -> StayRef {
        match &self.credential {
            Some(Credential::Plate(p)) => StayRef::Plate(p.clone()),
            Some(Credential::Ticket(t)) => StayRef::Ticket(t.clone()),
            Some(Credential::Card(c)) => StayRef::Card(c.clone()),
            None => StayRef::Ticket(ticket.to_string()),
        }
    }

    fn record_exit(&self, ticket: String, owing: Option<String>) {
        let engine = self.lot.engine.clone();
        let (actor, at, lane) = (self.actor.clone(), (self.lot.clock)(), self.id.clone());
        let stay = self.stay_ref(&ticket);
        let cmd = match owing {
            None => Command::Exit(req::Exit {
                stay,
                lane: Some(lane),
            }),
            Some(reason) => Command::ExitOwing(req::ExitOwing {
                stay,
                lane: Some(lane),
                reason,
            }),
        };
        let lot = self.lot.clone();
        let reader = self.reader.clone();
        let notices = self.notices.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let answer = match engine.submit(&actor, at, cmd).await {
                Ok(_) => {
                    let _ = notices.send(LaneNotice::ExitRecorded(ticket));
                    Ok(())
                }
                Err(e) => Err(e.message),
            };
            let _ = tx.send(Msg::Input(Input::ExitRecorded(answer)));
            update_signs(&lot, &reader).await;
        });
    }
}

/// The best plate in a few frames within the budget. At an exit (`inside` given) only a plate
/// that matches a vehicle inside counts, and it is returned as that vehicle's plate.
async fn read_plate(
    camera: Arc<dyn Camera>,
    anpr: Arc<Anpr>,
    budget: Duration,
    confident: f32,
    inside: Option<Vec<String>>,
    frames: FrameSink,
) -> Option<PlateSeen> {
    let deadline = tokio::time::Instant::now() + budget;
    let mut best: Option<PlateSeen> = None;
    for _ in 0..FRAMES_PER_READ {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        // Fetched in its own task: when the budget runs out first, the fetch still finishes (or
        // times out) and the camera's health says so; a hung camera is then known offline
        // instead of costing every vehicle its whole budget.
        let cam = camera.clone();
        let fetch = tokio::spawn(async move { cam.frame().await });
        let Ok(Ok(Ok(frame))) = tokio::time::timeout(left, fetch).await else {
            break;
        };
        let anpr = anpr.clone();
        let Ok((Ok(found), jpeg)) = tokio::task::spawn_blocking(move || {
            (anpr.read_image(&frame.image), small_jpeg(&frame.image))
        })
        .await
        else {
            continue;
        };
        if let Some(jpeg) = jpeg {
            let best = found
                .iter()
                .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
            frames.keep(
                jpeg,
                best.map(|f| f.text.clone()),
                best.map(|f| f.confidence),
            );
        }
        for f in found {
            match &inside {
                Some(plates) => {
                    let candidates: Vec<&str> = plates.iter().map(String::as_str).collect();
                    if let PlateMatch::Found { plate, .. } =
                        match_plate(&f.probs, &candidates, MatchRules::default())
                        && let Ok(plate) = Plate::parse(&plate)
                    {
                        return Some(PlateSeen {
                            plate,
                            confidence: f.confidence,
                        });
                    }
                }
                None => {
                    // A read that is no plate (too long, a stray sign) is not a plate seen.
                    if best.as_ref().is_none_or(|b| f.confidence > b.confidence)
                        && let Ok(plate) = Plate::parse(&f.text)
                    {
                        best = Some(PlateSeen {
                            plate,
                            confidence: f.confidence,
                        });
                    }
                }
            }
        }
        if best.as_ref().is_some_and(|b| b.confidence >= confident) {
            break;
        }
    }
    best
}

/// Frames a lane reads at most for one vehicle.
const FRAMES_PER_READ: usize = 3;

fn admission(lot: &LotServices, e: &Entered) -> Admission {
    let cfg = &lot.engine.context().config;
    let level = cfg
        .levels
        .iter()
        .find(|l| l.id == e.level)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| e.level.clone());
    Admission {
        stay: e.ticket.clone(),
        ticket: e.ticket.clone(),
        spot: e.spot.clone(),
        level: e.level.clone(),
        way: format!("{level}, zone {}", e.zone),
    }
}

fn exit_quote(
    reader: &Mutex<Lot>,
    credential: &Credential,
    at: DateTime<Utc>,
) -> Result<ExitQuote, String> {
    let lot = reader
        .lock()
        .map_err(|_| "the lane's database reader failed; restart the lane".to_string())?;
    let stay = match credential {
        Credential::Plate(p) => StayRef::Plate(p.clone()),
        Credential::Ticket(t) => StayRef::Ticket(t.clone()),
        Credential::Card(c) => StayRef::Card(c.clone()),
    };
    let q = lot.quote(&stay, at).map_err(|e| e.message)?;
    Ok(ExitQuote {
        stay: q.ticket.clone(),
        ticket: q.ticket.clone(),
        plate: q.plate.clone(),
        owed: q.total.amount.to_string(),
        currency: q.currency.clone(),
        settled: q.total.is_zero(),
        lines: q
            .lines
            .iter()
            .map(|l| format!("{}: {}", l.label, l.amount.amount))
            .collect(),
    })
}

/// Shows the lot's free spaces on its signs ("FULL" at zero).
async fn update_signs(lot: &Arc<LotServices>, reader: &Arc<Mutex<Lot>>) {
    if lot.signs.is_empty() {
        return;
    }
    let (r, at) = (reader.clone(), (lot.clock)());
    let free = tokio::task::spawn_blocking(move || {
        r.lock()
            .ok()
            .and_then(|l| l.occupancy(at).ok())
            .map(|o| o.total.free)
    })
    .await
    .ok()
    .flatten();
    if let Some(free) = free {
        for sign in &lot.signs {
            let _ = sign
                .show("lot", u32::try_from(free).unwrap_or(u32::MAX))
                .await;
        }
    }
}

/// A code held to the lane's scanner: a merchant voucher or a prepaid card (each signed with its
/// own key), else a ticket.
fn scanned(ctx: &gatehouse_core::stays::LotContext, text: String) -> Input {
    if gatehouse_core::vouchers::is_voucher(ctx, &text) {
        Input::Redeem(Redeem::Voucher(text))
    } else if let Ok(account) = gatehouse_core::accounts::account_of_card(ctx, &text) {
        Input::Redeem(Redeem::Prepaid(account))
    } else {
        Input::TicketScanned(text)
    }
}

/// Feeds the lane from its devices: loops and limits, scans, cards and health.
fn forward_devices(
    d: &LaneDevices,
    ctx: Arc<gatehouse_core::stays::LotContext>,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let input = |tx: &mpsc::UnboundedSender<Msg>, i: Input| tx.send(Msg::Input(i)).is_ok();
    // The loops as they are now: a vehicle may already be waiting.
    let state = d.gate.state();
    for (name, on) in &state.loops {
        if *on && name == &d.arming_loop {
            input(tx, Input::ArmingLoop(true));
        }
    }
    let mut events = d.gate.events();
    let (arming, pass, t) = (d.arming_loop.clone(), d.pass_loop.clone(), tx.clone());
    tokio::spawn(async move {
        loop {
            let i = match events.recv().await {
                Ok(GateEvent::LoopOccupied { name }) if name == arming => Input::ArmingLoop(true),
                Ok(GateEvent::LoopCleared { name }) if name == arming => Input::ArmingLoop(false),
                Ok(GateEvent::LoopOccupied { name }) if name == pass => Input::PassLoop(true),
                Ok(GateEvent::LoopCleared { name }) if name == pass => Input::PassLoop(false),
                Ok(GateEvent::Opened) => Input::GateOpened,
                Ok(GateEvent::Closed) => Input::GateClosed,
                Ok(GateEvent::Fault { reason }) => Input::GateFault(reason),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if !input(&t, i) {
                break;
            }
        }
    });
    follow_health(Device::Gate, d.gate.health(), tx);
    if let Some(p) = &d.printer {
        follow_health(Device::Printer, p.health(), tx);
    }
    for r in &d.readers {
        follow_health(Device::Reader, r.health(), tx);
        let mut scans = r.scans();
        let t = tx.clone();
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                let i = match scans.recv().await {
                    Ok(s) if s.source == ScanSource::QrOrBarcode => scanned(&ctx, s.text),
                    Ok(s) => Input::Card(s.text),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if !input(&t, i) {
                    break;
                }
            }
        });
    }
    // Asked once at the start, so a dead camera or printer is known before the first vehicle.
    if let Some(c) = d.camera.clone() {
        tokio::spawn(async move {
            let _ = c.frame().await;
        });
    }
    if let Some(p) = d.printer.clone() {
        tokio::spawn(async move {
            let _ = p.status().await;
        });
    }
    // Cameras and terminals report a snapshot: polled.
    if let Some(c) = d.camera.clone() {
        poll_health(Device::Camera, move || c.health(), tx);
    }
    if let Some(p) = d.terminal.clone() {
        poll_health(Device::Terminal, move || p.health(), tx);
    }
}

fn health_input(device: Device, h: &Health) -> Input {
    Input::Health {
        device,
        ok: h.state != HealthState::Offline,
        reason: h.reason.clone(),
    }
}

/// Whether a health report is worth telling the lane: a device that was never contacted yet
/// (its first, unchanged report) is assumed to work until it is tried.
fn untried(first: &Health, h: &Health) -> bool {
    first.state == HealthState::Offline && h.since == first.since && h.reason == first.reason
}

fn follow_health(device: Device, mut rx: watch::Receiver<Health>, tx: &mpsc::UnboundedSender<Msg>) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let first = rx.borrow_and_update().clone();
        if !untried(&first, &first) && tx.send(Msg::Input(health_input(device, &first))).is_err() {
            return;
        }
        while rx.changed().await.is_ok() {
            let h = rx.borrow_and_update().clone();
            if tx.send(Msg::Input(health_input(device, &h))).is_err() {
                break;
            }
        }
    });
}

/// How often a snapshot-only device's health is looked at.
const HEALTH_POLL: Duration = Duration::from_millis(500);

fn poll_health(
    device: Device,
    health: impl Fn() -> Health + Send + 'static,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let first = health();
        let mut last: Option<bool> = None;
        loop {
            let h = health();
            let ok = h.state != HealthState::Offline;
            if last != Some(ok) && !untried(&first, &h) {
                last = Some(ok);
                if tx.send(Msg::Input(health_input(device, &h))).is_err() {
                    break;
                }
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    });
}

/// The lane's journal, written in order by one task.
fn start_journal(
    lane: String,
    lot: Arc<LotServices>,
    notices: broadcast::Sender<LaneNotice>,
) -> mpsc::UnboundedSender<LaneReport> {
    let (tx, mut rx) = mpsc::unbounded_channel::<LaneReport>();
    let actor = Actor::system(&format!("lane-{lane}"));
    tokio::spawn(async move {
        while let Some(report) = rx.recv().await {
            let what = report.what.clone();
            if let Err(e) = lot
                .engine
                .submit(&actor, (lot.clock)(), Command::LaneReport(report))
                .await
            {
                let _ = notices.send(LaneNotice::Problem(format!(
                    "lane {lane} could not journal '{what}': {}",
                    e.message
                )));
            }
        }
    });
    tx
}

fn snake<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".into(),
    }
}

fn timing_map(t: &StepTimes) -> BTreeMap<String, u64> {
    match serde_json::to_value(t) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter_map(|(k, v)| v.as_u64().map(|n| (k, n)))
            .collect(),
        _ => BTreeMap::new(),
    }
}
