// The app's commands and events, typed by the generated bindings (ts/bindings.ts). Both
// frontends call the app only through this module.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AccountRow,
  AlertView,
  ApiError,
  AppFigures,
  BoothMethod,
  FeedItem,
  LaneFrameView,
  LaneNoticeView,
  LaneScreen,
  Overview,
  PaidView,
  PermitForm,
  PermitRow,
  QuoteView,
  ReportView,
  ReservationForm,
  ReservationRow,
  ScreenView,
  SessionView,
  ShiftInfo,
  TicketChoice,
  UserAddedView,
  UserRow,
  ValetInfo,
  ValetStep,
  VoucherRow,
  Written,
} from "./bindings";

export type * from "./bindings";

/** A refused command's error, as the app sends it; anything else becomes an `unavailable` one. */
export function asApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const { kind, message } = e as { kind: unknown; message: unknown };
    return { kind: String(kind), message: String(message) };
  }
  return { kind: "unavailable", message: String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asApiError(e);
  }
}

export const api = {
  login: (user: string, password: string, code: string | null) =>
    call<SessionView>("login", { user, password, code }),
  /** The demo only: log in one of the demo's people (an admin's second factor typed for you). */
  demoLogin: (user: string) => call<SessionView>("demo_login", { user }),
  logout: () => call<void>("logout"),
  overview: () => call<Overview>("overview"),
  feed: (limit: number) => call<FeedItem[]>("feed", { limit }),
  alerts: () => call<AlertView[]>("alerts"),
  ackAlert: (id: number, note: string) => call<void>("ack_alert", { id, note }),
  findStay: (text: string) => call<QuoteView>("find_stay", { text }),
  /** A valet step at the booth: `plate` and `class` for a drop-off, `spot` for parking. */
  valet: (step: ValetStep, tag: string, plate: string, vehicleClass: string, spot: string) =>
    call<ValetInfo>("valet", { step, tag, plate, class: vehicleClass, spot }),
  lostTicket: (plate: string, vehicleClass: string) =>
    call<QuoteView>("lost_ticket", { plate, class: vehicleClass }),
  pay: (ticket: string, method: BoothMethod, handed: string) =>
    call<PaidView>("pay", { ticket, method, handed }),
  refund: (ticket: string, amountText: string, why: string) =>
    call<string>("refund", { ticket, amountText, why }),
  overrideSpot: (ticket: string, spot: string, why: string) =>
    call<string>("override_spot", { ticket, spot, why }),
  setSpotService: (spot: string, inService: boolean, why: string) =>
    call<string>("set_spot_service", { spot, inService, why }),
  openGate: (laneId: string, why: string) => call<void>("open_gate", { laneId, why }),
  setLaneOpen: (laneId: string, open: boolean, why: string) =>
    call<void>("set_lane_open", { laneId, open, why }),
  setFreeExit: (laneId: string, on: boolean, why: string) =>
    call<void>("set_free_exit", { laneId, on, why }),
  /** The demo: a vehicle drives up; at an exit `paysWith` is a voucher or prepaid card code. */
  sendVehicle: (laneId: string, plate: string, paysWith: string | null = null) =>
    call<string>("send_vehicle", { laneId, plate, paysWith }),
  laneFrame: (laneId: string) => call<LaneFrameView | null>("lane_frame", { laneId }),
  openShift: (float: string) => call<ShiftInfo>("open_shift", { float }),
  closeShift: (counted: string) => call<ShiftInfo>("close_shift", { counted }),
  dayReport: (day: string) => call<ReportView>("day_report_view", { day }),
  exportReport: (day: string, format: "csv" | "pdf") =>
    call<Written>("export_report", { day, format }),
  laneScreen: (laneId: string) => call<ScreenView>("lane_screen", { laneId }),
  pressTicket: (laneId: string, choice: TicketChoice) =>
    call<void>("press_ticket", { laneId, choice }),
  payAgain: (laneId: string) => call<void>("pay_again", { laneId }),
  unlockKiosk: (pin: string) => call<void>("unlock_kiosk", { pin }),
  consoleReady: () => call<void>("console_ready"),
  painted: (seq: number) => call<void>("painted", { seq }),
  figures: () => call<AppFigures>("figures"),
  // The office.
  reservations: (days: number) => call<ReservationRow[]>("reservations", { days }),
  reserve: (form: ReservationForm) => call<ReservationRow>("reserve", { form }),
  cancelReservation: (code: string) => call<string>("cancel_reservation", { code }),
  permits: () => call<PermitRow[]>("permits"),
  issuePermit: (form: PermitForm) => call<string>("issue_permit", { form }),
  revokePermit: (id: number, why: string) => call<string>("revoke_permit", { id, why }),
  accounts: () => call<AccountRow[]>("accounts"),
  openAccount: (holder: string, days: number) =>
    call<AccountRow>("open_account", { holder, days }),
  topUp: (id: number, method: BoothMethod, amountText: string) =>
    call<AccountRow>("top_up", { id, method, amountText }),
  vouchers: () => call<VoucherRow[]>("vouchers"),
  issueVoucher: (merchant: string, value: number, percent: boolean, days: number) =>
    call<VoucherRow>("issue_voucher", { merchant, value, percent, days }),
  users: () => call<UserRow[]>("users"),
  addUser: (name: string, role: string, password: string) =>
    call<UserAddedView>("add_user", { name, role, password }),
  setUserEnabled: (name: string, enabled: boolean) =>
    call<string>("set_user_enabled", { name, enabled }),
};

/** The app's live events. */
export const events = {
  lotEvent: (f: (e: FeedItem) => void): Promise<UnlistenFn> =>
    listen<FeedItem>("lot-event", (e) => f(e.payload)),
  laneScreen: (f: (e: LaneScreen) => void): Promise<UnlistenFn> =>
    listen<LaneScreen>("lane-screen", (e) => f(e.payload)),
  laneNotice: (f: (e: LaneNoticeView) => void): Promise<UnlistenFn> =>
    listen<LaneNoticeView>("lane-notice", (e) => f(e.payload)),
  laneFrame: (f: (e: LaneFrameView) => void): Promise<UnlistenFn> =>
    listen<LaneFrameView>("lane-frame", (e) => f(e.payload)),
};
