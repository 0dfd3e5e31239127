//! What the console and the kiosk see: the commands' answers and the events' payloads. Their
//! TypeScript declarations in `ts/api.ts` are generated from these types (see `boundary.rs`).

use gatehouse_core::allocation::SpotState;
use gatehouse_core::config::LaneKind;
use gatehouse_core::lot::SpotView;
use gatehouse_core::permits::PermitKind;
use gatehouse_core::stays::StayQuote;
use gatehouse_core::{Error, ErrorKind, Role, VehicleClass};
use gatehouse_lanes::Screen;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A refused or failed command: its kind (as the engine names it) and what to do.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError {
            kind: e.kind,
            message: e.message.clone(),
        }
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }
}

pub type Answer<T> = Result<T, ApiError>;

/// Who is logged in at this window.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SessionView {
    pub user: String,
    pub role: Role,
}

/// A demo user the login screen offers (the demo lot only).
#[derive(Debug, Clone, Serialize, TS)]
pub struct DemoUser {
    pub user: String,
    pub role: Role,
    pub password: String,
}

/// The whole lot at a glance, for the console's first paint.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    pub lot: String,
    pub currency: String,
    pub timezone: String,
    /// The lot's clock now, local time (the demo's clock runs faster than the wall clock).
    pub now_local: String,
    pub speed: f64,
    pub levels: Vec<String>,
    pub spots: Vec<Spot>,
    pub lanes: Vec<LaneView>,
    /// Counts per zone (`level/zone`) and per vehicle class of the vehicles inside.
    pub zones: Vec<Count>,
    pub classes: Vec<Count>,
    pub demo_users: Vec<DemoUser>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Count {
    pub key: String,
    pub capacity: u32,
    pub occupied: u32,
    pub free: u32,
}

/// A spot and what is on it now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Spot {
    pub id: String,
    pub level: String,
    pub zone: String,
    pub size: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    pub state: SpotState,
    pub note: Option<String>,
    pub ticket: Option<String>,
    pub plate: Option<String>,
}

impl From<SpotView> for Spot {
    fn from(s: SpotView) -> Self {
        let state = if !s.in_service {
            SpotState::OutOfService
        } else if s.ticket.is_some() {
            SpotState::Occupied
        } else {
            SpotState::Free
        };
        Spot {
            id: s.id,
            level: s.level,
            zone: s.zone,
            size: s.size,
            ev: s.ev,
            accessible: s.accessible,
            state,
            note: s.note,
            ticket: s.ticket,
            plate: s.plate,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LaneView {
    pub id: String,
    pub kind: LaneKind,
    pub level: String,
    pub screen: Screen,
    pub devices: Vec<DeviceHealth>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceHealth {
    pub device: String,
    pub ok: bool,
    pub reason: String,
}

/// Event `lane-screen`: a lane's screen changed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LaneScreen {
    pub lane: String,
    pub screen: Screen,
}

/// Event `lane-notice`: something a lane did or noticed, in words; device health changes carry
/// the device.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LaneNoticeView {
    pub lane: String,
    pub text: String,
    pub device: Option<DeviceHealth>,
}

/// Event `lane-frame` and the command `lane_frame`: the last frame a lane's camera gave for a
/// vehicle, with the plate read in it and how sure the reader was.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LaneFrameView {
    pub lane: String,
    pub at_local: String,
    pub plate: Option<String>,
    /// 0 to 1.
    pub confidence: Option<f32>,
    /// The frame, small, as a `data:image/jpeg;base64,…` URL.
    pub image: String,
}

/// Event `lot-event` and the feed: one journal record in words.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FeedItem {
    #[ts(type = "number")]
    pub seq: i64,
    pub at_local: String,
    pub actor: String,
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertView {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: String,
    pub message: String,
    pub lane: Option<String>,
    pub plate: Option<String>,
    pub raised_at: String,
}

/// A stay and what it owes now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QuoteView {
    pub ticket: String,
    pub plate: Option<String>,
    pub class: String,
    pub entry_local: String,
    #[ts(type = "number")]
    pub minutes: i64,
    pub fee: String,
    pub paid: String,
    pub total: String,
    pub currency: String,
    pub lines: Vec<String>,
    /// The spot the stay holds, if any.
    pub spot: Option<String>,
    /// For a lost ticket: the replacement ticket's payload (printed at the booth).
    pub replacement_qr: Option<String>,
}

impl QuoteView {
    pub fn of(q: StayQuote, spot: Option<String>) -> Self {
        QuoteView {
            ticket: q.ticket,
            plate: q.plate,
            class: q.class.as_str().to_string(),
            entry_local: q.entry_local,
            minutes: q.minutes,
            fee: q.fee.amount.to_string(),
            paid: q.paid.amount.to_string(),
            total: q.total.amount.to_string(),
            currency: q.currency,
            lines: q
                .lines
                .iter()
                .map(|l| format!("{}: {}", l.label, l.amount.amount))
                .collect(),
            spot,
            replacement_qr: None,
        }
    }
}

/// A payment taken at the booth.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PaidView {
    pub ticket: String,
    pub paid: String,
    pub change: String,
    pub owed: String,
    pub currency: String,
    /// The receipt as printed.
    pub receipt: String,
}

/// How a booth payment is made.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BoothMethod {
    Cash,
    Card,
}

impl From<BoothMethod> for gatehouse_core::PaymentMethod {
    fn from(m: BoothMethod) -> Self {
        match m {
            BoothMethod::Cash => gatehouse_core::PaymentMethod::Cash,
            BoothMethod::Card => gatehouse_core::PaymentMethod::Card,
        }
    }
}

/// A driver's choice on the kiosk's ticket button.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TicketChoice {
    Standard,
    Charger,
    Accessible,
    Motorcycle,
}

/// A valet step at the booth (`valet`).
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ValetStep {
    /// Take the keys on a tag: a valet stay starts.
    DropOff,
    /// The car on the tag is parked in a spot.
    Park,
    /// The driver asks for the car back: its fee is fixed, to pay at the booth.
    Request,
    /// The car and keys are handed back.
    Return,
}

/// What a valet step did: what to tell the driver, and the stay's ticket (to take its payment).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ValetInfo {
    pub message: String,
    pub ticket: String,
    pub tag: String,
    pub spot: Option<String>,
    pub due: String,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ShiftInfo {
    pub open: bool,
    pub text: String,
}

/// The day's report, for the console's charts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReportView {
    pub day: String,
    pub currency: String,
    pub revenue_total: String,
    pub occupancy_peak: u32,
    pub spots: u32,
    /// Average vehicles present per local hour 0..23.
    pub by_hour: Vec<f64>,
    pub revenue_by_method: Vec<MoneyLine>,
    pub revenue_by_class: Vec<MoneyLine>,
    /// Average occupancy by weekday (Mon..Sun) and hour (0..23).
    pub peak_hours: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MoneyLine {
    pub key: String,
    #[ts(type = "number")]
    pub count: u64,
    pub amount: String,
}

/// The file a day's report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Csv,
    Pdf,
}

/// A file the console wrote (a report's CSV or PDF, a Z-report).
#[derive(Debug, Clone, Serialize, TS)]
pub struct Written {
    pub path: String,
    pub bytes: u32,
}

/// The app's own figures, measured in the running app.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppFigures {
    /// From the process start to the console's first interactive paint.
    pub cold_start_ms: Option<f64>,
    /// Resident memory now (VmRSS).
    pub rss_mb: f64,
    /// From an engine event's broadcast to the console's paint of it: samples, p50, p99.
    pub paint_samples: u32,
    pub paint_p50_ms: f64,
    pub paint_p99_ms: f64,
}

/// The office: reservations, permits, prepaid accounts, merchant vouchers and staff, as far as
/// the engine offers them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReservationRow {
    pub code: String,
    /// booked, arrived, completed, cancelled, no_show
    pub status: String,
    pub plate: Option<String>,
    pub class: String,
    pub ev: bool,
    pub accessible: bool,
    pub spot: Option<String>,
    /// The window in the lot's local time.
    pub window: String,
    pub estimate: String,
    pub fee: String,
    pub currency: String,
}

/// A booking typed at the console: the day and times in the lot's local time.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ReservationForm {
    pub plate: String,
    pub class: String,
    pub ev: bool,
    pub accessible: bool,
    /// YYYY-MM-DD
    pub day: String,
    /// HH:MM
    pub from: String,
    /// HH:MM; before `from` means the next day.
    pub to: String,
    pub holder: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PermitRow {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: PermitKind,
    pub holder: String,
    /// Space-separated.
    pub plates: String,
    pub card: Option<String>,
    /// The validity in the lot's local time.
    pub valid: String,
    /// Space-separated level ids; empty: every level.
    pub levels: String,
    pub hours: Option<String>,
    pub max_inside: u32,
    pub inside: u32,
    pub revoked: bool,
}

/// A permit typed at the console.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct PermitForm {
    pub kind: PermitKind,
    pub holder: String,
    /// Plates separated by commas (a plate may have spaces of its own).
    pub plates: String,
    pub card: String,
    /// Valid from today for this many days.
    pub days: u32,
    /// Level ids separated by spaces or commas; empty: every level.
    pub levels: String,
    /// HH:MM-HH:MM, or empty for any time.
    pub hours: String,
    pub max_inside: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountRow {
    #[ts(type = "number")]
    pub id: i64,
    pub holder: String,
    pub balance: String,
    pub currency: String,
    pub expires_local: Option<String>,
    pub warnings: Vec<String>,
    /// The signed code printed on the prepaid card; scanned at an exit it pays from the account.
    pub card: String,
    /// The card's code as a QR image (SVG).
    pub card_svg: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct VoucherRow {
    #[ts(type = "number")]
    pub id: i64,
    pub merchant: String,
    /// "60 free minutes" or "20% off".
    pub gives: String,
    pub valid_to_local: Option<String>,
    /// The ticket it was used on.
    pub used_on: Option<String>,
    /// The signed code printed on the voucher.
    pub qr: String,
    /// The code as a QR image (SVG).
    pub qr_svg: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    pub second_factor: bool,
    pub disabled: bool,
    pub locked_until: Option<String>,
}

/// A user added at the console; an admin's second factor is shown once, to enrol it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UserAddedView {
    pub name: String,
    pub role: Role,
    /// The admin's TOTP secret (base32) to enrol in an authenticator app, shown once.
    pub totp_secret: Option<String>,
}
