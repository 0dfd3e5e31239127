//! What the gate tests share, whoever plays the board (our simulator or pymodbus).
#![allow(dead_code)]

use gatehouse_drivers::gate::GateEvent;
use gatehouse_drivers::{Health, HealthState};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Waits up to `secs` for health to reach `state`, and returns it; panics naming what it was.
pub async fn wait_health(
    rx: &mut watch::Receiver<Health>,
    state: HealthState,
    secs: u64,
) -> Health {
    let waited =
        tokio::time::timeout(Duration::from_secs(secs), rx.wait_for(|h| h.state == state)).await;
    let got = waited.ok().and_then(|r| r.ok()).map(|h| h.clone());
    if let Some(h) = got {
        return h;
    }
    panic!("health not {state:?} within {secs} s: {:?}", *rx.borrow());
}

/// Waits up to `secs` for the event `want`, skipping others.
pub async fn expect_event_within(
    rx: &mut broadcast::Receiver<GateEvent>,
    want: GateEvent,
    secs: u64,
) {
    let found = tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            match rx.recv().await {
                Ok(e) if e == want => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event channel closed: {e}"),
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no {want:?} within {secs} s");
}

pub fn loop_event(name: &str, occupied: bool) -> GateEvent {
    let name = name.to_string();
    if occupied {
        GateEvent::LoopOccupied { name }
    } else {
        GateEvent::LoopCleared { name }
    }
}
