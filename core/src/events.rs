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
    AlertRaised {
        alert: i64,
        alert_kind: String,
        message: String,
        stay: Option<i64>,
        plate: Option<String>,
        lane: Option<String>,
    },
    AlertAcknowledged {
        alert: i64,
        note: String,
    },
    ReservationBooked {
        reservation: i64,
        code: String,
        plate: Option<String>,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        spot: Option<String>,
        start: String,
        end: String,
    },
    ReservationChanged {
        reservation: i64,
        code: String,
        start: String,
        end: String,
    },
    ReservationCancelled {
        reservation: i64,
        code: String,
        fee: String,
    },
    ReservationNoShow {
        reservation: i64,
        code: String,
        fee: String,
    },
    ReservationArrived {
        reservation: i64,
        code: String,
        stay: i64,
    },
    PermitIssued {
        permit: i64,
        permit_kind: String,
        holder: String,
        plates: Vec<String>,
        card: Option<String>,
        valid_from: String,
        valid_to: String,
        levels: Vec<String>,
        hours: Option<String>,
        max_inside: u32,
        passback: bool,
    },
    PermitRevoked {
        permit: i64,
        reason: String,
    },
    AccountOpened {
        account: i64,
        holder: String,
        expires_at: Option<String>,
    },
    AccountToppedUp {
        account: i64,
        method: PaymentMethod,
        amount: String,
        balance: String,
        shift: Option<i64>,
    },
    AccountDebited {
        account: i64,
        stay: i64,
        payment: i64,
        amount: String,
        balance: String,
    },
    VoucherIssued {
        voucher: i64,
        merchant: String,
        free_minutes: Option<u32>,
        percent_off: Option<u32>,
        valid_to: Option<String>,
    },
    VoucherApplied {
        voucher: i64,
        stay: i64,
    },
    WatchlistChanged {
        plate: String,
        /// "refuse", "alert", or None when the plate was taken off the list.
        action: Option<String>,
        note: String,
    },
    UserAdded {
        user: String,
        role: String,
        second_factor: bool,
    },
    UserChanged {
        user: String,
        change: String,
    },
    LoginSucceeded {
        user: String,
        role: String,
    },
    LoginFailed {
        user: String,
        reason: String,
        failures: u32,
    },
    UserLocked {
        user: String,
        until: String,
    },
    LoggedOut {
        user: String,
    },
    ShiftOpened {
        shift: i64,
        cashier: String,
        float: String,
    },
    ShiftClosed {
        shift: i64,
        cashier: String,
        expected: String,
        counted: String,
        over_short: String,
    },
    GateOpenedByHand {
        lane: String,
        reason: String,
    },
    /// An attendant closed a lane, or opened it again.
    LaneClosed {
        lane: String,
        reason: String,
    },
    LaneReopened {
        lane: String,
        reason: String,
    },
    /// An attendant held an exit barrier open for everyone, or ended that.
    FreeExitChanged {
        lane: String,
        on: bool,
        reason: String,
    },
    StayVoided {
        stay: i64,
        ticket: String,
        reason: String,
    },
    /// A lane cancelled the entry of a vehicle that backed off before its barrier.
    EntryCancelled {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        lane: String,
        reason: String,
    },
    /// The vehicle left owing this amount, which the lane could not collect.
    ExitUncollected {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        lane: String,
        owed: String,
        reason: String,
    },
    /// What a lane did or noticed: a fallback, a reversal, a tailgate, a pass and its timings.
    LaneReported {
        lane: String,
        what: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stay: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plate: Option<String>,
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        timing: std::collections::BTreeMap<String, u64>,
    },
    PlatesPseudonymised {
        stays: u64,
        finished_before: String,
    },
    PersonalDataErased {
        plate_hash: String,
        stays: u64,
        reservations: u64,
        permits: u64,
        watchlist: u64,
    },
    TariffPublished {
        version: i64,
        effective_from: String,
        sha256: String,
        /// The tariff as published (a `[tariff]` table), so the journal alone can price a stay.
        toml: String,
        note: String,
    },
    /// The lot's decision on an order from the shared server (it travels up to the server).
    OrderApplied {
        order_seq: i64,
        order_id: String,
        /// accepted | refused
        status: String,
        reason: Option<String>,
        reservation: Option<String>,
        permit: Option<i64>,
    },
    /// Valet parking: the driver handed over the keys, which hang on `tag`; the stay starts.
    ValetKeysTaken {
        stay: i64,
        ticket: String,
        plate: Option<String>,
        class: VehicleClass,
        tag: String,
    },
    /// Staff parked the valet car in `spot`.
    ValetParked {
        stay: i64,
        tag: String,
        spot: String,
    },
    /// The driver asked for the car back; its valet fee is fixed.
    ValetCarRequested {
        stay: i64,
        tag: String,
        fee: String,
    },
    /// The car and its keys were handed back; the stay ends.
    ValetCarReturned {
        stay: i64,
        tag: String,
        spot: Option<String>,
        minutes: i64,
        fee: String,
        paid: String,
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
            Event::AlertRaised { .. } => "alert_raised",
            Event::AlertAcknowledged { .. } => "alert_acknowledged",
            Event::ReservationBooked { .. } => "reservation_booked",
            Event::ReservationChanged { .. } => "reservation_changed",
            Event::ReservationCancelled { .. } => "reservation_cancelled",
            Event::ReservationNoShow { .. } => "reservation_no_show",
            Event::ReservationArrived { .. } => "reservation_arrived",
            Event::PermitIssued { .. } => "permit_issued",
            Event::PermitRevoked { .. } => "permit_revoked",
            Event::AccountOpened { .. } => "account_opened",
            Event::AccountToppedUp { .. } => "account_topped_up",
            Event::AccountDebited { .. } => "account_debited",
            Event::VoucherIssued { .. } => "voucher_issued",
            Event::VoucherApplied { .. } => "voucher_applied",
            Event::WatchlistChanged { .. } => "watchlist_changed",
            Event::UserAdded { .. } => "user_added",
            Event::UserChanged { .. } => "user_changed",
            Event::LoginSucceeded { .. } => "login_succeeded",
            Event::LoginFailed { .. } => "login_failed",
            Event::UserLocked { .. } => "user_locked",
            Event::LoggedOut { .. } => "logged_out",
            Event::ShiftOpened { .. } => "shift_opened",
            Event::ShiftClosed { .. } => "shift_closed",
            Event::GateOpenedByHand { .. } => "gate_opened_by_hand",
            Event::LaneClosed { .. } => "lane_closed",
            Event::LaneReopened { .. } => "lane_reopened",
            Event::FreeExitChanged { .. } => "free_exit_changed",
            Event::StayVoided { .. } => "stay_voided",
            Event::EntryCancelled { .. } => "entry_cancelled",
            Event::ExitUncollected { .. } => "exit_uncollected",
            Event::LaneReported { .. } => "lane_reported",
            Event::PlatesPseudonymised { .. } => "plates_pseudonymised",
            Event::PersonalDataErased { .. } => "personal_data_erased",
            Event::TariffPublished { .. } => "tariff_published",
            Event::OrderApplied { .. } => "order_applied",
            Event::ValetKeysTaken { .. } => "valet_keys_taken",
            Event::ValetParked { .. } => "valet_parked",
            Event::ValetCarRequested { .. } => "valet_car_requested",
            Event::ValetCarReturned { .. } => "valet_car_returned",
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
