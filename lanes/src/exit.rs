//! The exit lane: vehicle on the loop → plate read and matched against the vehicles inside, or a
//! ticket scanned, or an RFID card → the stay and what it owes → nothing owed (paid at a pay
//! station or the booth, a permit, the exit grace) or paid here at the terminal → the exit is
//! recorded → gate opens → the vehicle passes → gate closes. Unpaid: the amount and how to pay.
//! Fallbacks: no plate → scan the ticket; camera offline → scan the ticket; terminal down → pay
//! elsewhere, or (when the lot allows it) leave owing, logged as unable to collect.
//!
//! Sans-IO like [`crate::entry`]: [`ExitLane::handle`] returns the [`Action`]s to carry out.

use crate::barrier::{LaneCore, State, Transaction};
pub use crate::{
    Action, Credential, ExitQuote, Input, PaymentResult, PlateSeen, Redeem, Screen, Timer,
};
use crate::{Device, Fallback, LaneEvent};
use std::time::{Duration, Instant};

/// How an exit lane behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitConfig {
    /// How long the runtime may spend reading and matching the plate.
    pub plate_budget: Duration,
    /// Whether the lane has a payment terminal drivers can pay at.
    pub pay_here: bool,
    /// Whether a vehicle may leave owing when the terminal is down (logged as unable to collect).
    pub pay_later: bool,
    /// Where else to pay, for the screen.
    pub pay_elsewhere: String,
    pub gate_confirm: Duration,
    pub pass_within: Duration,
    /// How long a driver whose card was declined has to pay again before the lane calls the
    /// attendant (the kiosk counts it down).
    pub retry_window: Duration,
}

impl Default for ExitConfig {
    fn default() -> Self {
        ExitConfig {
            plate_budget: Duration::from_millis(1500),
            pay_here: true,
            pay_later: false,
            pay_elsewhere: "pay at a pay station or the booth, then scan your ticket here".into(),
            gate_confirm: Duration::from_secs(4),
            pass_within: Duration::from_secs(90),
            retry_window: Duration::from_secs(30),
        }
    }
}

/// The exit lane's own steps between the arrival and the barrier.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Reading,
    /// No plate matched: waiting for a ticket or a card.
    AwaitingDriver,
    Quoting,
    /// The terminal is charging.
    Paying(ExitQuote),
    /// A voucher or prepaid card was scanned while the terminal was charging: the charge is
    /// being stopped (a card already approved wins, and the voucher is not taken).
    Cancelling(ExitQuote, Redeem),
    /// The voucher or prepaid payment is being taken.
    Redeeming(ExitQuote),
    /// The card was declined (the reason): the driver may pay again within the retry window.
    Declined(ExitQuote, String),
    /// Something is owed and was not paid here: waiting for a retry, a ticket scanned after
    /// paying elsewhere, or the vehicle to back off.
    Unpaid(ExitQuote),
    /// The exit is being recorded.
    Leaving(ExitQuote),
}

type Lane = LaneCore<Step>;

/// One exit lane's state machine.
#[derive(Debug)]
pub struct ExitLane {
    lane: Lane,
}

impl ExitLane {
    pub fn new(config: ExitConfig) -> ExitLane {
        let (confirm, pass) = (config.gate_confirm, config.pass_within);
        ExitLane {
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
    const FREE_EXIT: bool = true;
    type Config = ExitConfig;

    fn arrive(lane: &mut Lane, _now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Show(Screen::Welcome { plate: None }));
        if let Some(reason) = lane.fault(Device::Camera) {
            out.push(Action::Journal(LaneEvent::Fallback {
                fallback: Fallback::TicketForCameraOffline,
                reason,
            }));
            lane.state = State::Tx(Step::AwaitingDriver);
            out.push(Action::Show(Screen::ScanTicket));
        } else {
            lane.state = State::Tx(Step::Reading);
            out.push(Action::ReadPlate {
                budget: lane.config.plate_budget,
            });
        }
    }

    fn depart(lane: &mut Lane, step: Step, out: &mut Vec<Action>) {
        match step {
            // The exit is being recorded: what to do is decided when the answer comes.
            Step::Leaving(_) => {}
            // Nothing was recorded: a payment approved meanwhile stays on the stay.
            _ => lane.finish(out),
        }
    }

    fn backed_off(lane: &mut Lane, stay: String, out: &mut Vec<Action>) {
        out.push(Action::Journal(LaneEvent::Reversed {
            stay: Some(stay.clone()),
        }));
        let plate = lane.plate.as_ref().map(|p| p.plate.to_string());
        out.push(Action::CallAttendant(format!(
            "stay {stay}{} was recorded as gone but the vehicle backed off the exit; it is still inside",
            plate.map(|p| format!(" ({p})")).unwrap_or_default()
        )));
    }

    fn input(lane: &mut Lane, now: Instant, step: Step, input: Input, out: &mut Vec<Action>) {
        match (step, input) {
            (Step::Reading, Input::PlateRead(read)) => {
                lane.times.plate_read_ms = lane.since(now);
                match read {
                    Some(p) => {
                        out.push(Action::Show(Screen::Welcome {
                            plate: Some(p.plate.to_string()),
                        }));
                        let plate = p.plate.clone();
                        lane.plate = Some(p);
                        quote(lane, Credential::Plate(plate), out);
                    }
                    None => {
                        out.push(Action::Journal(LaneEvent::Fallback {
                            fallback: Fallback::TicketForNoPlate,
                            reason: "no plate read matched a vehicle inside".into(),
                        }));
                        lane.state = State::Tx(Step::AwaitingDriver);
                        out.push(Action::Show(Screen::ScanTicket));
                    }
                }
            }
            (
                Step::Reading | Step::AwaitingDriver | Step::Unpaid(_) | Step::Declined(..),
                Input::TicketScanned(ticket),
            ) => quote(lane, Credential::Ticket(ticket), out),
            (
                Step::Reading | Step::AwaitingDriver | Step::Unpaid(_) | Step::Declined(..),
                Input::Card(card),
            ) => {
                quote(lane, Credential::Card(card), out);
            }
            (Step::Quoting, Input::Quoted(answer)) => {
                lane.times.decided_ms = lane.since(now);
                match answer {
                    Ok(q) => quoted(lane, q, out),
                    Err(why) => {
                        // Not found, or refused: the driver can still scan a ticket.
                        lane.state = State::Tx(Step::AwaitingDriver);
                        out.push(Action::Show(Screen::Refused { reason: why }));
                    }
                }
            }
            (Step::Paying(q), Input::Payment(result)) => match result {
                PaymentResult::Paid => {
                    lane.times.paid_ms = lane.since(now);
                    leave(lane, q, out);
                }
                PaymentResult::Declined(reason) => declined(lane, q, reason, out),
                PaymentResult::AmountMismatch(why) => lane.wait_for_attendant(why, out),
                PaymentResult::TerminalDown(reason) => {
                    lane.unhealthy.insert(Device::Terminal, reason.clone());
                    terminal_down(lane, q, reason, out);
                }
            },
            (Step::Unpaid(q) | Step::Declined(q, _), Input::PayAgain) => charge(lane, q, out),
            (Step::Declined(q, reason), Input::Timer(Timer::RetryWindow)) => {
                out.push(Action::CallAttendant(format!(
                    "a driver at the exit could not pay {} {} for ticket {}: {reason}",
                    q.owed, q.currency, q.ticket
                )));
                out.push(Action::Show(Screen::Declined {
                    reason,
                    amount: q.owed.clone(),
                    currency: q.currency.clone(),
                    retry_seconds: 0,
                }));
                lane.state = State::Tx(Step::Unpaid(q));
            }
            (Step::Paying(q), Input::Redeem(r)) => {
                out.push(Action::CancelCharge);
                lane.state = State::Tx(Step::Cancelling(q, r));
            }
            (Step::Cancelling(q, r), Input::Payment(result)) => match result {
                PaymentResult::Paid => {
                    lane.times.paid_ms = lane.since(now);
                    leave(lane, q, out);
                }
                PaymentResult::Declined(_) | PaymentResult::TerminalDown(_) => {
                    redeem(lane, q, r, out);
                }
                PaymentResult::AmountMismatch(why) => lane.wait_for_attendant(why, out),
            },
            (Step::Unpaid(q) | Step::Declined(q, _), Input::Redeem(r)) => redeem(lane, q, r, out),
            (Step::Redeeming(q), Input::Redeemed(answer)) => match answer {
                Ok(after) => {
                    lane.times.paid_ms = lane.since(now);
                    quoted(lane, after, out);
                }
                Err(reason) => declined(lane, q, reason, out),
            },
            (Step::Leaving(q), Input::ExitRecorded(result)) => match result {
                Ok(()) if !lane.arming => {
                    // Recorded, but the vehicle is no longer at the barrier.
                    Self::backed_off(lane, q.stay, out);
                    lane.finish(out);
                }
                Ok(()) => {
                    out.push(Action::Show(Screen::Goodbye {
                        plate: q.plate.clone(),
                    }));
                    lane.open_gate(now, out);
                }
                Err(why) => {
                    lane.stay = None;
                    lane.state = State::Tx(Step::AwaitingDriver);
                    out.push(Action::Show(Screen::Refused { reason: why }));
                    if !lane.arming {
                        lane.finish(out);
                    }
                }
            },
            // Inputs that do not apply in this step (a late read, a scan while paying).
            _ => {}
        }
    }
}

fn quote(lane: &mut Lane, credential: Credential, out: &mut Vec<Action>) {
    lane.state = State::Tx(Step::Quoting);
    out.push(Action::Quote(credential));
}

fn quoted(lane: &mut Lane, q: ExitQuote, out: &mut Vec<Action>) {
    if q.settled {
        leave(lane, q, out);
    } else if !lane.config.pay_here {
        unpaid(lane, q, out);
    } else if let Some(reason) = lane.fault(Device::Terminal) {
        terminal_down(lane, q, reason, out);
    } else {
        charge(lane, q, out);
    }
}

fn charge(lane: &mut Lane, q: ExitQuote, out: &mut Vec<Action>) {
    if let Some(reason) = lane.fault(Device::Terminal) {
        return terminal_down(lane, q, reason, out);
    }
    out.push(Action::Show(Screen::PayHere {
        amount: q.owed.clone(),
        currency: q.currency.clone(),
        lines: q.lines.clone(),
    }));
    out.push(Action::Charge {
        stay: q.stay.clone(),
        amount: q.owed.clone(),
    });
    lane.state = State::Tx(Step::Paying(q));
}

fn redeem(lane: &mut Lane, q: ExitQuote, with: Redeem, out: &mut Vec<Action>) {
    out.push(Action::Redeem {
        stay: q.stay.clone(),
        with,
    });
    lane.state = State::Tx(Step::Redeeming(q));
}

fn terminal_down(lane: &mut Lane, q: ExitQuote, reason: String, out: &mut Vec<Action>) {
    if lane.config.pay_later {
        let why = format!(
            "payment terminal down ({reason}); ticket {} leaves owing {} {}",
            q.ticket, q.owed, q.currency
        );
        out.push(Action::Journal(LaneEvent::Fallback {
            fallback: Fallback::PayLaterForTerminalDown,
            reason: why.clone(),
        }));
        lane.stay = Some(q.stay.clone());
        out.push(Action::ExitOwing {
            stay: q.stay.clone(),
            reason: why,
        });
        lane.state = State::Tx(Step::Leaving(q));
    } else {
        out.push(Action::Journal(LaneEvent::Fallback {
            fallback: Fallback::OtherMethodForTerminalDown,
            reason,
        }));
        unpaid(lane, q, out);
    }
}

/// A card or voucher was refused: the driver may pay again within the retry window; when it is
/// up the attendant is called (`Timer::RetryWindow`).
fn declined(lane: &mut Lane, q: ExitQuote, reason: String, out: &mut Vec<Action>) {
    let window = lane.config.retry_window;
    out.push(Action::Show(Screen::Declined {
        reason: reason.clone(),
        amount: q.owed.clone(),
        currency: q.currency.clone(),
        retry_seconds: u32::try_from(window.as_secs()).unwrap_or(u32::MAX),
    }));
    out.push(Action::StartTimer(Timer::RetryWindow, window));
    lane.state = State::Tx(Step::Declined(q, reason));
}

fn unpaid(lane: &mut Lane, q: ExitQuote, out: &mut Vec<Action>) {
    out.push(Action::Show(Screen::Unpaid {
        amount: q.owed.clone(),
        currency: q.currency.clone(),
        how: lane.config.pay_elsewhere.clone(),
    }));
    lane.state = State::Tx(Step::Unpaid(q));
}

fn leave(lane: &mut Lane, q: ExitQuote, out: &mut Vec<Action>) {
    lane.stay = Some(q.stay.clone());
    out.push(Action::Exit {
        stay: q.stay.clone(),
    });
    lane.state = State::Tx(Step::Leaving(q));
}
