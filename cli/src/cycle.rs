//! The synthetic car of `bench` and `load`: a standard car enters, pays cash 95 minutes later
//! (handing over 50, change returned) and leaves 5 minutes after that.

use chrono::Duration;
use gatehouse_core::command as req;
use gatehouse_core::{Error, PaymentMethod, Plate, StayRef, VehicleClass};
use rust_decimal::Decimal;

/// When the car pays, after its entry.
pub fn pays_after() -> Duration {
    Duration::minutes(95)
}

/// When the car leaves, after its entry.
pub fn leaves_after() -> Duration {
    Duration::minutes(100)
}

/// The car drives in.
pub fn entry(plate: &str) -> Result<req::Entry, Error> {
    Ok(req::Entry::new(
        Some(Plate::parse(plate)?),
        VehicleClass::Standard,
    ))
}

/// The car pays in cash, scanning its ticket's signed QR code; the key makes a retry harmless.
pub fn pay(plate: &str, qr: &str) -> req::Pay {
    req::Pay {
        stay: StayRef::Ticket(qr.to_string()),
        method: PaymentMethod::Cash,
        amount: Decimal::from(50),
        key: Some(format!("cycle-{plate}")),
    }
}

/// The car leaves, scanning its ticket's signed QR code at the first exit lane.
pub fn exit(qr: &str) -> req::Exit {
    req::Exit {
        stay: StayRef::Ticket(qr.to_string()),
        lane: None,
    }
}
