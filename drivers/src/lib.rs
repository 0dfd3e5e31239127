//! gatehouse-drivers: lane hardware. One trait per device class, a driver per real protocol, and a
//! simulator per driver that speaks the same protocol over a real pseudo-terminal, socket or
//! broker, so tests and the demo lot run the real driver code. Nothing here knows what a parking
//! stay is: a gate opens, a printer prints a layout, a terminal authorises an amount.
//!
//! Every driver reports its health (ok, degraded, offline, with the reason), puts a timeout on
//! every I/O, reconnects after a cable pull or broker restart, and logs and skips garbled input.

pub mod health;
pub use health::{DriverError, ErrorKind, Health, HealthState, HealthWatch};

/// A sign that shows how many spaces are free in a zone: the Modbus count display
/// (`gate::CountDisplay`) and the MQTT count sign (`mqtt::MqttCountSign`) both implement it.
#[async_trait::async_trait]
pub trait CountSign: Send + Sync {
    /// Shows `free` for `zone` ("FULL" at zero; numbers above what the sign can show are shown as
    /// its maximum).
    async fn show(&self, zone: &str, free: u32) -> health::Result<()>;
}

#[cfg(feature = "serial")]
pub mod serial;

#[cfg(feature = "gate")]
pub mod gate;

#[cfg(feature = "printer")]
pub mod printer;

#[cfg(feature = "readers")]
pub mod readers;

#[cfg(feature = "payment")]
pub mod payment;

#[cfg(feature = "mqtt")]
pub mod mqtt;

#[cfg(feature = "camera")]
pub mod camera;
