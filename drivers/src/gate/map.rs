//! The wiring of a barrier's Modbus I/O board: which coil opens, which inputs are the limits and
//! the loops, and which of them are wired fail-safe (inverted).

use crate::health::{DriverError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most discrete inputs one Modbus read may ask for.
pub const MAX_INPUT_SPAN: u32 = 2000;

/// One discrete input of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputMap {
    /// Discrete input address (0-based, as on the wire).
    pub address: u16,
    /// True for fail-safe (normally closed) wiring: a low input means active.
    #[serde(default)]
    pub inverted: bool,
}

/// A loop detector output wired to a discrete input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopMap {
    /// The loop's name in the lane's words, e.g. "arming", "safety", "exit".
    pub name: String,
    pub address: u16,
    #[serde(default)]
    pub inverted: bool,
}

/// The barrier's I/O map, as it comes from the lot config, e.g. in TOML:
///
/// ```toml
/// unit_id = 1
/// open_coil = 0
/// open_pulse_ms = 300
/// close_coil = 1
/// open_limit = { address = 0 }
/// closed_limit = { address = 1 }
/// loops = [{ name = "arming", address = 2 }, { name = "safety", address = 3, inverted = true }]
/// ```
///
/// Without a `close_coil` the barrier closes by itself (its controller's own loop logic) and
/// `close()` only waits for the closed limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateMap {
    /// Modbus unit (slave) id of the board, 1..=247.
    pub unit_id: u8,
    /// Coil pulsed to open the barrier.
    pub open_coil: u16,
    #[serde(default = "default_pulse_ms")]
    pub open_pulse_ms: u64,
    /// Coil pulsed to close the barrier, if the controller has a close input.
    #[serde(default)]
    pub close_coil: Option<u16>,
    #[serde(default = "default_pulse_ms")]
    pub close_pulse_ms: u64,
    /// Input that is active when the arm is fully up.
    pub open_limit: InputMap,
    /// Input that is active when the arm is fully down.
    pub closed_limit: InputMap,
    #[serde(default)]
    pub loops: Vec<LoopMap>,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// How long the arm may take to reach its limit after a pulse.
    #[serde(default = "default_confirm_ms")]
    pub confirm_timeout_ms: u64,
    /// How long the board may take to answer one request.
    #[serde(default = "default_response_ms")]
    pub response_timeout_ms: u64,
}

fn default_pulse_ms() -> u64 {
    300
}
fn default_poll_ms() -> u64 {
    50
}
fn default_confirm_ms() -> u64 {
    6000
}
fn default_response_ms() -> u64 {
    500
}

fn bad(field: &str, what: impl std::fmt::Display) -> DriverError {
    DriverError::config(format!("gate map: {field}: {what}"))
}

/// Checks a Modbus unit id for a device that must answer (not broadcast, not reserved).
pub(crate) fn check_unit_id(field: &str, unit: u8) -> Result<()> {
    if (1..=247).contains(&unit) {
        Ok(())
    } else {
        Err(bad(
            field,
            format!("{unit} is not a device address; set the board's unit id (1..=247)"),
        ))
    }
}

pub(crate) fn check_range(field: &str, value: u64, lo: u64, hi: u64) -> Result<()> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(bad(field, format!("{value} ms is outside {lo}..={hi} ms")))
    }
}

impl GateMap {
    /// Reads a map from JSON and validates it; every mistake is a `Config` error naming the field.
    /// The common board layout: unit 1, coil 0 opens and coil 1 closes (300 ms pulses), input 0
    /// is the open limit and 1 the closed limit, 2 the loop "arming" and 3 the loop "safety".
    pub fn standard() -> GateMap {
        GateMap {
            unit_id: 1,
            open_coil: 0,
            open_pulse_ms: 300,
            close_coil: Some(1),
            close_pulse_ms: 300,
            open_limit: InputMap {
                address: 0,
                inverted: false,
            },
            closed_limit: InputMap {
                address: 1,
                inverted: false,
            },
            loops: vec![
                LoopMap {
                    name: "arming".into(),
                    address: 2,
                    inverted: false,
                },
                LoopMap {
                    name: "safety".into(),
                    address: 3,
                    inverted: false,
                },
            ],
            poll_interval_ms: 50,
            confirm_timeout_ms: 6000,
            response_timeout_ms: 500,
        }
    }

    pub fn from_json(text: &str) -> Result<GateMap> {
        let map: GateMap = serde_json::from_str(text)
            .map_err(|e| DriverError::config(format!("gate map: {e}")))?;
        map.validate()?;
        Ok(map)
    }

    /// Checks that the map can drive a barrier: a real unit id, sane pulse and timeouts, named
    /// and distinct loops, no input or coil used twice, all inputs within one Modbus read.
    pub fn validate(&self) -> Result<()> {
        check_unit_id("unit_id", self.unit_id)?;
        check_range("open_pulse_ms", self.open_pulse_ms, 20, 5000)?;
        if let Some(close) = self.close_coil {
            check_range("close_pulse_ms", self.close_pulse_ms, 20, 5000)?;
            if close == self.open_coil {
                return Err(bad(
                    "close_coil",
                    format!("coil {close} is also the open_coil; wire close to its own coil"),
                ));
            }
        }
        check_range("poll_interval_ms", self.poll_interval_ms, 10, 5000)?;
        check_range("response_timeout_ms", self.response_timeout_ms, 20, 10_000)?;
        check_range("confirm_timeout_ms", self.confirm_timeout_ms, 50, 120_000)?;
        let longest_pulse = self.open_pulse_ms.max(if self.close_coil.is_some() {
            self.close_pulse_ms
        } else {
            0
        });
        if self.confirm_timeout_ms <= longest_pulse {
            return Err(bad(
                "confirm_timeout_ms",
                format!(
                    "{} ms is not longer than the {longest_pulse} ms pulse; allow for the arm's travel time",
                    self.confirm_timeout_ms
                ),
            ));
        }
        let mut used: BTreeMap<u16, String> = BTreeMap::new();
        let mut claim = |field: String, address: u16| -> Result<()> {
            if let Some(other) = used.insert(address, field.clone()) {
                return Err(bad(
                    &field,
                    format!("input {address} is already used by {other}"),
                ));
            }
            Ok(())
        };
        claim("open_limit.address".into(), self.open_limit.address)?;
        claim("closed_limit.address".into(), self.closed_limit.address)?;
        let mut names = std::collections::BTreeSet::new();
        for (i, l) in self.loops.iter().enumerate() {
            let name = l.name.trim();
            if name.is_empty() || name.len() > 32 || name != l.name {
                return Err(bad(
                    &format!("loops[{i}].name"),
                    format!(
                        "{:?} must be 1 to 32 characters without surrounding spaces, e.g. \"arming\"",
                        l.name
                    ),
                ));
            }
            if !names.insert(name) {
                return Err(bad(
                    &format!("loops[{i}].name"),
                    format!("{name:?} is used twice; give each loop its own name"),
                ));
            }
            claim(format!("loops[{i}].address ({name})"), l.address)?;
        }
        let (first, count) = self.span();
        if count > MAX_INPUT_SPAN {
            return Err(bad(
                "loops",
                format!(
                    "inputs {first}..{} span {count} addresses; keep them within {MAX_INPUT_SPAN}",
                    first as u32 + count - 1
                ),
            ));
        }
        Ok(())
    }

    fn addresses(&self) -> impl Iterator<Item = u16> + '_ {
        [self.open_limit.address, self.closed_limit.address]
            .into_iter()
            .chain(self.loops.iter().map(|l| l.address))
    }

    fn span(&self) -> (u16, u32) {
        let first = self.addresses().min().unwrap_or(0);
        let last = self.addresses().max().unwrap_or(0);
        (first, u32::from(last) - u32::from(first) + 1)
    }

    /// The first input address and how many inputs one read must fetch to see them all
    /// (clamped to what one Modbus read allows; a validated map always fits).
    pub fn input_span(&self) -> (u16, u16) {
        let (first, count) = self.span();
        (first, count.min(MAX_INPUT_SPAN) as u16)
    }

    /// Turns the raw bits of a read starting at `first` into logical inputs (inversion applied).
    /// A reply too short to hold an input is a `Protocol` error.
    pub fn decode_inputs(&self, first: u16, bits: &[bool]) -> Result<Inputs> {
        let level = |field: &str, address: u16, inverted: bool| -> Result<bool> {
            address
                .checked_sub(first)
                .and_then(|i| bits.get(usize::from(i)))
                .map(|raw| *raw != inverted)
                .ok_or_else(|| {
                    DriverError::protocol(format!(
                        "board's reply from input {first} has {} bits, without input {address} ({field})",
                        bits.len()
                    ))
                })
        };
        let mut loops = BTreeMap::new();
        for l in &self.loops {
            loops.insert(l.name.clone(), level(&l.name, l.address, l.inverted)?);
        }
        Ok(Inputs {
            open_limit: level(
                "open limit",
                self.open_limit.address,
                self.open_limit.inverted,
            )?,
            closed_limit: level(
                "closed limit",
                self.closed_limit.address,
                self.closed_limit.inverted,
            )?,
            loops,
        })
    }

    /// The raw level an input shows on the wire for a logical state (inverse of decoding).
    pub fn raw_level(active: bool, inverted: bool) -> bool {
        active != inverted
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    pub(crate) fn confirm_timeout(&self) -> Duration {
        Duration::from_millis(self.confirm_timeout_ms)
    }
    pub(crate) fn response_timeout(&self) -> Duration {
        Duration::from_millis(self.response_timeout_ms)
    }
}

/// The board's inputs in logical terms (true = limit reached / loop occupied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inputs {
    pub open_limit: bool,
    pub closed_limit: bool,
    pub loops: BTreeMap<String, bool>,
}

/// Where the arm is, from its two limit inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Not read yet (board not reached since start).
    Unknown,
    Open,
    Closed,
    /// Neither limit: moving, or stopped half way.
    Between,
    /// Both limits at once: a wiring or switch fault.
    Conflict,
}

impl Position {
    pub fn from_limits(open: bool, closed: bool) -> Position {
        match (open, closed) {
            (true, false) => Position::Open,
            (false, true) => Position::Closed,
            (false, false) => Position::Between,
            (true, true) => Position::Conflict,
        }
    }
}
