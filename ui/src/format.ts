// Pure helpers of the console: no DOM, no app calls, so Vitest checks them directly.
import type { LaneFrameView, Screen, Spot } from "../../ts/api";

/** An amount as the engine writes it ("12.5", "12.00") with two decimals; other text as is. */
export function formatAmount(text: string): string {
  const t = text.trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) return t;
  const [int, frac = ""] = t.split(".");
  if (frac.length >= 2) return t;
  return `${int}.${frac.padEnd(2, "0")}`;
}

/** An amount with its currency: "12.00 EUR". */
export function formatMoney(amount: string, currency: string): string {
  const a = formatAmount(amount);
  return currency ? `${a} ${currency}` : a;
}

/** The number in an amount's text (for chart bar heights); 0 when it is not a number. */
export function amountValue(text: string): number {
  const n = Number.parseFloat(text.replace(/[^\d.-]/g, ""));
  return Number.isFinite(n) ? n : 0;
}

export type SpotState = "free" | "occupied" | "out_of_service";

export function spotState(state: string): SpotState {
  return state === "occupied" || state === "out_of_service" ? state : "free";
}

/** The CSS class of a spot's state. */
export function spotClass(state: string): string {
  return `spot-${spotState(state).replace(/_/g, "-")}`;
}

/** A spot's state in words. */
export function spotLabel(state: string): string {
  switch (spotState(state)) {
    case "occupied":
      return "Occupied";
    case "out_of_service":
      return "Out of service";
    default:
      return "Free";
  }
}

/** The letter marks of a spot: "E" for an EV charger, "A" for accessible. */
export function spotMarks(spot: Pick<Spot, "ev" | "accessible">): string {
  return (spot.ev ? "E" : "") + (spot.accessible ? "A" : "");
}

/** "A10" after "A9": numbers inside names compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true, sensitivity: "base" });
}

export interface ZoneGroup<S> {
  zone: string;
  spots: S[];
}
export interface LevelGroup<S> {
  level: string;
  zones: ZoneGroup<S>[];
  count: number;
}

/**
 * Spots grouped by level (in the order of `levels`, then any other level by name) and, within a
 * level, by zone (by name); spots in a zone are sorted by id.
 */
export function groupSpots<S extends Pick<Spot, "id" | "level" | "zone">>(
  spots: S[],
  levels: string[] = [],
): LevelGroup<S>[] {
  const byLevel = new Map<string, Map<string, S[]>>();
  for (const s of spots) {
    let zones = byLevel.get(s.level);
    if (!zones) byLevel.set(s.level, (zones = new Map()));
    const list = zones.get(s.zone);
    if (list) list.push(s);
    else zones.set(s.zone, [s]);
  }
  const rank = (l: string) => {
    const i = levels.indexOf(l);
    return i < 0 ? levels.length : i;
  };
  const order = [...byLevel.keys()].sort((a, b) => rank(a) - rank(b) || naturalCompare(a, b));
  return order.map((level) => {
    const zones = byLevel.get(level)!;
    const zoneGroups = [...zones.keys()].sort(naturalCompare).map((zone) => ({
      zone,
      spots: [...zones.get(zone)!].sort((a, b) => naturalCompare(a.id, b.id)),
    }));
    return { level, zones: zoneGroups, count: zoneGroups.reduce((n, z) => n + z.spots.length, 0) };
  });
}

/** The heatmap's colour steps, lightest (nothing) to darkest (the maximum). */
export const HEAT_COLOURS = [
  "#f1f5fb",
  "#d3e1f3",
  "#a9c4e8",
  "#7aa3d9",
  "#4f80c4",
  "#2e5ea6",
  "#173f7e",
  "#0b2554",
];

/** The colour of `value` on a scale from 0 to `max`: 0 is the lightest step, `max` the darkest. */
export function heatColour(value: number, max: number): string {
  const last = HEAT_COLOURS.length - 1;
  if (!(max > 0) || !(value > 0)) return HEAT_COLOURS[0];
  const t = Math.min(1, value / max);
  // Any value above zero gets at least the first coloured step.
  const i = Math.max(1, Math.round(t * last));
  return HEAT_COLOURS[i];
}

/** Text colour that stays readable on a heat colour. */
export function heatTextColour(colour: string): string {
  return HEAT_COLOURS.indexOf(colour) >= 4 ? "#ffffff" : "#111827";
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
}

/**
 * Bars for `values` in a `width` x `height` plot: equal widths with `gap` between them, heights
 * scaled so the largest value fills the height (all zero when every value is zero or less).
 */
export function barGeometry(values: number[], width: number, height: number, gap = 2): Bar[] {
  const n = values.length;
  if (n === 0) return [];
  const max = Math.max(0, ...values);
  const w = Math.max(1, (width - gap * (n - 1)) / n);
  return values.map((v, i) => {
    const h = max > 0 && v > 0 ? (v / max) * height : 0;
    return { x: i * (w + gap), y: height - h, width: w, height: h, value: v };
  });
}

export type ShortcutAction = "find" | "lost" | "pay-cash" | "pay-card" | "lanes";

export const SHORTCUTS: { key: string; action: ShortcutAction; text: string }[] = [
  { key: "F2", action: "find", text: "Find a stay (booth)" },
  { key: "F3", action: "lost", text: "Lost ticket: plate" },
  { key: "F4", action: "pay-cash", text: "Pay cash" },
  { key: "F6", action: "pay-card", text: "Pay by card" },
  { key: "F9", action: "lanes", text: "Lanes tab" },
];

/** What a key (KeyboardEvent.key) does at the booth, or null. */
export function shortcutAction(key: string): ShortcutAction | null {
  return SHORTCUTS.find((s) => s.key === key)?.action ?? null;
}

/** A lane's screen in words, for the attendant. */
export function screenText(s: Screen): string {
  const where = (spot: string, level: string, way: string) =>
    `spot ${spot}, level ${level}${way ? ` (${way})` : ""}`;
  switch (s.kind) {
    case "idle":
      return "Idle";
    case "welcome":
      return s.plate ? `Welcome ${s.plate}` : "Welcome (plate not read)";
    case "press_for_ticket":
      return "Press for a ticket";
    case "take_ticket":
      return `Take ticket: ${where(s.spot, s.level, s.way)}`;
    case "proceed":
      return `Proceed ${s.plate}: ${where(s.spot, s.level, s.way)}`;
    case "full":
      return "Full";
    case "refused":
      return `Refused: ${s.reason}`;
    case "wait_for_attendant":
      return `Waiting for attendant: ${s.reason}`;
    case "lane_closed":
      return "Lane closed";
    case "scan_ticket":
      return "Scan ticket";
    case "pay_here":
      return `Pay here: ${formatMoney(s.amount, s.currency)}`;
    case "declined":
      return `Declined: ${s.reason} (${formatMoney(s.amount, s.currency)})`;
    case "unpaid":
      return `Unpaid: ${formatMoney(s.amount, s.currency)} (${s.how})`;
    case "goodbye":
      return s.plate ? `Goodbye ${s.plate}` : "Goodbye";
    case "free_exit":
      return "Free exit";
    default:
      return String((s as { kind?: unknown }).kind ?? "unknown");
  }
}

/** Whether a screen needs the attendant (the lane card is highlighted). */
export function screenNeedsAttention(s: Screen): boolean {
  return s.kind === "wait_for_attendant" || s.kind === "declined" || s.kind === "unpaid";
}

/** `item` first, then `list` without an item of the same key, at most `max` long. */
export function prependCapped<T>(list: T[], item: T, max: number, key?: (t: T) => unknown): T[] {
  const k = key ? key(item) : undefined;
  const rest = key ? list.filter((t) => key(t) !== k) : list;
  return [item, ...rest].slice(0, max);
}

/** A device's health merged into a list (replacing the same device's entry). */
export function upsertBy<T>(list: T[], item: T, key: (t: T) => string): T[] {
  const k = key(item);
  const i = list.findIndex((t) => key(t) === k);
  if (i < 0) return [...list, item];
  const out = [...list];
  out[i] = item;
  return out;
}

/** Text escaped for HTML/SVG markup. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A zone key ("L1/A") in words. */
export function zoneLabel(key: string): string {
  const [level, zone] = key.split("/");
  return zone === undefined ? key : `Level ${level}, zone ${zone}`;
}

/** Minutes in words: 125 → "2 h 05 min". */
export function durationText(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes < 0) return "";
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes % 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
}

/** The vehicle classes the engine knows, in the order the console offers them. */
export const VEHICLE_CLASSES = ["standard", "compact", "large", "motorcycle", "bus"] as const;

/**
 * Today in the lot's time ("YYYY-MM-DD"): the day of the overview's `now_local`, else the local day
 * of `fallback`.
 */
export function lotToday(nowLocal: string | null | undefined, fallback: Date): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(nowLocal?.trim() ?? "");
  if (m) return m[1];
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${fallback.getFullYear()}-${pad(fallback.getMonth() + 1)}-${pad(fallback.getDate())}`;
}

/** A whole number typed in a form, at least `min`; null when it is not one. */
export function parseWhole(text: string, min = 0): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min ? n : null;
}

/** A plate reader's confidence (0..1) as a whole percentage; null when there is none. */
export function percentText(confidence: number | null | undefined): string | null {
  if (confidence === null || confidence === undefined || !Number.isFinite(confidence)) return null;
  return `${Math.round(Math.min(1, Math.max(0, confidence)) * 100)}%`;
}

/** What a lane camera's frame shows, for its caption: "KLM4821 (93%)" or "no plate read". */
export function frameCaption(
  f: Pick<LaneFrameView, "at_local" | "plate" | "confidence">,
): string {
  const pct = percentText(f.confidence);
  const read = f.plate ? `${f.plate}${pct ? ` (${pct})` : ""}` : "no plate read";
  return `${f.at_local} · ${read}`;
}

/** The frame's alt text: "Camera at E1, 19:22:05: plate KLM4821 read at 93%". */
export function frameAlt(
  f: Pick<LaneFrameView, "lane" | "at_local" | "plate" | "confidence">,
): string {
  const pct = percentText(f.confidence);
  const read = f.plate ? `plate ${f.plate} read${pct ? ` at ${pct}` : ""}` : "no plate read";
  return `Camera at ${f.lane}, ${f.at_local}: ${read}`;
}
