//! Journal events: what happened, as stored (canonical JSON) and broadcast.
//! Variants and fields are only ever added: the journal is read back for audits and sync.

use crate::domain::{PaymentMethod, VehicleClass};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    LotInitialized {
        lot: String,
        name: String,
        spots: usize,
        lanes: usize,
        config_sha256: String,
    },
    VehicleEntered {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        lane: String,
        spot: String,
        reason: String,
        occupancy_factor: String,
    },
    PassbackAlert {
        /// The stay already inside.
        inside_stay: i64,
        plate: Option<String>,
        lane: String,
        /// What the lot did: "admitted" (soft) — hard anti-passback refuses and changes nothing.
        action: String,
    },
    VehicleExited {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        spot: Option<String>,
        lane: String,
        minutes: i64,
        fee: String,
        paid: String,
    },
    PaymentRecorded {
        stay: i64,
        ticket: String,
        payment: i64,
        method: PaymentMethod,
        amount: String,
        tendered: String,
        change: String,
        key: String,
        paid_total: String,
        due_after: String,
    },
    PaymentRefunded {
        stay: i64,
        ticket: String,
        payment: i64,
        method: PaymentMethod,
        amount: String,
        reason: String,
        key: String,
        paid_total: String,
    },
    LostTicketStayFound {
        stay: i64,
        ticket: String,
        plate: String,
    },
    LostTicketFlatFee {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        class: VehicleClass,
        fee: String,
    },
    SpotOverridden {
        stay: i64,
        ticket: String,
        from: Option<String>,
        to: String,
        reason: String,
    },
    SpotOutOfService {
        spot: String,
        reason: String,
    },
    SpotInService {
        spot: String,
        note: String,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::LotInitialized { .. } => "lot_initialized",
            Event::VehicleEntered { .. } => "vehicle_entered",
            Event::PassbackAlert { .. } => "passback_alert",
            Event::VehicleExited { .. } => "vehicle_exited",
            Event::PaymentRecorded { .. } => "payment_recorded",
            Event::PaymentRefunded { .. } => "payment_refunded",
            Event::LostTicketStayFound { .. } => "lost_ticket_stay_found",
            Event::LostTicketFlatFee { .. } => "lost_ticket_flat_fee",
            Event::SpotOverridden { .. } => "spot_overridden",
            Event::SpotOutOfService { .. } => "spot_out_of_service",
            Event::SpotInService { .. } => "spot_in_service",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_the_serialized_tag() {
        let e = Event::SpotInService {
            spot: "P0-B-001".into(),
            note: "repainted".into(),
        };
        let json: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], e.kind());
    }
}
