//! The entry lane: vehicle on the loop → plate read (within a budget) → the engine decides
//! (watchlist, permit, reservation, allocation) → ticket printed, or ticketless when the plate was
//! read confidently and the lot allows it → the screen shows the spot and the way → gate opens →
//! the vehicle passes → gate closes. Also the "press for ticket" path with no plate, the RFID
//! card path, lot full, and each fallback of docs/design.md.
//!
//! Sans-IO: [`EntryLane::handle`] takes an [`Input`] and the moment it happened and returns the
//! [`Action`]s to carry out. It never blocks and never reads a clock.

use crate::barrier::{LaneCore, State, Transaction};
pub use crate::{Action, Admission, EntryRequest, Input, PlateSeen, Refusal, Screen, Timer};
use crate::{Device, Fallback, LaneEvent, Needs};
use gatehouse_core::VehicleClass;
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
    /// The class a vehicle here is taken to be unless its driver chooses (a motorcycle lane).
    pub class: VehicleClass,
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
            class: VehicleClass::Standard,
            gate_confirm: Duration::from_secs(4),
            pass_within: Duration::from_secs(90),
        }
    }
}

/// The entry lane's own steps between the arrival and the barrier.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// The plate is being read; the driver may already have chosen (a charger, say) on the
    /// welcome screen.
    Reading {
        chosen: Option<Needs>,
    },
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
}

type Lane = LaneCore<Step>;

/// One entry lane's state machine.
#[derive(Debug)]
pub struct EntryLane {
    lane: Lane,
}

impl EntryLane {
    pub fn new(config: EntryConfig) -> EntryLane {
        let (confirm, pass) = (config.gate_confirm, config.pass_within);
        EntryLane {
            lane: LaneCore::new(config, confirm, pass),
        }
    }

    /// Whether the lane is waiting for the next vehicle.
    pub fn is_idle(&self) -> bool {
        self.lane.is_idle()
    }

    /// Whether a device is reported faulty.
    pub fn is_faulty(&self, device: Device) -> bool {
        self.lane.fault(device).is_some()
    }

    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Action> {
        self.lane.handle(now, input)
    }
}

impl Transaction for Step {
    const FREE_EXIT: bool = false;
    type Config = EntryConfig;

    fn arrive(lane: &mut Lane, _now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Show(Screen::Welcome { plate: None }));
        if let Some(reason) = lane.fault(Device::Camera) {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketForCameraOffline,
                reason,
            }));
            lane.state = State::Tx(Step::AwaitingDriver);
            out.push(Action::Show(Screen::PressForTicket));
        } else {
            lane.state = State::Tx(Step::Reading { chosen: None });
            out.push(Action::ReadPlate {
                budget: lane.config.plate_budget,
            });
        }
    }

    fn depart(lane: &mut Lane, step: Step, out: &mut Vec<Action>) {
        match step {
            Step::Reading { .. } | Step::AwaitingDriver | Step::Refused => lane.finish(out),
            // The answer is on its way; the admission is undone when it comes.
            Step::Deciding { .. } | Step::Printing { .. } => {}
        }
    }

    fn backed_off(_lane: &mut Lane, stay: String, out: &mut Vec<Action>) {
        cancel(stay, out);
    }

    fn input(lane: &mut Lane, now: Instant, step: Step, input: Input, out: &mut Vec<Action>) {
        match (step, input) {
            (Step::Reading { chosen }, Input::PlateRead(read)) => {
                lane.times.plate_read_ms = lane.since(now);
                plate_read(lane, read, chosen, out);
            }
            (Step::Reading { .. }, Input::TicketButton(Some(needs))) => {
                lane.state = State::Tx(Step::Reading {
                    chosen: Some(needs),
                });
            }
            (Step::AwaitingDriver, Input::TicketButton(chosen)) => {
                let needs = chosen.unwrap_or(Needs::class(lane.config.class));
                decide(lane, false, needs, None, out);
            }
            (Step::Reading { .. } | Step::AwaitingDriver, Input::Card(card)) => {
                decide(
                    lane,
                    false,
                    Needs::class(lane.config.class),
                    Some(card),
                    out,
                );
            }
            (Step::Deciding { ticketless }, Input::Decision(answer)) => {
                lane.times.decided_ms = lane.since(now);
                decision(lane, now, ticketless, answer, out);
            }
            (Step::Printing { admission }, Input::Printed(result)) => {
                printed(lane, now, admission, result, out);
            }
            // Inputs that do not apply in this step (a late plate read, a second press).
            _ => {}
        }
    }
}

fn plate_read(
    lane: &mut Lane,
    read: Option<PlateSeen>,
    chosen: Option<Needs>,
    out: &mut Vec<Action>,
) {
    lane.plate = read.clone();
    let confident = plate_is_confident(lane);
    if let Some(p) = &read {
        out.push(Action::Show(Screen::Welcome {
            plate: Some(p.plate.to_string()),
        }));
    }
    let needs = chosen.unwrap_or(Needs::class(lane.config.class));
    match (confident, lane.fault(Device::Printer)) {
        (true, None) => decide(lane, lane.config.ticketless, needs, None, out),
        (true, Some(reason)) => {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketlessForPrinterFault,
                reason,
            }));
            decide(lane, true, needs, None, out);
        }
        (false, None) => {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketForNoPlate,
                reason: match &read {
                    Some(p) => format!(
                        "plate {} read with confidence {:.2} only",
                        p.plate, p.confidence
                    ),
                    None => "no plate read within the budget".to_string(),
                },
            }));
            lane.state = State::Tx(Step::AwaitingDriver);
            out.push(Action::Show(Screen::PressForTicket));
        }
        (false, Some(reason)) => {
            // A card still works; anything else needs a person.
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::AttendantForPrinterFault,
                reason: format!("{reason}; and no plate read to enter without a ticket"),
            }));
            lane.state = State::Tx(Step::AwaitingDriver);
            let why = "the ticket printer is out of order".to_string();
            out.push(Action::CallAttendant(why.clone()));
            out.push(Action::Show(Screen::WaitForAttendant { reason: why }));
        }
    }
}

fn decide(
    lane: &mut Lane,
    ticketless: bool,
    needs: Needs,
    card: Option<String>,
    out: &mut Vec<Action>,
) {
    // A card is its own credential: no ticket either.
    let ticketless = ticketless || card.is_some();
    lane.state = State::Tx(Step::Deciding { ticketless });
    out.push(Action::Decide(EntryRequest {
        plate: lane.plate.clone(),
        needs,
        card,
        ticketless,
    }));
}

fn decision(
    lane: &mut Lane,
    now: Instant,
    ticketless: bool,
    answer: Result<Admission, Refusal>,
    out: &mut Vec<Action>,
) {
    if !lane.arming {
        // The vehicle left while the engine decided: undo an admission, else nothing.
        if let Ok(admission) = answer {
            cancel(admission.stay, out);
        }
        lane.finish(out);
        return;
    }
    match answer {
        Err(refusal) => {
            lane.state = State::Tx(Step::Refused);
            out.push(Action::Show(match refusal {
                Refusal::Full => Screen::Full,
                Refusal::Refused(why) => Screen::Refused { reason: why },
            }));
        }
        Ok(admission) => {
            lane.stay = Some(admission.stay.clone());
            if ticketless {
                out.push(Action::Show(proceed(lane, admission)));
                lane.open_gate(now, out);
            } else {
                out.push(Action::Print {
                    stay: admission.stay.clone(),
                    ticket: admission.ticket.clone(),
                });
                lane.state = State::Tx(Step::Printing { admission });
            }
        }
    }
}

fn printed(
    lane: &mut Lane,
    now: Instant,
    admission: Admission,
    result: Result<(), String>,
    out: &mut Vec<Action>,
) {
    lane.times.ticket_printed_ms = lane.since(now);
    if !lane.arming {
        cancel(admission.stay, out);
        lane.finish(out);
        return;
    }
    match result {
        Ok(()) => {
            out.push(Action::Show(Screen::TakeTicket {
                spot: admission.spot,
                level: admission.level,
                way: admission.way,
            }));
            lane.open_gate(now, out);
        }
        Err(reason) if plate_is_confident(lane) => {
            // The stay is known by its plate: in without the ticket.
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketlessForPrinterFault,
                reason,
            }));
            out.push(Action::Show(proceed(lane, admission)));
            lane.open_gate(now, out);
        }
        Err(reason) => {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::AttendantForPrinterFault,
                reason: reason.clone(),
            }));
            let why = format!(
                "ticket {} for stay {} could not be printed: {reason}",
                admission.ticket, admission.stay
            );
            lane.wait_for_attendant(why, out);
        }
    }
}

fn plate_is_confident(lane: &Lane) -> bool {
    lane.plate
        .as_ref()
        .is_some_and(|p| p.confidence >= lane.config.confident)
}

/// The ticketless screen: drive on, to this spot.
fn proceed(lane: &Lane, admission: Admission) -> Screen {
    Screen::Proceed {
        plate: lane
            .plate
            .as_ref()
            .map(|p| p.plate.to_string())
            .unwrap_or_default(),
        spot: admission.spot,
        level: admission.level,
        way: admission.way,
    }
}

fn cancel(stay: String, out: &mut Vec<Action>) {
    out.push(Action::CancelStay {
        stay: stay.clone(),
        reason: "the vehicle reversed off the loop before passing the barrier".to_string(),
    });
    out.push(Action::Journal(LaneEvent::Reversed { stay: Some(stay) }));
}
