// Generated from src-tauri/src/api.rs by `GATEHOUSE_WRITE_BINDINGS=1 cargo test -p gatehouse-app bindings`.
// Do not edit: CI checks that this file matches the Rust types.

export type ApiError = { kind: string, message: string, };

export type SessionView = { user: string, role: string, };

export type DemoUser = { user: string, role: string, password: string, };

export type Overview = { lot: string, currency: string, timezone: string, 
/**
 * The lot's clock now, local time (the demo's clock runs faster than the wall clock).
 */
now_local: string, speed: number, levels: Array<string>, spots: Array<Spot>, lanes: Array<LaneView>, 
/**
 * Counts per zone (`level/zone`) and per vehicle class of the vehicles inside.
 */
zones: Array<Count>, classes: Array<Count>, demo_users: Array<DemoUser>, };

export type Count = { key: string, capacity: number, occupied: number, free: number, };

export type Spot = { id: string, level: string, zone: string, size: string, ev: boolean, accessible: boolean, 
/**
 * free, occupied or out_of_service.
 */
state: string, note: string | null, ticket: string | null, plate: string | null, };

export type LaneView = { id: string, 
/**
 * entry or exit.
 */
kind: string, level: string, screen: ScreenView, devices: Array<DeviceHealth>, };

export type DeviceHealth = { device: string, ok: boolean, reason: string, };

export type ScreenView = { "kind": "idle" } | { "kind": "welcome", plate: string | null, } | { "kind": "press_for_ticket" } | { "kind": "take_ticket", spot: string, level: string, way: string, } | { "kind": "proceed", plate: string, spot: string, level: string, way: string, } | { "kind": "full" } | { "kind": "refused", reason: string, } | { "kind": "wait_for_attendant", reason: string, } | { "kind": "lane_closed" } | { "kind": "scan_ticket" } | { "kind": "pay_here", amount: string, currency: string, lines: Array<string>, } | { "kind": "declined", reason: string, amount: string, currency: string, } | { "kind": "unpaid", amount: string, currency: string, how: string, } | { "kind": "goodbye", plate: string | null, } | { "kind": "free_exit" };

export type LaneScreen = { lane: string, screen: ScreenView, };

export type LaneNoticeView = { lane: string, text: string, device: DeviceHealth | null, };

export type LaneFrameView = { lane: string, at_local: string, plate: string | null, 
/**
 * 0 to 1.
 */
confidence: number | null, 
/**
 * The frame, small, as a `data:image/jpeg;base64,…` URL.
 */
image: string, };

export type FeedItem = { seq: number, at_local: string, actor: string, kind: string, text: string, };

export type AlertView = { id: number, kind: string, message: string, lane: string | null, plate: string | null, raised_at: string, };

export type QuoteView = { ticket: string, plate: string | null, class: string, entry_local: string, minutes: number, fee: string, paid: string, total: string, currency: string, lines: Array<string>, 
/**
 * The spot the stay holds, if any.
 */
spot: string | null, 
/**
 * For a lost ticket: the replacement ticket's payload (printed at the booth).
 */
replacement_qr: string | null, };

export type PaidView = { ticket: string, paid: string, change: string, owed: string, currency: string, 
/**
 * The receipt as printed.
 */
receipt: string, };

export type BoothMethod = "cash" | "card";

export type TicketChoice = "standard" | "charger" | "accessible" | "motorcycle";

export type ShiftInfo = { open: boolean, text: string, };

export type ValetStep = "drop_off" | "park" | "request" | "return";

export type ValetInfo = { message: string, ticket: string, tag: string, spot: string | null, due: string, currency: string, };

export type ReportView = { day: string, currency: string, revenue_total: string, occupancy_peak: number, spots: number, 
/**
 * Average vehicles present per local hour 0..23.
 */
by_hour: Array<number>, revenue_by_method: Array<MoneyLine>, revenue_by_class: Array<MoneyLine>, 
/**
 * Average occupancy by weekday (Mon..Sun) and hour (0..23).
 */
peak_hours: Array<Array<number>>, };

export type MoneyLine = { key: string, count: number, amount: string, };

export type Written = { path: string, bytes: number, };

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

export type ReservationRow = { code: string, 
/**
 * booked, arrived, completed, cancelled, no_show
 */
status: string, plate: string | null, class: string, ev: boolean, accessible: boolean, spot: string | null, 
/**
 * The window in the lot's local time.
 */
window: string, estimate: string, fee: string, currency: string, };

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

export type PermitRow = { id: number, kind: string, holder: string, 
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

export type PermitForm = { 
/**
 * monthly, yearly, staff or vip
 */
kind: string, holder: string, 
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

export type AccountRow = { id: number, holder: string, balance: string, currency: string, expires_local: string | null, warnings: Array<string>, 
/**
 * The signed code printed on the prepaid card; scanned at an exit it pays from the account.
 */
card: string, 
/**
 * The card's code as a QR image (SVG).
 */
card_svg: string, };

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

export type UserRow = { name: string, role: string, second_factor: boolean, disabled: boolean, locked_until: string | null, };

export type UserAddedView = { name: string, role: string, 
/**
 * The admin's TOTP secret (base32) to enrol in an authenticator app, shown once.
 */
totp_secret: string | null, };
