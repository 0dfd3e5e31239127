// Generated from src-tauri/src/boundary.rs and the types it names by
// `GATEHOUSE_WRITE_BINDINGS=1 cargo test -p gatehouse-app api_ts`.
// Do not edit: CI checks that this file matches the Rust side.
import { call, listenTo, type UnlistenFn } from "./invoke";
export { asApiError } from "./invoke";

export type AccountRow = { id: number, holder: string, balance: string, currency: string, expires_local: string | null, warnings: Array<string>, 
/**
 * The signed code printed on the prepaid card; scanned at an exit it pays from the account.
 */
card: string, 
/**
 * The card's code as a QR image (SVG).
 */
card_svg: string, };

export type AlertView = { id: number, kind: string, message: string, lane: string | null, plate: string | null, raised_at: string, };

export type ApiError = { kind: ErrorKind, message: string, };

export type AppFigures = { 
/**
 * From the process start to the console's first interactive paint.
 */
cold_start_ms: number | null, 
/**
 * Resident memory now (VmRSS).
 */
rss_mb: number, 
/**
 * From an engine event's broadcast to the console's paint of it: samples, p50, p99.
 */
paint_samples: number, paint_p50_ms: number, paint_p99_ms: number, };

export type BoothMethod = "cash" | "card";

export type Count = { key: string, capacity: number, occupied: number, free: number, };

export type DemoUser = { user: string, role: Role, password: string, };

export type DeviceHealth = { device: string, ok: boolean, reason: string, };

export type ErrorKind = "invalid_input" | "config" | "not_found" | "full" | "passback" | "unpaid" | "ticket_forged" | "ticket_foreign" | "ticket_used" | "conflict" | "forbidden" | "storage" | "journal" | "unavailable";

export type FeedItem = { seq: number, at_local: string, actor: string, kind: string, text: string, };

export type LaneFrameView = { lane: string, at_local: string, plate: string | null, 
/**
 * 0 to 1.
 */
confidence: number | null, 
/**
 * The frame, small, as a `data:image/jpeg;base64,…` URL.
 */
image: string, };

export type LaneKind = "entry" | "exit";

export type LaneNoticeView = { lane: string, text: string, device: DeviceHealth | null, };

export type LaneScreen = { lane: string, screen: Screen, };

export type LaneView = { id: string, kind: LaneKind, level: string, screen: Screen, devices: Array<DeviceHealth>, };

export type MoneyLine = { key: string, count: number, amount: string, };

export type Overview = { lot: string, currency: string, timezone: string, 
/**
 * The lot's clock now, local time (the demo's clock runs faster than the wall clock).
 */
now_local: string, speed: number, levels: Array<string>, spots: Array<Spot>, lanes: Array<LaneView>, 
/**
 * Counts per zone (`level/zone`) and per vehicle class of the vehicles inside.
 */
zones: Array<Count>, classes: Array<Count>, demo_users: Array<DemoUser>, };

export type PaidView = { ticket: string, paid: string, change: string, owed: string, currency: string, 
/**
 * The receipt as printed.
 */
receipt: string, };

export type PermitForm = { kind: PermitKind, holder: string, 
/**
 * Plates separated by commas (a plate may have spaces of its own).
 */
plates: string, card: string, 
/**
 * Valid from today for this many days.
 */
days: number, 
/**
 * Level ids separated by spaces or commas; empty: every level.
 */
levels: string, 
/**
 * HH:MM-HH:MM, or empty for any time.
 */
hours: string, max_inside: number, };

export type PermitKind = "monthly" | "yearly" | "staff" | "vip";

export type PermitRow = { id: number, kind: PermitKind, holder: string, 
/**
 * Space-separated.
 */
plates: string, card: string | null, 
/**
 * The validity in the lot's local time.
 */
valid: string, 
/**
 * Space-separated level ids; empty: every level.
 */
levels: string, hours: string | null, max_inside: number, inside: number, revoked: boolean, };

export type QuoteView = { ticket: string, plate: string | null, class: string, entry_local: string, minutes: number, fee: string, paid: string, total: string, currency: string, lines: Array<string>, 
/**
 * The spot the stay holds, if any.
 */
spot: string | null, 
/**
 * For a lost ticket: the replacement ticket's payload (printed at the booth).
 */
replacement_qr: string | null, };

export type ReportFormat = "csv" | "pdf";

export type ReportView = { day: string, currency: string, revenue_total: string, occupancy_peak: number, spots: number, 
/**
 * Average vehicles present per local hour 0..23.
 */
by_hour: Array<number>, revenue_by_method: Array<MoneyLine>, revenue_by_class: Array<MoneyLine>, 
/**
 * Average occupancy by weekday (Mon..Sun) and hour (0..23).
 */
peak_hours: Array<Array<number>>, };

export type ReservationForm = { plate: string, class: string, ev: boolean, accessible: boolean, 
/**
 * YYYY-MM-DD
 */
day: string, 
/**
 * HH:MM
 */
from: string, 
/**
 * HH:MM; before `from` means the next day.
 */
to: string, holder: string, };

export type ReservationRow = { code: string, 
/**
 * booked, arrived, completed, cancelled, no_show
 */
status: string, plate: string | null, class: string, ev: boolean, accessible: boolean, spot: string | null, 
/**
 * The window in the lot's local time.
 */
window: string, estimate: string, fee: string, currency: string, };

export type Role = "system" | "attendant" | "cashier" | "supervisor" | "admin" | "auditor";

export type Screen = { "kind": "idle" } | { "kind": "welcome", plate: string | null, } | { "kind": "press_for_ticket" } | { "kind": "take_ticket", spot: string, level: string, way: string, } | { "kind": "proceed", plate: string, spot: string, level: string, way: string, } | { "kind": "full" } | { "kind": "refused", reason: string, } | { "kind": "wait_for_attendant", reason: string, } | { "kind": "lane_closed" } | { "kind": "scan_ticket" } | { "kind": "pay_here", amount: string, currency: string, lines: Array<string>, } | { "kind": "declined", reason: string, amount: string, currency: string, retry_seconds: number, } | { "kind": "unpaid", amount: string, currency: string, how: string, } | { "kind": "goodbye", plate: string | null, } | { "kind": "free_exit" };

export type SessionView = { user: string, role: Role, };

export type ShiftInfo = { open: boolean, text: string, };

export type Spot = { id: string, level: string, zone: string, size: VehicleClass, ev: boolean, accessible: boolean, state: SpotState, note: string | null, ticket: string | null, plate: string | null, };

export type SpotState = "free" | "occupied" | "out_of_service";

export type TicketChoice = "standard" | "charger" | "accessible" | "motorcycle";

export type UserAddedView = { name: string, role: Role, 
/**
 * The admin's TOTP secret (base32) to enrol in an authenticator app, shown once.
 */
totp_secret: string | null, };

export type UserRow = { name: string, role: Role, second_factor: boolean, disabled: boolean, locked_until: string | null, };

export type ValetInfo = { message: string, ticket: string, tag: string, spot: string | null, due: string, currency: string, };

export type ValetStep = "drop_off" | "park" | "request" | "return";

export type VehicleClass = "motorcycle" | "compact" | "standard" | "large" | "bus";

export type VoucherRow = { id: number, merchant: string, 
/**
 * "60 free minutes" or "20% off".
 */
gives: string, valid_to_local: string | null, 
/**
 * The ticket it was used on.
 */
used_on: string | null, 
/**
 * The signed code printed on the voucher.
 */
qr: string, 
/**
 * The code as a QR image (SVG).
 */
qr_svg: string, };

export type Written = { path: string, bytes: number, };

/** The app's commands: each refused one rejects with an `ApiError`. */
export const api = {
  login: (user: string, password: string, code: string | null) => call<SessionView>("login", { user, password, code }),
  /** The demo only: log in one of the demo's people (an admin's second factor typed for you). */
  demoLogin: (user: string) => call<SessionView>("demo_login", { user }),
  logout: () => call<void>("logout"),
  overview: () => call<Overview>("overview"),
  feed: (limit: number) => call<Array<FeedItem>>("feed", { limit }),
  alerts: () => call<Array<AlertView>>("alerts"),
  ackAlert: (id: number, note: string) => call<void>("ack_alert", { id, note }),
  /** The booth: a stay by its ticket number or QR text, or by its plate. */
  findStay: (text: string) => call<QuoteView>("find_stay", { text }),
  /** A valet step at the booth: `plate` and `vehicle_class` for a drop-off, `spot` for parking. */
  valet: (step: ValetStep, tag: string, plate: string, vehicleClass: string, spot: string) => call<ValetInfo>("valet", { step, tag, plate, vehicleClass, spot }),
  lostTicket: (plate: string, vehicleClass: VehicleClass) => call<QuoteView>("lost_ticket", { plate, vehicleClass }),
  pay: (ticket: string, method: BoothMethod, handed: string) => call<PaidView>("pay", { ticket, method, handed }),
  refund: (ticket: string, amountText: string, why: string) => call<string>("refund", { ticket, amountText, why }),
  overrideSpot: (ticket: string, spot: string, why: string) => call<string>("override_spot", { ticket, spot, why }),
  setSpotService: (spot: string, inService: boolean, why: string) => call<string>("set_spot_service", { spot, inService, why }),
  openGate: (laneId: string, why: string) => call<void>("open_gate", { laneId, why }),
  setLaneOpen: (laneId: string, open: boolean, why: string) => call<void>("set_lane_open", { laneId, open, why }),
  setFreeExit: (laneId: string, on: boolean, why: string) => call<void>("set_free_exit", { laneId, on, why }),
  /** The demo: a vehicle drives up; at an exit `pays_with` is a voucher or prepaid card code. */
  sendVehicle: (laneId: string, plate: string, paysWith: string | null) => call<string>("send_vehicle", { laneId, plate, paysWith }),
  laneFrame: (laneId: string) => call<LaneFrameView | null>("lane_frame", { laneId }),
  openShift: (float: string) => call<ShiftInfo>("open_shift", { float }),
  closeShift: (counted: string) => call<ShiftInfo>("close_shift", { counted }),
  dayReportView: (day: string) => call<ReportView>("day_report_view", { day }),
  exportReport: (day: string, format: ReportFormat) => call<Written>("export_report", { day, format }),
  /** The kiosk: what the lane's screen shows now. */
  laneScreen: (laneId: string) => call<Screen>("lane_screen", { laneId }),
  /** The kiosk: the driver pressed the ticket button, or one of its choices. */
  pressTicket: (laneId: string, choice: TicketChoice) => call<void>("press_ticket", { laneId, choice }),
  payAgain: (laneId: string) => call<void>("pay_again", { laneId }),
  /** The kiosk: an admin's PIN closes the kiosk window; a wrong PIN changes nothing. */
  unlockKiosk: (pin: string) => call<void>("unlock_kiosk", { pin }),
  consoleReady: () => call<void>("console_ready"),
  painted: (seq: number) => call<void>("painted", { seq }),
  figures: () => call<AppFigures>("figures"),
  reservations: (days: number) => call<Array<ReservationRow>>("reservations", { days }),
  reserve: (form: ReservationForm) => call<ReservationRow>("reserve", { form }),
  cancelReservation: (code: string) => call<string>("cancel_reservation", { code }),
  permits: () => call<Array<PermitRow>>("permits"),
  issuePermit: (form: PermitForm) => call<string>("issue_permit", { form }),
  revokePermit: (id: number, why: string) => call<string>("revoke_permit", { id, why }),
  accounts: () => call<Array<AccountRow>>("accounts"),
  openAccount: (holder: string, days: number) => call<AccountRow>("open_account", { holder, days }),
  topUp: (id: number, method: BoothMethod, amountText: string) => call<AccountRow>("top_up", { id, method, amountText }),
  vouchers: () => call<Array<VoucherRow>>("vouchers"),
  issueVoucher: (merchant: string, value: number, percent: boolean, days: number) => call<VoucherRow>("issue_voucher", { merchant, value, percent, days }),
  users: () => call<Array<UserRow>>("users"),
  addUser: (name: string, role: Role, password: string) => call<UserAddedView>("add_user", { name, role, password }),
  setUserEnabled: (name: string, enabled: boolean) => call<string>("set_user_enabled", { name, enabled }),
};

/** The app's live events. */
export const events = {
  /** A journal entry, summarised for the console's feed. */
  lotEvent: (f: (e: FeedItem) => void): Promise<UnlistenFn> => listenTo<FeedItem>("lot-event", f),
  /** A lane's screen changed. */
  laneScreen: (f: (e: LaneScreen) => void): Promise<UnlistenFn> => listenTo<LaneScreen>("lane-screen", f),
  /** Something a lane did or noticed, in words; device health changes carry the device. */
  laneNotice: (f: (e: LaneNoticeView) => void): Promise<UnlistenFn> => listenTo<LaneNoticeView>("lane-notice", f),
  /** A lane's camera gave a frame for a vehicle, with the plate read in it. */
  laneFrame: (f: (e: LaneFrameView) => void): Promise<UnlistenFn> => listenTo<LaneFrameView>("lane-frame", f),
};
