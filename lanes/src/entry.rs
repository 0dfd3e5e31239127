//! The entry lane: vehicle on the loop → plate read (within a budget) → the engine decides
//! (watchlist, permit, reservation, allocation) → ticket printed, or ticketless when the plate was
//! read confidently and the lot allows it → the screen shows the spot and the way → gate opens →
//! the vehicle passes → gate closes. Also the "press for ticket" path with no plate, the RFID
//! card path, lot full, and each fallback of DESIGN.md.
//!
//! Sans-IO: [`EntryLane::handle`] takes an [`Input`] and the moment it happened and returns the
//! [`Action`]s to carry out. It never blocks and never reads a clock.

use crate::{Device, Fallback, LaneEvent, StepTimes, millis};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How an entry lane behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryConfig {
    /// How long the runtime may spend reading the plate (best of a few frames).
    pub plate_budget: Duration,
    /// Whether the lot admits a confidently read plate without a ticket.
    pub ticketless: bool,
    /// The read confidence (0 to 1) that counts as confident.
    pub confident: f32,
    /// The gate must reach its open limit within this, else it is a fault.
    pub gate_confirm: Duration,
    /// The vehicle should pass within this once the gate is open; after it the attendant is told.
    pub pass_within: Duration,
}

impl Default for EntryConfig {
    fn default() -> Self {
        EntryConfig {
            plate_budget: Duration::from_millis(1500),
            ticketless: false,
            confident: 0.8,
            gate_confirm: Duration::from_secs(4),
            pass_within: Duration::from_secs(90),
        }
    }
}

/// A plate the camera read.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateSeen {
    pub text: String,
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
    /// Any other refusal (watchlist, anti-passback), with the engine's message.
    Refused(String),
}

/// What happens at the lane.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The loop before the barrier: a vehicle is on it, or it left.
    ArmingLoop(bool),
    /// The loop beyond the barrier.
    PassLoop(bool),
    /// The plate reading the lane asked for: the best read within the budget, or none.
    PlateRead(Option<PlateSeen>),
    /// The driver pressed "ticket".
    TicketButton,
    /// An RFID permit card was presented.
    Card(String),
    /// The engine's answer to [`Action::Decide`].
    Decision(Result<Admission, Refusal>),
    /// The printer's answer to [`Action::Print`].
    Printed(Result<(), String>),
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    GateConfirm,
    Pass,
}

/// What the lane asks the engine for.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRequest {
    pub plate: Option<PlateSeen>,
    pub card: Option<String>,
    /// No ticket will be printed: the plate is the credential.
    pub ticketless: bool,
}

/// What the lane's screen shows.
#[derive(Debug, Clone, PartialEq)]
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
    Refused(String),
    WaitForAttendant(String),
    LaneClosed,
}

/// What the runtime is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ReadPlate {
        budget: Duration,
    },
    Decide(EntryRequest),
    Print {
        stay: String,
        ticket: String,
    },
    Show(Screen),
    OpenGate,
    CloseGate,
    StartTimer(Timer, Duration),
    /// The vehicle backed off after it was admitted: end the stay without charge.
    CancelStay {
        stay: String,
        reason: String,
    },
    CallAttendant(String),
    Journal(LaneEvent),
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    /// The plate is being read.
    Reading,
    /// No confident plate: waiting for the ticket button or a card.
    AwaitingDriver,
    Deciding {
        ticketless: bool,
    },
    Printing {
        admission: Admission,
    },
    /// Refused or full: waiting for the vehicle to back off the loop.
    Refused,
    /// Waiting for the attendant to open the gate (or the vehicle to leave).
    Attendant,
    Opening,
    Passing {
        passed_loop: bool,
    },
    Closing,
}

/// One entry lane's state machine.
#[derive(Debug)]
pub struct EntryLane {
    config: EntryConfig,
    state: State,
    open: bool,
    arming: bool,
    unhealthy: HashMap<Device, String>,
    /// The vehicle being handled: when it arrived, what was read, its stay.
    arrived: Option<Instant>,
    plate: Option<PlateSeen>,
    stay: Option<String>,
    times: StepTimes,
}

impl EntryLane {
    pub fn new(config: EntryConfig) -> EntryLane {
        EntryLane {
            config,
            state: State::Idle,
            open: true,
            arming: false,
            unhealthy: HashMap::new(),
            arrived: None,
            plate: None,
            stay: None,
            times: StepTimes::default(),
        }
    }

    /// Whether the lane is waiting for the next vehicle.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Whether a device is reported faulty.
    pub fn is_faulty(&self, device: Device) -> bool {
        self.unhealthy.contains_key(&device)
    }

    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Health { device, ok, reason } => {
                if ok {
                    self.unhealthy.remove(&device);
                } else {
                    self.unhealthy.insert(device, reason);
                }
            }
            Input::SetLaneOpen { open, reason } => {
                self.open = open;
                out.push(Action::Journal(LaneEvent::LaneState { open, reason }));
                if self.state == State::Idle {
                    out.push(Action::Show(if open {
                        Screen::Idle
                    } else {
                        Screen::LaneClosed
                    }));
                }
            }
            Input::OpenGate { reason } => {
                out.push(Action::Journal(LaneEvent::ManualOpen { reason }));
                self.open_gate(now, &mut out);
            }
            Input::ArmingLoop(true) => {
                let was = self.arming;
                self.arming = true;
                if !was {
                    self.arrival(now, &mut out);
                }
            }
            Input::ArmingLoop(false) => {
                self.arming = false;
                self.departure(&mut out);
            }
            Input::PassLoop(on) => {
                if let State::Passing { passed_loop } = &mut self.state {
                    if on {
                        *passed_loop = true;
                    } else if *passed_loop {
                        self.passed(now, &mut out);
                    }
                }
            }
            Input::PlateRead(read) if self.state == State::Reading => {
                self.times.plate_read_ms = self.since(now);
                self.plate_read(read, &mut out);
            }
            Input::TicketButton if self.state == State::AwaitingDriver => {
                self.decide(false, None, &mut out);
            }
            Input::Card(card) if matches!(self.state, State::Reading | State::AwaitingDriver) => {
                self.decide(false, Some(card), &mut out);
            }
            Input::Decision(answer) => {
                if let State::Deciding { ticketless } = self.state {
                    self.times.decided_ms = self.since(now);
                    self.decision(now, ticketless, answer, &mut out);
                }
            }
            Input::Printed(result) => {
                if let State::Printing { admission } = self.state.clone() {
                    self.printed(now, admission, result, &mut out);
                }
            }
            Input::GateOpened => {
                if self.state == State::Opening {
                    self.times.gate_open_ms = self.since(now);
                    self.state = State::Passing { passed_loop: false };
                    out.push(Action::StartTimer(Timer::Pass, self.config.pass_within));
                }
            }
            Input::GateClosed => {
                if self.state == State::Closing {
                    self.finish(&mut out);
                    if self.arming {
                        // The next vehicle is already waiting.
                        self.arrival(now, &mut out);
                    }
                }
            }
            Input::GateFault(reason) => {
                if matches!(
                    self.state,
                    State::Opening | State::Passing { .. } | State::Closing
                ) {
                    self.gate_fault(reason, &mut out);
                } else {
                    self.unhealthy.insert(Device::Gate, reason);
                }
            }
            Input::Timer(Timer::GateConfirm) => {
                if self.state == State::Opening {
                    self.gate_fault(
                        "the gate did not reach its open limit in time".to_string(),
                        &mut out,
                    );
                }
            }
            Input::Timer(Timer::Pass) => {
                if matches!(self.state, State::Passing { .. }) {
                    out.push(Action::CallAttendant(
                        "the barrier has been open a long time and no vehicle passed".to_string(),
                    ));
                }
            }
            // Inputs that do not apply in this state (a late plate read, a second press).
            Input::PlateRead(_) | Input::TicketButton | Input::Card(_) => {}
        }
        out
    }

    fn since(&self, now: Instant) -> Option<u64> {
        self.arrived
            .map(|a| millis(now.saturating_duration_since(a)))
    }

    /// A vehicle came onto the loop.
    fn arrival(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Idle => {}
            State::Passing { .. } | State::Closing => {
                // The barrier is still open for the vehicle before.
                if self.state != State::Closing {
                    out.push(Action::Journal(LaneEvent::Tailgate));
                    out.push(Action::CallAttendant(
                        "a second vehicle followed through the open barrier".to_string(),
                    ));
                }
                return;
            }
            _ => return,
        }
        if !self.open {
            out.push(Action::Show(Screen::LaneClosed));
            return;
        }
        self.arrived = Some(now);
        self.plate = None;
        self.stay = None;
        self.times = StepTimes::default();
        out.push(Action::Show(Screen::Welcome { plate: None }));
        if let Some(reason) = self.unhealthy.get(&Device::Camera) {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketForCameraOffline,
                reason: reason.clone(),
            }));
            self.state = State::AwaitingDriver;
            out.push(Action::Show(Screen::PressForTicket));
        } else {
            self.state = State::Reading;
            out.push(Action::ReadPlate {
                budget: self.config.plate_budget,
            });
        }
    }

    fn plate_read(&mut self, read: Option<PlateSeen>, out: &mut Vec<Action>) {
        self.plate = read.clone();
        let confident = self.plate_is_confident();
        let printer_down = self.unhealthy.get(&Device::Printer).cloned();
        if let Some(p) = &read {
            out.push(Action::Show(Screen::Welcome {
                plate: Some(p.text.clone()),
            }));
        }
        match (confident, printer_down) {
            (true, None) => self.decide(self.config.ticketless, None, out),
            (true, Some(reason)) => {
                out.push(Action::Journal(LaneEvent::Fallback {
                    fallback: Fallback::TicketlessForPrinterFault,
                    reason,
                }));
                self.decide(true, None, out);
            }
            (false, None) => {
                out.push(Action::Journal(LaneEvent::Fallback {
                    fallback: Fallback::TicketForNoPlate,
                    reason: match &read {
                        Some(p) => format!(
                            "plate {} read with confidence {:.2} only",
                            p.text, p.confidence
                        ),
                        None => "no plate read within the budget".to_string(),
                    },
                }));
                self.state = State::AwaitingDriver;
                out.push(Action::Show(Screen::PressForTicket));
            }
            (false, Some(reason)) => {
                // A card still works; anything else needs a person.
                out.push(Action::Journal(LaneEvent::Fallback {
                    fallback: Fallback::AttendantForPrinterFault,
                    reason: format!("{reason}; and no plate read to enter without a ticket"),
                }));
                self.state = State::AwaitingDriver;
                let why = "the ticket printer is out of order".to_string();
                out.push(Action::CallAttendant(why.clone()));
                out.push(Action::Show(Screen::WaitForAttendant(why)));
            }
        }
    }

    fn decide(&mut self, ticketless: bool, card: Option<String>, out: &mut Vec<Action>) {
        // A card is its own credential: no ticket either.
        let ticketless = ticketless || card.is_some();
        self.state = State::Deciding { ticketless };
        out.push(Action::Decide(EntryRequest {
            plate: self.plate.clone(),
            card,
            ticketless,
        }));
    }

    fn decision(
        &mut self,
        now: Instant,
        ticketless: bool,
        answer: Result<Admission, Refusal>,
        out: &mut Vec<Action>,
    ) {
        if !self.arming {
            // The vehicle left while the engine decided: undo an admission, else nothing.
            if let Ok(admission) = answer {
                self.cancel(admission.stay, out);
            }
            self.finish(out);
            return;
        }
        match answer {
            Err(refusal) => {
                self.state = State::Refused;
                out.push(Action::Show(match refusal {
                    Refusal::Full => Screen::Full,
                    Refusal::Refused(why) => Screen::Refused(why),
                }));
            }
            Ok(admission) => {
                self.stay = Some(admission.stay.clone());
                if ticketless {
                    out.push(Action::Show(self.proceed(admission)));
                    self.open_gate(now, out);
                } else {
                    out.push(Action::Print {
                        stay: admission.stay.clone(),
                        ticket: admission.ticket.clone(),
                    });
                    self.state = State::Printing { admission };
                }
            }
        }
    }

    fn printed(
        &mut self,
        now: Instant,
        admission: Admission,
        result: Result<(), String>,
        out: &mut Vec<Action>,
    ) {
        self.times.ticket_printed_ms = self.since(now);
        if !self.arming {
            self.cancel(admission.stay, out);
            self.finish(out);
            return;
        }
        match result {
            Ok(()) => {
                out.push(Action::Show(Screen::TakeTicket {
                    spot: admission.spot,
                    level: admission.level,
                    way: admission.way,
                }));
                self.open_gate(now, out);
            }
            Err(reason) => {
                let confident = self.plate_is_confident();
                if confident {
                    // The stay is known by its plate: in without the ticket.
                    out.push(Action::Journal(LaneEvent::Fallback {
                        fallback: Fallback::TicketlessForPrinterFault,
                        reason,
                    }));
                    out.push(Action::Show(self.proceed(admission)));
                    self.open_gate(now, out);
                } else {
                    out.push(Action::Journal(LaneEvent::Fallback {
                        fallback: Fallback::AttendantForPrinterFault,
                        reason: reason.clone(),
                    }));
                    let why = format!(
                        "ticket {} for stay {} could not be printed: {reason}",
                        admission.ticket, admission.stay
                    );
                    out.push(Action::CallAttendant(why.clone()));
                    out.push(Action::Show(Screen::WaitForAttendant(why)));
                    self.state = State::Attendant;
                }
            }
        }
    }

    fn plate_is_confident(&self) -> bool {
        self.plate
            .as_ref()
            .is_some_and(|p| p.confidence >= self.config.confident)
    }

    /// The ticketless screen: drive on, to this spot.
    fn proceed(&self, admission: Admission) -> Screen {
        Screen::Proceed {
            plate: self
                .plate
                .as_ref()
                .map(|p| p.text.clone())
                .unwrap_or_default(),
            spot: admission.spot,
            level: admission.level,
            way: admission.way,
        }
    }

    fn open_gate(&mut self, now: Instant, out: &mut Vec<Action>) {
        if matches!(self.state, State::Passing { .. } | State::Opening) {
            return;
        }
        if let Some(reason) = self.unhealthy.get(&Device::Gate).cloned() {
            self.gate_fault(reason, out);
            return;
        }
        self.times.gate_command_ms = self.since(now);
        self.state = State::Opening;
        out.push(Action::OpenGate);
        out.push(Action::StartTimer(
            Timer::GateConfirm,
            self.config.gate_confirm,
        ));
    }

    fn gate_fault(&mut self, reason: String, out: &mut Vec<Action>) {
        self.unhealthy.insert(Device::Gate, reason.clone());
        out.push(Action::Journal(LaneEvent::Fallback {
            fallback: Fallback::AttendantForGateFault,
            reason: reason.clone(),
        }));
        let why = format!("the barrier is not answering: {reason}");
        out.push(Action::CallAttendant(why.clone()));
        out.push(Action::Show(Screen::WaitForAttendant(why)));
        self.state = State::Attendant;
    }

    /// The vehicle left the arming loop.
    fn departure(&mut self, out: &mut Vec<Action>) {
        match &self.state {
            State::Passing { passed_loop: false } | State::Opening => {
                // Backed off instead of driving through: cancel its admission.
                match self.stay.take() {
                    Some(stay) => self.cancel(stay, out),
                    None => out.push(Action::Journal(LaneEvent::Reversed { stay: None })),
                }
                self.state = State::Closing;
                out.push(Action::CloseGate);
            }
            State::Passing { passed_loop: true } => {}
            State::Reading | State::AwaitingDriver | State::Refused | State::Attendant => {
                // Gone before passing: undo an admission (waiting for the attendant after a
                // failed print), else nothing was issued.
                if let Some(stay) = self.stay.take() {
                    self.cancel(stay, out);
                }
                self.finish(out);
            }
            State::Deciding { .. } | State::Printing { .. } => {
                // The answer is on its way; the admission is undone when it comes.
            }
            State::Idle | State::Closing => {}
        }
    }

    fn cancel(&mut self, stay: String, out: &mut Vec<Action>) {
        out.push(Action::CancelStay {
            stay: stay.clone(),
            reason: "the vehicle reversed off the loop before passing the barrier".to_string(),
        });
        out.push(Action::Journal(LaneEvent::Reversed { stay: Some(stay) }));
    }

    fn passed(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.times.passed_ms = self.since(now);
        out.push(Action::Journal(LaneEvent::Passed {
            stay: self.stay.clone(),
            timing: self.times.clone(),
        }));
        self.state = State::Closing;
        out.push(Action::CloseGate);
    }

    fn finish(&mut self, out: &mut Vec<Action>) {
        self.state = State::Idle;
        self.arrived = None;
        self.plate = None;
        self.stay = None;
        out.push(Action::Show(if self.open {
            Screen::Idle
        } else {
            Screen::LaneClosed
        }));
    }
}
