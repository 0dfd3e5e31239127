// The lane screen as the app sends it: the types generated from Rust (ts/api.ts).
import type { LaneScreen, Screen, TicketChoice } from "../../ts/api";
import { asApiError } from "../../ts/api";

export type { LaneScreen, Screen, TicketChoice };

export const TICKET_CHOICES: readonly TicketChoice[] = [
  "standard",
  "charger",
  "accessible",
  "motorcycle",
];

export type ScreenKind = Screen["kind"];

/** What the kiosk needs of the app (ts/api.ts's `api` fits it). */
export interface KioskApi {
  laneScreen(laneId: string): Promise<Screen>;
  pressTicket(laneId: string, choice: TicketChoice): Promise<void>;
  payAgain(laneId: string): Promise<void>;
  unlockKiosk(pin: string): Promise<void>;
}

/** The app's events the kiosk listens to (ts/api.ts's `events` fits it). */
export interface KioskEvents {
  laneScreen(f: (e: LaneScreen) => void): Promise<() => void>;
}

/** A failed call's error as the app sends it ({kind, message}); anything else as text. */
export function errorOf(e: unknown): { kind: string; message: string } {
  if (e instanceof Error) return { kind: "unavailable", message: e.message };
  return asApiError(e);
}
