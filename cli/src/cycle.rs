//! The synthetic car of `bench` and `load`: a standard car enters, pays cash 95 minutes later
//! (handing over 50, change returned) and leaves 5 minutes after that.

use chrono::{DateTime, Duration, Utc};
use gatehouse_core::{Command, Error, PaymentMethod, Plate, StayRef, VehicleClass};
use rust_decimal::Decimal;

/// The command for step `n` of a car's cycle (entry, pay, exit, entry, ...), and its time.
/// `ticket` is the ticket the entry issued, as its QR payload (unused for the entry itself).
pub fn command(
    n: usize,
    plate: &str,
    ticket: &str,
    entry_at: DateTime<Utc>,
) -> Result<(Command, DateTime<Utc>), Error> {
    let stay = || StayRef::Ticket(ticket.to_string());
    Ok(match n % 3 {
        0 => (
            Command::entry(Some(Plate::parse(plate)?), VehicleClass::Standard),
            entry_at,
        ),
        1 => (
            Command::Pay {
                stay: stay(),
                method: PaymentMethod::Cash,
                amount: Decimal::from(50),
                key: Some(format!("cycle-{plate}")),
            },
            entry_at + Duration::minutes(95),
        ),
        _ => (
            Command::Exit {
                stay: stay(),
                lane: None,
            },
            entry_at + Duration::minutes(100),
        ),
    })
}
