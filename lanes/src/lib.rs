//! gatehouse-lanes: where a driver meets the car park. Each lane is a state machine with no I/O of
//! its own ([`entry::EntryLane`]): it is fed inputs (a loop occupied, a plate read, the engine's
//! decision, the gate's limit switch, a timer, an attendant's action) with the time they happened,
//! and answers with actions (read the plate, ask the engine, print, show, open the gate, journal
//! a fallback). The runtime carries the actions out with the drivers, the plate reader and the
//! engine, so every path, fallbacks included, can be tested without hardware.

pub mod entry;

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
    /// The vehicle left the loop before passing the barrier; its admission was cancelled.
    Reversed { stay: Option<String> },
    /// A second vehicle came onto the loop while the barrier was open for the first.
    Tailgate,
    /// An attendant opened the barrier by hand.
    ManualOpen { reason: String },
    /// The lane was closed, reopened, or put into free exit by an attendant.
    LaneState { open: bool, reason: String },
    /// A vehicle passed: the timing of each step, in milliseconds from the loop.
    Passed {
        stay: Option<String>,
        timing: StepTimes,
    },
}

/// The fallbacks a lane takes (DESIGN.md, Lanes).
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
}

/// Milliseconds from the vehicle's arrival on the loop to each step, when it happened.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StepTimes {
    pub plate_read_ms: Option<u64>,
    pub decided_ms: Option<u64>,
    pub ticket_printed_ms: Option<u64>,
    pub gate_command_ms: Option<u64>,
    pub gate_open_ms: Option<u64>,
    pub passed_ms: Option<u64>,
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
