//! What entry and exit lanes share: the loops, the barrier (open, confirmed, passed, closed), gate
//! faults, device health, and the attendant's actions. A lane is a [`LaneCore`] with its own
//! [`Transaction`] steps between the vehicle's arrival and the barrier opening.

use crate::millis;
use crate::{Action, Device, Fallback, Input, LaneEvent, PlateSeen, Screen, StepTimes, Timer};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Where a lane is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State<T> {
    Idle,
    /// Between the arrival and the barrier: the lane's own steps.
    Tx(T),
    /// Waiting for the attendant (or for the vehicle to leave).
    Attendant,
    Opening,
    Passing {
        passed_loop: bool,
    },
    Closing,
    /// The barrier is held open for everyone.
    FreeExit,
}

/// The steps a lane takes between a vehicle's arrival and the barrier.
pub(crate) trait Transaction: Sized + Clone + PartialEq {
    /// Whether an attendant may hold this lane's barrier open for everyone.
    const FREE_EXIT: bool;
    /// How the lane behaves.
    type Config: std::fmt::Debug;
    /// A vehicle arrived at an open, idle lane (the vehicle's fields are reset).
    fn arrive(lane: &mut LaneCore<Self>, now: Instant, out: &mut Vec<Action>);
    /// The vehicle left the arming loop during this step.
    fn depart(lane: &mut LaneCore<Self>, step: Self, out: &mut Vec<Action>);
    /// The vehicle backed off after its stay was settled (admitted, or recorded as gone).
    fn backed_off(lane: &mut LaneCore<Self>, stay: String, out: &mut Vec<Action>);
    /// An input that is the lane's own, during this step.
    fn input(
        lane: &mut LaneCore<Self>,
        now: Instant,
        step: Self,
        input: Input,
        out: &mut Vec<Action>,
    );
}

#[derive(Debug)]
pub(crate) struct LaneCore<T: Transaction> {
    pub config: T::Config,
    pub state: State<T>,
    /// Not closed by an attendant.
    pub open: bool,
    pub arming: bool,
    pub unhealthy: HashMap<Device, String>,
    /// The vehicle being handled: when it arrived, its plate, its stay, its step times.
    pub arrived: Option<Instant>,
    pub plate: Option<PlateSeen>,
    pub stay: Option<String>,
    pub times: StepTimes,
    /// The vehicle reached the pass loop while the barrier was still opening.
    pass_seen: bool,
    gate_confirm: Duration,
    pass_within: Duration,
}

impl<T: Transaction> LaneCore<T> {
    pub fn new(config: T::Config, gate_confirm: Duration, pass_within: Duration) -> LaneCore<T> {
        LaneCore {
            config,
            state: State::Idle,
            open: true,
            arming: false,
            unhealthy: HashMap::new(),
            arrived: None,
            plate: None,
            stay: None,
            times: StepTimes::default(),
            pass_seen: false,
            gate_confirm,
            pass_within,
        }
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
                    out.push(Action::Show(self.idle_screen()));
                }
            }
            Input::SetFreeExit { on, reason } if T::FREE_EXIT => {
                self.free_exit(on, reason, &mut out)
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
            Input::PassLoop(on) => match &mut self.state {
                State::Passing { passed_loop } => {
                    if on {
                        *passed_loop = true;
                    } else if *passed_loop {
                        self.passed(now, &mut out);
                    }
                }
                // A vehicle may move on while the arm is still rising.
                State::Opening => {
                    if on {
                        self.pass_seen = true;
                    } else if self.pass_seen {
                        self.passed(now, &mut out);
                    }
                }
                _ => {}
            },
            Input::GateOpened => {
                if self.state == State::Opening {
                    self.times.gate_open_ms = self.since(now);
                    self.state = State::Passing {
                        passed_loop: self.pass_seen,
                    };
                    out.push(Action::StartTimer(Timer::Pass, self.pass_within));
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
            other => {
                if let State::Tx(step) = self.state.clone() {
                    T::input(self, now, step, other, &mut out);
                }
            }
        }
        out
    }

    /// Whether the lane is waiting for the next vehicle.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    pub fn since(&self, now: Instant) -> Option<u64> {
        self.arrived
            .map(|a| millis(now.saturating_duration_since(a)))
    }

    pub fn idle_screen(&self) -> Screen {
        if self.open {
            Screen::Idle
        } else {
            Screen::LaneClosed
        }
    }

    /// Whether the device is up as far as the lane knows; its reason when it is not.
    pub fn fault(&self, device: Device) -> Option<String> {
        self.unhealthy.get(&device).cloned()
    }

    /// A vehicle came onto the arming loop.
    fn arrival(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Idle => {}
            State::Passing { .. } => {
                // The barrier is still open for the vehicle before.
                out.push(Action::Journal(LaneEvent::Tailgate));
                out.push(Action::CallAttendant(
                    "a second vehicle followed through the open barrier".to_string(),
                ));
                return;
            }
            _ => return,
        }
        if !self.open {
            out.push(Action::Show(Screen::LaneClosed));
            return;
        }
        self.arrived = Some(now);
        self.pass_seen = false;
        self.plate = None;
        self.stay = None;
        self.times = StepTimes::default();
        T::arrive(self, now, out);
    }

    /// The vehicle left the arming loop.
    fn departure(&mut self, out: &mut Vec<Action>) {
        match self.state.clone() {
            // Off the arming loop and onto the pass loop: driving through, not backing off.
            State::Opening if self.pass_seen => {}
            State::Opening | State::Passing { passed_loop: false } => {
                // Backed off instead of driving through.
                match self.stay.take() {
                    Some(stay) => T::backed_off(self, stay, out),
                    None => out.push(Action::Journal(LaneEvent::Reversed { stay: None })),
                }
                self.state = State::Closing;
                out.push(Action::CloseGate);
            }
            State::Attendant => {
                if let Some(stay) = self.stay.take() {
                    T::backed_off(self, stay, out);
                }
                self.finish(out);
            }
            State::Tx(step) => T::depart(self, step, out),
            State::Passing { passed_loop: true }
            | State::Idle
            | State::Closing
            | State::FreeExit => {}
        }
    }

    pub fn open_gate(&mut self, now: Instant, out: &mut Vec<Action>) {
        if matches!(
            self.state,
            State::Passing { .. } | State::Opening | State::FreeExit
        ) {
            return;
        }
        if let Some(reason) = self.fault(Device::Gate) {
            self.gate_fault(reason, out);
            return;
        }
        self.times.gate_command_ms = self.since(now);
        self.state = State::Opening;
        out.push(Action::OpenGate);
        out.push(Action::StartTimer(Timer::GateConfirm, self.gate_confirm));
    }

    fn gate_fault(&mut self, reason: String, out: &mut Vec<Action>) {
        self.unhealthy.insert(Device::Gate, reason.clone());
        out.push(Action::Journal(LaneEvent::Fallback {
            fallback: Fallback::AttendantForGateFault,
            reason: reason.clone(),
        }));
        let why = format!("the barrier is not answering: {reason}");
        self.wait_for_attendant(why, out);
    }

    pub fn wait_for_attendant(&mut self, why: String, out: &mut Vec<Action>) {
        out.push(Action::CallAttendant(why.clone()));
        out.push(Action::Show(Screen::WaitForAttendant { reason: why }));
        self.state = State::Attendant;
    }

    fn free_exit(&mut self, on: bool, reason: String, out: &mut Vec<Action>) {
        out.push(Action::Journal(LaneEvent::FreeExit { on, reason }));
        if on {
            self.state = State::FreeExit;
            self.arrived = None;
            self.stay = None;
            out.push(Action::Show(Screen::FreeExit));
            out.push(Action::OpenGate);
        } else if self.state == State::FreeExit {
            self.state = State::Closing;
            out.push(Action::CloseGate);
        }
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

    pub fn finish(&mut self, out: &mut Vec<Action>) {
        self.state = State::Idle;
        self.arrived = None;
        self.plate = None;
        self.stay = None;
        out.push(Action::Show(self.idle_screen()));
    }
}
