//! The engine's requests: one type per command, each with the reply it gives and the permission
//! it needs, registered in one table (`commands!` below). Callers ask
//! `Engine::run(actor, at, Pay { .. })` and get a `Paid` back; the writer sees them as a
//! `Command`, the one enum it applies and journals.
//!
//! Adding a command: its request type (here or in its feature's module), its reply type, one line
//! in the table, and its handler in the feature's module.

use crate::auth::{Permission, Secret};
use crate::domain::{PaymentMethod, Plate, Role, VehicleClass};
use crate::entry::Entered;
use crate::error::{Error, ErrorKind, Result};
use crate::exit::{Exited, LostTicketOutcome};
use crate::payments::{Paid, Refunded};
use crate::spots::{SpotOverridden, SpotService};
use crate::stays::StayRef;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A request to the engine and the reply it gives.
pub trait Request: Into<Command> {
    /// What the engine answers when the request is applied.
    type Reply: Reply;
    /// What the request is called in messages ("payment", "top-up").
    const NAME: &'static str;
    /// The row of the permission table the request needs (None: anyone may try, e.g. a login).
    const PERMISSION: Option<Permission>;
}

/// A reply the engine can give: one of the outcomes it produces.
pub trait Reply: Sized {
    /// The reply within an outcome; None when the outcome is another kind.
    fn from_outcome(outcome: Outcome) -> Option<Self>;
}

impl Reply for Outcome {
    fn from_outcome(outcome: Outcome) -> Option<Self> {
        Some(outcome)
    }
}

macro_rules! replies {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// What a command did: the reply of its request, for callers that take any command (the
        /// CLI's printer, server orders). Typed callers get the reply itself (`Engine::run`).
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(untagged)]
        pub enum Outcome {
            $($(#[$doc])* $variant($ty),)*
        }

        $(impl Reply for $ty {
            fn from_outcome(outcome: Outcome) -> Option<Self> {
                match outcome {
                    Outcome::$variant(r) => Some(r),
                    _ => None,
                }
            }
        })*
    };
}

// Every reply a request can give: one line each.
replies! {
    Entered(Entered),
    Exited(Exited),
    Paid(Paid),
    Refunded(Refunded),
    LostTicket(LostTicketOutcome),
    SpotOverridden(SpotOverridden),
    SpotService(SpotService),
    Reservation(crate::reservations::ReservationView),
    Permit(crate::permits::PermitIssued),
    Account(crate::accounts::AccountView),
    Voucher(crate::vouchers::VoucherIssued),
    LoggedIn(crate::users::LoggedIn),
    UserAdded(crate::users::UserAdded),
    Shift(crate::shifts::ShiftView),
    /// A change with nothing more to report than what and which record.
    Recorded(Recorded),
    /// The lot's decision on a server order.
    Order(crate::orders::OrderDecision),
    /// A valet stay, as it stands after the request.
    Valet(crate::valet::ValetView),
}

/// The typed reply of `R` out of the engine's outcome.
pub(crate) fn reply_of<R: Request>(outcome: Outcome) -> Result<R::Reply> {
    R::Reply::from_outcome(outcome).ok_or_else(|| {
        Error::new(
            ErrorKind::Storage,
            format!(
                "the engine answered a {} with another kind of reply; this is a bug in gatehouse, please report it",
                R::NAME
            ),
        )
    })
}

/// A change with nothing more to report than what and which record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded {
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

macro_rules! commands {
    ($(
        $(#[$doc:meta])*
        $variant:ident($req:ty) -> $reply:ty, $name:literal, $perm:expr;
    )*) => {
        /// A change to the lot, as the writer applies and journals it: one variant per request.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Command {
            $($(#[$doc])* $variant($req),)*
        }

        $(
            impl From<$req> for Command {
                fn from(request: $req) -> Command {
                    Command::$variant(request)
                }
            }
            impl Request for $req {
                type Reply = $reply;
                const NAME: &'static str = $name;
                const PERMISSION: Option<Permission> = $perm;
            }
        )*

        impl Command {
            /// What the command is called in messages.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => <$req as Request>::NAME,)*
                }
            }

            /// The row of the permission table this command needs (None: anyone may try, e.g.
            /// login).
            pub fn permission(&self) -> Option<Permission> {
                match self {
                    $(Command::$variant(_) => <$req as Request>::PERMISSION,)*
                }
            }

            /// Applies the command in the writer's transaction: its feature's handler.
            pub(crate) fn handle(
                &self,
                tx: &mut crate::tx::Tx<'_>,
                job: &crate::engine::Job,
            ) -> Result<crate::tx::Applied> {
                match self {
                    $(Command::$variant(r) => crate::tx::Handle::handle(r, tx, job),)*
                }
            }
        }
    };
}

use Permission as P;

commands! {
    /// A vehicle enters: a stay starts, a spot is allocated and a ticket issued.
    Entry(Entry) -> Entered, "entry", Some(P::Enter);
    /// The vehicle leaves; refused while anything is owed.
    Exit(Exit) -> Exited, "exit", Some(P::Exit);
    /// A payment towards a stay.
    Pay(Pay) -> Paid, "pay", Some(P::Pay);
    /// Money back to the driver (supervisors only).
    Refund(Refund) -> Refunded, "refund", Some(P::Refund);
    /// The driver lost the ticket: find the stay by plate, else charge the flat fee.
    LostTicket(LostTicket) -> LostTicketOutcome, "lost-ticket", Some(P::LostTicket);
    /// Supervisor: move a stay to a named spot.
    OverrideSpot(OverrideSpot) -> SpotOverridden, "override", Some(P::OverrideSpot);
    /// Supervisor: take a spot out of service or back.
    SetSpotService(SetSpotService) -> SpotService, "spot service change", Some(P::SpotService);
    /// Supervisor: end a stay without charge.
    VoidStay(VoidStay) -> Recorded, "void", Some(P::VoidStay);
    /// A lane cancels the entry of a vehicle that backed off before its barrier.
    CancelEntry(CancelEntry) -> Recorded, "entry cancellation", Some(P::Enter);
    /// The vehicle leaves owing what the lane could not collect.
    ExitOwing(ExitOwing) -> Exited, "exit owing", Some(P::Exit);
    /// What a lane did or noticed; with `alert`, the attendant is alerted too.
    LaneReport(LaneReport) -> Recorded, "lane report", Some(P::Enter);
    /// Open a lane's barrier by hand; the reason is journaled.
    OpenGate(OpenGate) -> Recorded, "gate open", Some(P::OpenGate);
    /// Close a lane or open it again.
    SetLaneOpen(SetLaneOpen) -> Recorded, "lane closing", Some(P::OpenGate);
    /// Hold an exit barrier open for everyone, or end that.
    SetFreeExit(SetFreeExit) -> Recorded, "free exit", Some(P::OpenGate);
    /// Pay what a stay owes from a prepaid account.
    PayFromAccount(PayFromAccount) -> Paid, "prepaid payment", Some(P::Pay);
    /// Take a merchant voucher against a stay.
    ApplyVoucher(ApplyVoucher) -> Recorded, "voucher", Some(P::VoucherApply);
    /// Book a reservation.
    Reserve(crate::reservations::ReservationRequest) -> crate::reservations::ReservationView,
        "reservation", Some(P::Reserve);
    /// Move a reservation to another window.
    ChangeReservation(ChangeReservation) -> crate::reservations::ReservationView,
        "reservation change", Some(P::Reserve);
    /// Cancel a reservation.
    CancelReservation(CancelReservation) -> crate::reservations::ReservationView,
        "cancellation", Some(P::Reserve);
    /// Issue a permit.
    IssuePermit(crate::permits::PermitRequest) -> crate::permits::PermitIssued, "permit",
        Some(P::PermitEdit);
    /// Revoke a permit.
    RevokePermit(RevokePermit) -> Recorded, "permit revocation", Some(P::PermitEdit);
    /// Open a prepaid account.
    OpenAccount(OpenAccount) -> crate::accounts::AccountView, "account opening",
        Some(P::AccountEdit);
    /// Put money on a prepaid account.
    TopUpAccount(TopUpAccount) -> crate::accounts::AccountView, "top-up", Some(P::AccountTopUp);
    /// Issue merchant vouchers.
    IssueVoucher(crate::vouchers::VoucherRequest) -> crate::vouchers::VoucherIssued,
        "voucher issue", Some(P::VoucherIssue);
    /// Put a plate on the watchlist, or take it off.
    Watch(Watch) -> Recorded, "watchlist change", Some(P::WatchlistEdit);
    /// Acknowledge an alert.
    AckAlert(AckAlert) -> Recorded, "alert acknowledgement", Some(P::AlertAck);
    /// Open the caller's cashier shift with a float.
    OpenShift(OpenShift) -> crate::shifts::ShiftView, "shift opening", Some(P::Shift);
    /// Close the caller's shift with the cash counted.
    CloseShift(CloseShift) -> crate::shifts::ShiftView, "shift closing", Some(P::Shift);
    /// Log in: a session for the user.
    Login(Login) -> crate::users::LoggedIn, "login", None;
    /// End the caller's session.
    Logout(Logout) -> Recorded, "logout", None;
    /// Add a user.
    AddUser(AddUser) -> crate::users::UserAdded, "user creation", Some(P::UserAdmin);
    /// Change a password (one's own, or anyone's as an admin).
    SetPassword(SetPassword) -> Recorded, "password change", None;
    /// Disable a user (their sessions end) or enable them again (which also lifts a lockout).
    SetUserEnabled(SetUserEnabled) -> Recorded, "user change", Some(P::UserAdmin);
    /// Replace the plates of stays finished before `before` by a keyed hash (retention).
    PseudonymisePlates(PseudonymisePlates) -> Recorded, "plate retention", Some(P::Privacy);
    /// Erase a person's data on request: every record of this plate.
    ErasePlate(ErasePlate) -> Recorded, "erasure", Some(P::Privacy);
    /// Publish a new tariff, in force from its start for stays that enter from then on.
    PublishTariff(crate::tariffs::TariffRequest) -> Recorded, "tariff publication",
        Some(P::TariffEdit);
    /// An order from the shared server, applied exactly once with the server's authority.
    ApplyOrder(ApplyOrder) -> crate::orders::OrderDecision, "server order",
        Some(P::ServerOrders);
    /// Valet parking: the keys taken, the car parked, asked for, handed back.
    ValetDropOff(crate::valet::ValetDropOff) -> crate::valet::ValetView, "valet drop-off",
        Some(P::Valet);
    ValetPark(crate::valet::ValetPark) -> crate::valet::ValetView, "valet parking", Some(P::Valet);
    ValetRequest(crate::valet::ValetRequest) -> crate::valet::ValetView, "valet request",
        Some(P::Valet);
    ValetReturn(crate::valet::ValetReturn) -> crate::valet::ValetView, "valet return",
        Some(P::Valet);
}

impl Command {
    /// The ticket text a command presents, when it names a stay by ticket: a lane or terminal
    /// must present the signed QR (typed numbers are for staff at the booth).
    pub fn presented_ticket(&self) -> Option<&str> {
        match self {
            Command::Entry(Entry {
                presented_ticket: Some(t),
                ..
            }) => Some(t),
            Command::Exit(Exit {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::Pay(Pay {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::PayFromAccount(PayFromAccount {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::ApplyVoucher(ApplyVoucher {
                stay: StayRef::Ticket(t),
                ..
            }) => Some(t),
            _ => None,
        }
    }
}

impl Command {
    /// A plain entry: plate (if read) and class, at the first entry lane (see `Entry::new`).
    pub fn entry(plate: Option<Plate>, class: VehicleClass) -> Command {
        Entry::new(plate, class).into()
    }
}

/// A vehicle enters: a stay starts, a spot is allocated and a ticket issued.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub plate: Option<Plate>,
    pub class: VehicleClass,
    /// Entry lane id; the first entry lane when absent.
    pub lane: Option<String>,
    pub ev: bool,
    pub accessible: bool,
    /// A ticket presented at entry (checked for anti-passback and reuse).
    pub presented_ticket: Option<String>,
    /// Supervisor override: this spot instead of the allocated one.
    pub spot: Option<String>,
    /// An RFID permit card presented at entry.
    pub card: Option<String>,
    /// A reservation's confirmation code typed or scanned at entry (else matched by plate).
    pub reservation: Option<String>,
}

impl Entry {
    /// A plain entry: plate (if read) and class, at the first entry lane, no EV or accessible
    /// needs, nothing presented, the spot chosen by the allocator.
    pub fn new(plate: Option<Plate>, class: VehicleClass) -> Entry {
        Entry {
            plate,
            class,
            lane: None,
            ev: false,
            accessible: false,
            presented_ticket: None,
            spot: None,
            card: None,
            reservation: None,
        }
    }
}

/// The vehicle leaves; refused while anything is owed.
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    pub stay: StayRef,
    pub lane: Option<String>,
}

/// A payment towards a stay. For cash, `amount` is what was handed over; change is returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Pay {
    pub stay: StayRef,
    pub method: PaymentMethod,
    pub amount: Decimal,
    /// Idempotency key: a retry with the same key never charges twice.
    pub key: Option<String>,
}

/// Money back to the driver (supervisors only).
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub stay: StayRef,
    pub method: PaymentMethod,
    pub amount: Decimal,
    pub reason: String,
    pub key: Option<String>,
}

/// The driver lost the ticket: find the stay by plate, else charge the flat fee.
#[derive(Debug, Clone, PartialEq)]
pub struct LostTicket {
    pub plate: Option<Plate>,
    pub class: VehicleClass,
}

/// Supervisor: move a stay to a named spot.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideSpot {
    pub stay: StayRef,
    pub spot: String,
    pub reason: String,
}

/// Supervisor: take a spot out of service or back.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSpotService {
    pub spot: String,
    pub in_service: bool,
    pub reason: String,
}

/// Supervisor: end a stay without charge (a ticket issued in error, a test vehicle).
#[derive(Debug, Clone, PartialEq)]
pub struct VoidStay {
    pub stay: StayRef,
    pub reason: String,
}

/// A lane cancels the entry of a vehicle that backed off before passing its barrier: the stay
/// ends without charge. Only for a stay that entered at that lane minutes ago and has nothing
/// paid.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelEntry {
    pub stay: StayRef,
    pub lane: String,
    pub reason: String,
}

/// The vehicle leaves owing what the lane could not collect (its payment terminal is down and
/// the lot lets drivers pay later): the exit is recorded, the amount logged as unable to collect,
/// and an alert raised.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitOwing {
    pub stay: StayRef,
    pub lane: Option<String>,
    pub reason: String,
}

/// What a lane reports for the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneReport {
    pub lane: String,
    /// What happened, in snake case: `fallback_ticket_for_no_plate`, `reversed`, `passed`, …
    pub what: String,
    pub reason: String,
    pub stay: Option<i64>,
    pub plate: Option<String>,
    /// Milliseconds from the vehicle's arrival to each step.
    pub timing: std::collections::BTreeMap<String, u64>,
    pub alert: bool,
}

/// Open a lane's barrier by hand; the reason is journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenGate {
    pub lane: String,
    pub reason: String,
}

/// Close a lane (its screen says so and it admits or releases nobody) or open it again; the
/// reason is journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct SetLaneOpen {
    pub lane: String,
    pub open: bool,
    pub reason: String,
}

/// Hold an exit lane's barrier open for everyone (an emergency), or end that; the reason is
/// journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct SetFreeExit {
    pub lane: String,
    pub on: bool,
    pub reason: String,
}

/// Pay what a stay owes from a prepaid account.
#[derive(Debug, Clone, PartialEq)]
pub struct PayFromAccount {
    pub stay: StayRef,
    pub account: i64,
}

/// Take a merchant voucher against a stay.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyVoucher {
    pub stay: StayRef,
    pub voucher: String,
}

/// Move a reservation to another window.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeReservation {
    pub code: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Cancel a reservation.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelReservation {
    pub code: String,
}

/// Revoke a permit.
#[derive(Debug, Clone, PartialEq)]
pub struct RevokePermit {
    pub permit: i64,
    pub reason: String,
}

/// Open a prepaid account.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAccount {
    pub holder: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Put money on a prepaid account.
#[derive(Debug, Clone, PartialEq)]
pub struct TopUpAccount {
    pub account: i64,
    pub method: PaymentMethod,
    pub amount: Decimal,
}

/// Put a plate on the watchlist ("refuse" or "alert"), or take it off (`action` None).
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub plate: Plate,
    pub action: Option<crate::watchlist::WatchAction>,
    pub note: String,
}

/// Acknowledge an alert with a note.
#[derive(Debug, Clone, PartialEq)]
pub struct AckAlert {
    pub alert: i64,
    pub note: String,
}

/// Open the caller's cashier shift with a float.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenShift {
    pub float: Decimal,
}

/// Close the caller's shift with the cash counted.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseShift {
    pub counted: Decimal,
}

/// Log in: a session for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub user: String,
    pub password: Secret,
    pub totp: Option<Secret>,
}

/// End the caller's session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logout;

/// Add a user.
#[derive(Debug, Clone, PartialEq)]
pub struct AddUser {
    pub name: String,
    pub role: Role,
    pub password: Secret,
}

/// Change a password.
#[derive(Debug, Clone, PartialEq)]
pub struct SetPassword {
    pub name: String,
    pub password: Secret,
}

/// Disable a user (their sessions end) or enable them again (which also lifts a lockout).
#[derive(Debug, Clone, PartialEq)]
pub struct SetUserEnabled {
    pub name: String,
    pub enabled: bool,
}

/// Replace the plates of stays finished before `before` by a keyed hash (retention).
#[derive(Debug, Clone, PartialEq)]
pub struct PseudonymisePlates {
    pub before: DateTime<Utc>,
}

/// Erase a person's data on request: every record of this plate.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasePlate {
    pub plate: Plate,
}

/// An order from the shared server (a reservation or its cancellation, a permit issued or
/// revoked, a tariff published, a watchlist change), applied exactly once, in the server's order,
/// with the server's authority; refused with the reason when the lot cannot honour it. Either way
/// the decision is journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOrder {
    pub seq: i64,
    pub id: String,
    /// The command, or why the order could not be read as one (then it is refused).
    pub order: std::result::Result<Box<Command>, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_permission_and_the_command_it_becomes_says_the_same() {
        let pay = Pay {
            stay: StayRef::Ticket("000001-1".into()),
            method: PaymentMethod::Cash,
            amount: Decimal::ONE,
            key: None,
        };
        let command: Command = pay.into();
        assert_eq!(command.permission(), Some(Permission::Pay));
        assert_eq!(command.name(), "pay");
        assert_eq!(Command::from(Logout).permission(), None);
        assert_eq!(
            Command::from(Refund {
                stay: StayRef::Ticket("000001-1".into()),
                method: PaymentMethod::Cash,
                amount: Decimal::ONE,
                reason: "r".into(),
                key: None,
            })
            .permission(),
            Some(Permission::Refund)
        );
    }

    #[test]
    fn a_reply_of_another_kind_is_an_error_not_a_panic() {
        let outcome = Outcome::Recorded(Recorded {
            what: "x".into(),
            id: None,
            message: "m".into(),
            warnings: vec![],
        });
        let err = reply_of::<Pay>(outcome.clone()).unwrap_err();
        assert!(err.message.contains("pay"), "{}", err.message);
        assert!(reply_of::<OpenGate>(outcome).is_ok());
    }
}
