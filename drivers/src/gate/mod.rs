//! Barrier gate and loop detectors on a Modbus I/O board (RTU over RS-485 or Modbus TCP), and a
//! Modbus count display. The driver pulses the open/close coils, confirms each move by the limit
//! inputs, and turns input edges into [`GateEvent`]s. [`sim::GateBoard`] is a Modbus server that
//! models the board and barrier for tests and the demo lot.

mod display;
mod link;
mod map;
pub mod sim;

pub use crate::CountSign;
pub use display::{CountDisplay, CountDisplayMap};
pub use link::Transport;
pub use map::{GateMap, InputMap, Inputs, LoopMap, MAX_INPUT_SPAN, Position};

use crate::health::{DriverError, ErrorKind, Health, HealthState, HealthWatch, Result};
use async_trait::async_trait;
use link::Link;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;
use tokio::sync::{Mutex, broadcast, watch};
use tokio::time::Instant;
use tokio_modbus::{Request, Response};

/// Something the lane should know about, in the order the board showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GateEvent {
    LoopOccupied {
        name: String,
    },
    LoopCleared {
        name: String,
    },
    /// The open limit became active.
    Opened,
    /// The closed limit became active.
    Closed,
    /// A fault an attendant should see (board lost, arm not confirmed, limit switch conflict).
    Fault {
        reason: String,
    },
}

/// The last inputs read from the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateState {
    pub position: Position,
    /// Loop name → occupied.
    pub loops: BTreeMap<String, bool>,
}

/// A barrier with its loops, whatever drives it.
#[async_trait]
pub trait Gate: Send + Sync {
    /// Opens the barrier; returns once the open limit confirms it.
    async fn open(&self) -> Result<()>;
    /// Closes the barrier; returns once the closed limit confirms it.
    async fn close(&self) -> Result<()>;
    /// Loop, arm and fault events from now on.
    fn events(&self) -> broadcast::Receiver<GateEvent>;
    /// The last known inputs.
    fn state(&self) -> GateState;
    fn health(&self) -> watch::Receiver<Health>;
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Faults that keep health degraded until the board shows the gate is fine again.
#[derive(Default)]
struct Faults {
    /// Where the last command sent the arm.
    commanded: Option<Position>,
    /// Set when a move was not confirmed; cleared when the arm reaches the commanded limit.
    unconfirmed: Option<String>,
}

struct Shared {
    map: GateMap,
    link: Link,
    events: broadcast::Sender<GateEvent>,
    health: HealthWatch,
    state: watch::Sender<GateState>,
    faults: StdMutex<Faults>,
    commands: Mutex<()>,
}

/// The production driver: a barrier on a Modbus I/O board, over RTU or TCP.
pub struct ModbusGate {
    shared: Arc<Shared>,
    poll: tokio::task::JoinHandle<()>,
}

impl Drop for ModbusGate {
    fn drop(&mut self) {
        self.poll.abort();
    }
}

impl ModbusGate {
    /// Validates the settings and starts polling the board. Returns at once: health is offline
    /// until the board answers, and the driver keeps reconnecting by itself.
    pub fn start(transport: Transport, map: GateMap) -> Result<ModbusGate> {
        transport.validate()?;
        map.validate()?;
        let health = HealthWatch::new(format!("connecting to the gate board at {transport}"));
        let link = Link::new(transport, map.unit_id, map.response_timeout());
        let loops = map.loops.iter().map(|l| (l.name.clone(), false)).collect();
        let shared = Arc::new(Shared {
            link,
            events: broadcast::channel(64).0,
            health,
            state: watch::channel(GateState {
                position: Position::Unknown,
                loops,
            })
            .0,
            faults: StdMutex::new(Faults::default()),
            commands: Mutex::new(()),
            map,
        });
        let poll = tokio::spawn(poll_loop(shared.clone()));
        Ok(ModbusGate { shared, poll })
    }

    async fn pulse(&self, coil: u16, ms: u64) -> Result<()> {
        let link = &self.shared.link;
        link.call(
            &format!("switch coil {coil} on"),
            Request::WriteSingleCoil(coil, true),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let mut last = None;
        for _ in 0..3 {
            match link
                .call(
                    &format!("switch coil {coil} off"),
                    Request::WriteSingleCoil(coil, false),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| DriverError::io("no attempt"));
        Err(DriverError::new(
            e.kind,
            format!("coil {coil} may still be on: {}", e.message),
        ))
    }

    async fn command(&self, target: Position) -> Result<()> {
        let _one_at_a_time = self.shared.commands.lock().await;
        let map = &self.shared.map;
        let word = if target == Position::Open {
            "open"
        } else {
            "close"
        };
        let coil = if target == Position::Open {
            Some((map.open_coil, map.open_pulse_ms))
        } else {
            map.close_coil.map(|c| (c, map.close_pulse_ms))
        };
        lock(&self.shared.faults).commanded = Some(target);
        let mut state = self.shared.state.subscribe();
        let deadline = Instant::now() + map.confirm_timeout();
        if let Some((coil, ms)) = coil {
            self.pulse(coil, ms).await?;
        }
        let confirmed =
            tokio::time::timeout_at(deadline, state.wait_for(|s| s.position == target)).await;
        if matches!(confirmed, Ok(Ok(_))) {
            lock(&self.shared.faults).unconfirmed = None;
            return Ok(());
        }
        let position = self.shared.state.borrow().position;
        let reason = format!(
            "gate did not confirm {word} within {} ms (arm {position:?}); check the arm, the motor and the limit switch",
            map.confirm_timeout_ms
        );
        lock(&self.shared.faults).unconfirmed = Some(reason.clone());
        self.shared.health.set(HealthState::Degraded, &reason);
        let _ = self.shared.events.send(GateEvent::Fault {
            reason: reason.clone(),
        });
        Err(DriverError::device(reason))
    }
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Gate for ModbusGate {
    async fn open(&self) -> Result<()> {
        self.command(Position::Open).await
    }
    async fn close(&self) -> Result<()> {
        self.command(Position::Closed).await
    }
    fn events(&self) -> broadcast::Receiver<GateEvent> {
        self.shared.events.subscribe()
    }
    fn state(&self) -> GateState {
        self.shared.state.borrow().clone()
    }
    fn health(&self) -> watch::Receiver<Health> {
        self.shared.health.subscribe()
    }
}

async fn read_inputs(shared: &Shared) -> Result<Inputs> {
    let (first, count) = shared.map.input_span();
    match shared
        .link
        .call("read inputs", Request::ReadDiscreteInputs(first, count))
        .await?
    {
        Response::ReadDiscreteInputs(bits) => shared.map.decode_inputs(first, &bits),
        other => Err(DriverError::protocol(format!(
            "expected discrete inputs, got {other:?}"
        ))),
    }
}

async fn poll_loop(shared: Arc<Shared>) {
    let mut backoff = BACKOFF_MIN;
    let mut last: Option<Inputs> = None;
    let mut lost = false;
    loop {
        match read_inputs(&shared).await {
            Ok(inputs) => {
                backoff = BACKOFF_MIN;
                lost = false;
                apply(&shared, &inputs, last.as_ref());
                last = Some(inputs);
                tokio::time::sleep(shared.map.poll_interval()).await;
            }
            Err(e) if matches!(e.kind, ErrorKind::Io | ErrorKind::Timeout) => {
                shared.health.set(HealthState::Offline, &e.message);
                if !lost {
                    lost = true;
                    let _ = shared.events.send(GateEvent::Fault {
                        reason: e.message.clone(),
                    });
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            Err(e) => {
                // Garbled or refused: the board is there, so keep polling and say what is wrong.
                tracing::warn!(error = %e.message, "gate board: skipping a bad input read");
                shared.health.set(HealthState::Degraded, &e.message);
                tokio::time::sleep(shared.map.poll_interval()).await;
            }
        }
    }
}

/// Publishes the new inputs, turns edges into events and settles health. The state is published
/// before the events, so a listener that reads [`Gate::state`] on an event sees the new inputs.
fn apply(shared: &Shared, inputs: &Inputs, last: Option<&Inputs>) {
    let position = Position::from_limits(inputs.open_limit, inputs.closed_limit);
    let mut events = Vec::new();
    if let Some(last) = last {
        for (name, &occupied) in &inputs.loops {
            if last.loops.get(name) != Some(&occupied) {
                let name = name.clone();
                events.push(if occupied {
                    GateEvent::LoopOccupied { name }
                } else {
                    GateEvent::LoopCleared { name }
                });
            }
        }
    }
    let before = Position::from_limits(
        last.is_some_and(|l| l.open_limit),
        last.is_some_and(|l| l.closed_limit),
    );
    let conflict = "both the open and the closed limit are active; check the limit switch wiring";
    if last.is_some() && before != position {
        match position {
            Position::Open => events.push(GateEvent::Opened),
            Position::Closed => events.push(GateEvent::Closed),
            Position::Conflict => events.push(GateEvent::Fault {
                reason: conflict.into(),
            }),
            Position::Between | Position::Unknown => {}
        }
    }
    shared.state.send_replace(GateState {
        position,
        loops: inputs.loops.clone(),
    });
    for e in events {
        let _ = shared.events.send(e);
    }
    let unconfirmed = {
        let mut f = lock(&shared.faults);
        if f.commanded == Some(position) {
            f.unconfirmed = None;
        }
        f.unconfirmed.clone()
    };
    match (position, unconfirmed) {
        (Position::Conflict, _) => shared.health.set(HealthState::Degraded, conflict),
        (_, Some(reason)) => shared.health.set(HealthState::Degraded, reason),
        _ => shared.health.ok(),
    }
}
