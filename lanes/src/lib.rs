//! gatehouse-lanes: where a driver meets the car park. Each lane is a state machine with no I/O of
//! its own ([`entry::EntryLane`], [`exit::ExitLane`]): it is fed [`Input`]s (a loop occupied, a
//! plate read, the engine's answer, the gate's limit switch, a timer, an attendant's action) with
//! the time they happened, and answers with [`Action`]s (read the plate, ask the engine, print,
//! charge, show, open the gate, journal a fallback). The runtime ([`runtime`]) carries the actions
//! out with the drivers, the plate reader and the engine, so every path, fallbacks included, can
//! be tested without hardware.

mod barrier;
pub mod entry;
pub mod exit;
pub mod runtime;
pub mod site;
pub mod wiring;

use gatehouse_core::VehicleClass;
use std::time::Duration;

/// A lane device whose health the lane follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Camera,
    Printer,
    Gate,
    Reader,
    Terminal,
}

/// Something the lane did instead of its normal path, or noticed; each is journaled.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LaneEvent {
    /// The normal path could not be taken: what was done instead, and why.
    Fallback { fallback: Fallback, reason: String },
    /// The vehicle left the loop before passing the barrier; its admission was cancelled (entry)
    /// or its recorded exit stands and the attendant is told (exit).
    Reversed { stay: Option<String> },
    /// A second vehicle came onto the loop while the barrier was open for the first.
    Tailgate,
    /// An attendant opened the barrier by hand.
    ManualOpen { reason: String },
    /// The lane was closed or reopened by an attendant.
    LaneState { open: bool, reason: String },
    /// An attendant held the exit barrier open for everyone (an emergency), or ended that.
    FreeExit { on: bool, reason: String },
    /// A vehicle passed: the timing of each step, in milliseconds from the loop.
    Passed {
        stay: Option<String>,
        timing: StepTimes,
    },
}

/// The fallbacks a lane takes (docs/design.md, Lanes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// No plate read: the driver takes a ticket (or scans one).
    TicketForNoPlate,
    /// The camera is offline: the ticket path.
    TicketForCameraOffline,
    /// The printer cannot print: ticketless by the plate read.
    TicketlessForPrinterFault,
    /// The printer cannot print and no plate was read: the attendant is called.
    AttendantForPrinterFault,
    /// The gate did not confirm: the attendant is called and the lane shown faulty.
    AttendantForGateFault,
    /// The payment terminal is down: the driver may pay another way (pay station, booth).
    OtherMethodForTerminalDown,
    /// The payment terminal is down and the lot lets the vehicle out owing: logged as unable to
    /// collect.
    PayLaterForTerminalDown,
}

impl LaneEvent {
    /// The event in words, for the attendant's notices.
    pub fn text(&self) -> String {
        match self {
            LaneEvent::Fallback { fallback, reason } => {
                format!("fallback {}: {reason}", fallback.name())
            }
            LaneEvent::Reversed { stay } => format!(
                "a vehicle backed off{}",
                stay.as_ref()
                    .map(|s| format!(" (ticket {s})"))
                    .unwrap_or_default()
            ),
            LaneEvent::Tailgate => "a second vehicle followed through the barrier".into(),
            LaneEvent::ManualOpen { reason } => format!("barrier opened by hand: {reason}"),
            LaneEvent::LaneState { open, reason } => {
                format!("lane {}: {reason}", if *open { "opened" } else { "closed" })
            }
            LaneEvent::FreeExit { on, reason } => {
                format!("free exit {}: {reason}", if *on { "on" } else { "off" })
            }
            LaneEvent::Passed { stay, .. } => format!(
                "a vehicle passed{}",
                stay.as_ref()
                    .map(|s| format!(" (ticket {s})"))
                    .unwrap_or_default()
            ),
        }
    }
}

impl Fallback {
    /// The fallback's name as journals and summaries show it (`ticket_for_no_plate`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{self:?}"))
    }
}

/// Milliseconds from the vehicle's arrival on the loop to each step, when it happened.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StepTimes {
    pub plate_read_ms: Option<u64>,
    pub decided_ms: Option<u64>,
    pub ticket_printed_ms: Option<u64>,
    pub paid_ms: Option<u64>,
    pub gate_command_ms: Option<u64>,
    pub gate_open_ms: Option<u64>,
    pub passed_ms: Option<u64>,
}

/// A plate the camera read (at an exit: the vehicle inside it matched).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateSeen {
    pub plate: gatehouse_core::Plate,
    pub confidence: f32,
}

/// The engine admitted the vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub stay: String,
    pub ticket: String,
    pub spot: String,
    pub level: String,
    /// How to get there, for the screen ("ramp up, then left").
    pub way: String,
}

/// The engine refused the vehicle.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No fitting spot: the screen and the sign say FULL.
    Full,
    /// Any other refusal (watchlist, anti-passback, unknown ticket), with the engine's message.
    Refused(String),
}

/// What the entry lane asks the engine for.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRequest {
    pub plate: Option<PlateSeen>,
    /// What the vehicle needs of its spot: the lane's own class, or what the driver chose.
    pub needs: Needs,
    pub card: Option<String>,
    /// No ticket will be printed: the plate is the credential.
    pub ticketless: bool,
}

/// What a vehicle at an entry needs of its spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Needs {
    pub class: VehicleClass,
    /// A spot with a charger.
    pub ev: bool,
    pub accessible: bool,
}

impl Needs {
    /// A vehicle of `class` with no other needs.
    pub fn class(class: VehicleClass) -> Needs {
        Needs {
            class,
            ev: false,
            accessible: false,
        }
    }
}

/// How a vehicle at an exit is identified.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// A plate matched to a vehicle inside.
    Plate(gatehouse_core::Plate),
    /// A scanned ticket (QR payload or ticket number).
    Ticket(String),
    /// An RFID permit card.
    Card(String),
}

/// What a stay owes at the exit, as the engine quoted it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitQuote {
    pub stay: String,
    pub ticket: String,
    pub plate: Option<String>,
    /// What is owed now (after payments, permits and the exit grace), e.g. "4.50".
    pub owed: String,
    pub currency: String,
    /// Whether nothing is owed.
    pub settled: bool,
    /// The quote's lines for the screen ("2 h 10 min: 4.50").
    pub lines: Vec<String>,
}

/// How a payment at the lane's terminal ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentResult {
    /// Approved and recorded by the engine.
    Paid,
    /// The card was declined (or the driver cancelled): the reason to show.
    Declined(String),
    /// The terminal did not answer or is out of order.
    TerminalDown(String),
    /// The terminal approved another amount than the one asked; what it approved was recorded.
    /// The barrier stays down and the attendant is called (the words say both amounts).
    AmountMismatch(String),
}

/// Another way to pay at an exit than the card terminal, scanned at the lane's reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeem {
    /// A merchant voucher's signed code.
    Voucher(String),
    /// A prepaid account, from its card's signed code.
    Prepaid(i64),
}

/// What happens at a lane. Each lane ignores the inputs that are not its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The loop before the barrier: a vehicle is on it, or it left.
    ArmingLoop(bool),
    /// The loop beyond the barrier.
    PassLoop(bool),
    /// The plate reading the lane asked for: the best read within the budget, or none. At an exit
    /// the runtime has already matched it against the vehicles inside.
    PlateRead(Option<PlateSeen>),
    /// Entry: the driver pressed "ticket", or one of its choices (motorcycle, EV charging,
    /// accessible spot); `None` is the plain button.
    TicketButton(Option<Needs>),
    /// Exit: a ticket was scanned.
    TicketScanned(String),
    /// An RFID card was presented.
    Card(String),
    /// Entry: the engine's answer to [`Action::Decide`].
    Decision(Result<Admission, Refusal>),
    /// Entry: the printer's answer to [`Action::Print`].
    Printed(Result<(), String>),
    /// Exit: the engine's answer to [`Action::Quote`].
    Quoted(Result<ExitQuote, String>),
    /// Exit: the answer to [`Action::Charge`].
    Payment(PaymentResult),
    /// Exit: the driver asks to try the card again after a decline.
    PayAgain,
    /// Exit: a merchant voucher or a prepaid card was scanned to pay with.
    Redeem(Redeem),
    /// Exit: the engine's answer to [`Action::Redeem`]: the stay's quote after it, or why it
    /// was refused.
    Redeemed(Result<ExitQuote, String>),
    /// Exit: the engine's answer to [`Action::Exit`] or [`Action::ExitOwing`].
    ExitRecorded(Result<(), String>),
    GateOpened,
    GateClosed,
    GateFault(String),
    Timer(Timer),
    /// A device's health changed.
    Health {
        device: Device,
        ok: bool,
        reason: String,
    },
    /// An attendant opens the barrier by hand.
    OpenGate {
        reason: String,
    },
    /// An attendant closes the lane, or opens it again.
    SetLaneOpen {
        open: bool,
        reason: String,
    },
    /// Exit: an attendant holds the barrier open for everyone (emergency), or ends that.
    SetFreeExit {
        on: bool,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    GateConfirm,
    Pass,
    /// Exit: the driver's time to pay again after a declined card is up.
    RetryWindow,
}

/// What the lane's screen shows. The kiosk draws it in the driver's language; it reaches the
/// kiosk as itself, tagged by `kind` (the TypeScript union is generated from this type).
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Screen {
    Idle,
    Welcome {
        plate: Option<String>,
    },
    PressForTicket,
    TakeTicket {
        spot: String,
        level: String,
        way: String,
    },
    Proceed {
        plate: String,
        spot: String,
        level: String,
        way: String,
    },
    Full,
    Refused {
        reason: String,
    },
    WaitForAttendant {
        reason: String,
    },
    LaneClosed,
    /// Exit: scan your ticket (no plate matched, or the camera is out).
    ScanTicket,
    /// Exit: the amount and its lines; present a card at the terminal.
    PayHere {
        amount: String,
        currency: String,
        lines: Vec<String>,
    },
    /// Exit: the card was declined; pay again within `retry_seconds`, or pay elsewhere. When
    /// the window is up the lane calls the attendant and shows this again with `retry_seconds`
    /// 0 (paying again still works).
    Declined {
        reason: String,
        amount: String,
        currency: String,
        retry_seconds: u32,
    },
    /// Exit: something is owed and cannot be paid here: how to pay.
    Unpaid {
        amount: String,
        currency: String,
        how: String,
    },
    /// Exit: paid or nothing owed; the barrier opens.
    Goodbye {
        plate: Option<String>,
    },
    /// Exit: the barrier is held open.
    FreeExit,
}

/// What the runtime is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ReadPlate {
        budget: Duration,
    },
    /// Entry: ask the engine to admit.
    Decide(EntryRequest),
    /// Entry: print the stay's ticket.
    Print {
        stay: String,
        ticket: String,
    },
    /// Exit: find the stay and what it owes.
    Quote(Credential),
    /// Exit: charge the amount at the lane's terminal and record the payment.
    Charge {
        stay: String,
        amount: String,
    },
    /// Exit: stop the card payment in progress (the driver pays another way); its answer still
    /// comes as [`Input::Payment`].
    CancelCharge,
    /// Exit: take a voucher or pay from a prepaid account, then quote the stay again.
    Redeem {
        stay: String,
        with: Redeem,
    },
    /// Exit: record the exit (nothing is owed).
    Exit {
        stay: String,
    },
    /// Exit: record the exit with the amount owed as unable to collect.
    ExitOwing {
        stay: String,
        reason: String,
    },
    Show(Screen),
    OpenGate,
    CloseGate,
    StartTimer(Timer, Duration),
    /// Entry: the vehicle backed off after it was admitted: end the stay without charge.
    CancelStay {
        stay: String,
        reason: String,
    },
    CallAttendant(String),
    Journal(LaneEvent),
}

/// A lane of either kind, as the runtime drives it.
#[derive(Debug)]
pub enum LaneMachine {
    Entry(entry::EntryLane),
    Exit(exit::ExitLane),
}

impl LaneMachine {
    pub fn handle(&mut self, now: std::time::Instant, input: Input) -> Vec<Action> {
        match self {
            LaneMachine::Entry(l) => l.handle(now, input),
            LaneMachine::Exit(l) => l.handle(now, input),
        }
    }

    /// Whether the lane is waiting for the next vehicle.
    pub fn is_idle(&self) -> bool {
        match self {
            LaneMachine::Entry(l) => l.is_idle(),
            LaneMachine::Exit(l) => l.is_idle(),
        }
    }

    /// Whether a device is reported faulty.
    pub fn is_faulty(&self, device: Device) -> bool {
        match self {
            LaneMachine::Entry(l) => l.is_faulty(device),
            LaneMachine::Exit(l) => l.is_faulty(device),
        }
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
