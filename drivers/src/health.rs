//! What every driver shares: its health and its errors.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use tokio::sync::watch;

/// How a device is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Ok,
    /// Working, but something needs attention (paper near its end, a retried frame).
    Degraded,
    /// Not reachable or not working (cable pulled, paper out, broker down).
    Offline,
}

/// A device's health with the reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub state: HealthState,
    pub reason: String,
    pub since: DateTime<Utc>,
}

impl Health {
    pub fn ok() -> Health {
        Health::new(HealthState::Ok, "ok")
    }
    pub fn new(state: HealthState, reason: impl Into<String>) -> Health {
        Health {
            state,
            reason: reason.into(),
            since: Utc::now(),
        }
    }
}

/// The sending side of a driver's health: changes are published only when the state or reason
/// changes, so watchers see transitions, not repeats.
#[derive(Debug, Clone)]
pub struct HealthWatch {
    tx: watch::Sender<Health>,
}

impl HealthWatch {
    /// Starts offline until the driver has talked to its device.
    pub fn new(reason: impl Into<String>) -> HealthWatch {
        HealthWatch {
            tx: watch::channel(Health::new(HealthState::Offline, reason)).0,
        }
    }
    pub fn set(&self, state: HealthState, reason: impl Into<String>) {
        let reason = reason.into();
        self.tx.send_if_modified(|h| {
            if h.state == state && h.reason == reason {
                return false;
            }
            match state {
                HealthState::Ok => tracing::info!(%reason, "device ok"),
                HealthState::Degraded => tracing::warn!(%reason, "device degraded"),
                HealthState::Offline => tracing::warn!(%reason, "device offline"),
            }
            *h = Health::new(state, reason);
            true
        });
    }
    pub fn ok(&self) {
        self.set(HealthState::Ok, "ok");
    }
    pub fn current(&self) -> Health {
        self.tx.borrow().clone()
    }
    pub fn subscribe(&self) -> watch::Receiver<Health> {
        self.tx.subscribe()
    }
}

/// What went wrong, for a caller to decide (retry, fall back, call the attendant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The port, socket or broker cannot be reached or was lost.
    Io,
    /// No answer within the time allowed.
    Timeout,
    /// The device answered with something that is not its protocol (garbled, truncated, bad
    /// checksum, unexpected reply).
    Protocol,
    /// The device refused or cannot do it now (paper out, cover open, gate not confirmed).
    Device,
    /// The driver's settings are wrong (address, map, pulse length).
    Config,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DriverError {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl DriverError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DriverError {
        DriverError {
            kind,
            message: message.into(),
        }
    }
    pub fn io(message: impl Into<String>) -> DriverError {
        DriverError::new(ErrorKind::Io, message)
    }
    pub fn timeout(message: impl Into<String>) -> DriverError {
        DriverError::new(ErrorKind::Timeout, message)
    }
    pub fn protocol(message: impl Into<String>) -> DriverError {
        DriverError::new(ErrorKind::Protocol, message)
    }
    pub fn device(message: impl Into<String>) -> DriverError {
        DriverError::new(ErrorKind::Device, message)
    }
    pub fn config(message: impl Into<String>) -> DriverError {
        DriverError::new(ErrorKind::Config, message)
    }
}

pub type Result<T> = std::result::Result<T, DriverError>;

/// Runs `f` with a deadline; a late answer is a timeout naming `what`.
pub async fn within<T>(
    limit: std::time::Duration,
    what: &str,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(DriverError::timeout(format!(
            "{what}: no answer within {} ms",
            limit.as_millis()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_publishes_changes_only() {
        let h = HealthWatch::new("not started");
        let mut rx = h.subscribe();
        rx.mark_unchanged();
        h.ok();
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        h.ok();
        assert!(!rx.has_changed().unwrap());
        h.set(HealthState::Degraded, "paper near end");
        assert_eq!(rx.borrow_and_update().state, HealthState::Degraded);
    }
}
