import { describe, expect, it } from "vitest";
import {
  amountValue,
  barGeometry,
  durationText,
  formatAmount,
  formatMoney,
  frameAlt,
  frameCaption,
  groupSpots,
  HEAT_COLOURS,
  heatColour,
  lotToday,
  parseWhole,
  percentText,
  prependCapped,
  screenText,
  shortcutAction,
  spotClass,
  spotLabel,
  spotMarks,
  upsertBy,
  zoneLabel,
} from "./format";

const spot = (id: string, level: string, zone: string) => ({ id, level, zone });

describe("amounts", () => {
  it("writes two decimals", () => {
    expect(formatAmount("12")).toBe("12.00");
    expect(formatAmount("12.5")).toBe("12.50");
    expect(formatAmount("12.00")).toBe("12.00");
    expect(formatAmount("-3.1")).toBe("-3.10");
    expect(formatAmount("n/a")).toBe("n/a");
    expect(formatMoney("4.5", "EUR")).toBe("4.50 EUR");
    expect(formatMoney("4.5", "")).toBe("4.50");
  });
  it("reads the number of an amount", () => {
    expect(amountValue("12.50")).toBe(12.5);
    expect(amountValue("EUR 7")).toBe(7);
    expect(amountValue("")).toBe(0);
  });
});

describe("spot states", () => {
  it("maps states to classes and words", () => {
    expect(spotClass("free")).toBe("spot-free");
    expect(spotClass("occupied")).toBe("spot-occupied");
    expect(spotClass("out_of_service")).toBe("spot-out-of-service");
    expect(spotLabel("out_of_service")).toBe("Out of service");
    expect(spotLabel("occupied")).toBe("Occupied");
    expect(spotLabel("something else")).toBe("Free");
  });
  it("marks EV and accessible spots", () => {
    expect(spotMarks({ ev: true, accessible: false })).toBe("E");
    expect(spotMarks({ ev: false, accessible: true })).toBe("A");
    expect(spotMarks({ ev: true, accessible: true })).toBe("EA");
    expect(spotMarks({ ev: false, accessible: false })).toBe("");
  });
});

describe("groupSpots", () => {
  it("groups by level in the lot's order, then zone, with counts", () => {
    const spots = [
      spot("L2-B10", "L2", "B"),
      spot("L1-A2", "L1", "A"),
      spot("L2-B9", "L2", "B"),
      spot("L1-B1", "L1", "B"),
      spot("L1-A1", "L1", "A"),
      spot("R-1", "R", "A"),
    ];
    const g = groupSpots(spots, ["L2", "L1"]);
    expect(g.map((l) => l.level)).toEqual(["L2", "L1", "R"]);
    expect(g.map((l) => l.count)).toEqual([2, 3, 1]);
    expect(g[1].zones.map((z) => z.zone)).toEqual(["A", "B"]);
    expect(g[1].zones[0].spots.map((s) => s.id)).toEqual(["L1-A1", "L1-A2"]);
    // Numbers in ids sort as numbers.
    expect(g[0].zones[0].spots.map((s) => s.id)).toEqual(["L2-B9", "L2-B10"]);
  });
  it("sorts unknown levels by name and handles no spots", () => {
    expect(groupSpots([spot("b", "2", "A"), spot("a", "10", "A")]).map((l) => l.level)).toEqual([
      "2",
      "10",
    ]);
    expect(groupSpots([])).toEqual([]);
  });
});

describe("heatColour", () => {
  it("maps the maximum to the darkest colour and zero to the lightest", () => {
    expect(heatColour(10, 10)).toBe(HEAT_COLOURS[HEAT_COLOURS.length - 1]);
    expect(heatColour(0, 10)).toBe(HEAT_COLOURS[0]);
    expect(heatColour(0, 0)).toBe(HEAT_COLOURS[0]);
    expect(heatColour(20, 10)).toBe(HEAT_COLOURS[HEAT_COLOURS.length - 1]);
  });
  it("gives small values a coloured step and grows with the value", () => {
    expect(heatColour(0.01, 10)).toBe(HEAT_COLOURS[1]);
    const idx = (v: number) => HEAT_COLOURS.indexOf(heatColour(v, 10));
    expect(idx(2)).toBeLessThan(idx(5));
    expect(idx(5)).toBeLessThan(idx(9));
  });
});

describe("barGeometry", () => {
  it("scales the largest value to the full height", () => {
    const bars = barGeometry([1, 2, 4, 0], 100, 50, 0);
    expect(bars).toHaveLength(4);
    expect(bars.map((b) => b.width)).toEqual([25, 25, 25, 25]);
    expect(bars.map((b) => b.x)).toEqual([0, 25, 50, 75]);
    expect(bars[2].height).toBe(50);
    expect(bars[2].y).toBe(0);
    expect(bars[1].height).toBe(25);
    expect(bars[1].y).toBe(25);
    expect(bars[3].height).toBe(0);
  });
  it("leaves gaps and draws nothing for all-zero data", () => {
    const bars = barGeometry([0, 0], 102, 10, 2);
    expect(bars[0].width).toBe(50);
    expect(bars[1].x).toBe(52);
    expect(bars.every((b) => b.height === 0)).toBe(true);
    expect(barGeometry([], 100, 10)).toEqual([]);
  });
  it("fits 24 bars in the width", () => {
    const bars = barGeometry(Array.from({ length: 24 }, (_, i) => i), 640, 100, 2);
    const last = bars[23];
    expect(last.x + last.width).toBeCloseTo(640);
  });
});

describe("shortcuts", () => {
  it("maps the booth keys", () => {
    expect(shortcutAction("F2")).toBe("find");
    expect(shortcutAction("F3")).toBe("lost");
    expect(shortcutAction("F4")).toBe("pay-cash");
    expect(shortcutAction("F6")).toBe("pay-card");
    expect(shortcutAction("F9")).toBe("lanes");
    expect(shortcutAction("F5")).toBeNull();
    expect(shortcutAction("a")).toBeNull();
  });
});

describe("screenText", () => {
  it("says what a lane shows", () => {
    expect(screenText({ kind: "idle" })).toBe("Idle");
    expect(screenText({ kind: "welcome", plate: null })).toBe("Welcome (plate not read)");
    expect(screenText({ kind: "welcome", plate: "AB123" })).toBe("Welcome AB123");
    expect(screenText({ kind: "pay_here", amount: "3.5", currency: "EUR", lines: [] })).toBe(
      "Pay here: 3.50 EUR",
    );
    expect(screenText({ kind: "wait_for_attendant", reason: "plate unread" })).toContain("plate unread");
    expect(screenText({ kind: "lane_closed" })).toBe("Lane closed");
    expect(screenText({ kind: "take_ticket", spot: "A1", level: "L1", way: "left" })).toBe(
      "Take ticket: spot A1, level L1 (left)",
    );
  });
});

describe("lists", () => {
  it("keeps the last N, newest first, without duplicates", () => {
    let l: string[] = [];
    for (const t of ["a", "b", "c", "d", "e", "f"]) l = prependCapped(l, t, 5);
    expect(l).toEqual(["f", "e", "d", "c", "b"]);
    expect(prependCapped([{ k: 1 }, { k: 2 }], { k: 2 }, 5, (x) => x.k)).toEqual([{ k: 2 }, { k: 1 }]);
  });
  it("replaces a device's health in place", () => {
    const a = [
      { device: "camera", ok: true },
      { device: "gate", ok: true },
    ];
    expect(upsertBy(a, { device: "gate", ok: false }, (d) => d.device)).toEqual([
      { device: "camera", ok: true },
      { device: "gate", ok: false },
    ]);
    expect(upsertBy(a, { device: "printer", ok: true }, (d) => d.device)).toHaveLength(3);
  });
});

describe("words", () => {
  it("names zones and durations", () => {
    expect(zoneLabel("L1/A")).toBe("Level L1, zone A");
    expect(zoneLabel("plain")).toBe("plain");
    expect(durationText(125)).toBe("2 h 05 min");
    expect(durationText(7)).toBe("7 min");
  });
});

describe("office and camera helpers", () => {
  it("takes today from the lot's clock, else the given date", () => {
    expect(lotToday("2025-03-01 23:59", new Date(2030, 0, 2))).toBe("2025-03-01");
    expect(lotToday(null, new Date(2030, 0, 2))).toBe("2030-01-02");
    expect(lotToday("soon", new Date(2030, 10, 12))).toBe("2030-11-12");
  });

  it("reads whole numbers only", () => {
    expect(parseWhole(" 30 ")).toBe(30);
    expect(parseWhole("0")).toBe(0);
    expect(parseWhole("0", 1)).toBeNull();
    expect(parseWhole("")).toBeNull();
    expect(parseWhole("2.5")).toBeNull();
    expect(parseWhole("-1")).toBeNull();
    expect(parseWhole("1e3")).toBeNull();
  });

  it("words a camera frame", () => {
    const f = { lane: "E1", at_local: "19:22:05", plate: "KLM4821", confidence: 0.926 };
    expect(percentText(0.926)).toBe("93%");
    expect(percentText(null)).toBeNull();
    expect(percentText(1.2)).toBe("100%");
    expect(frameAlt(f)).toBe("Camera at E1, 19:22:05: plate KLM4821 read at 93%");
    expect(frameCaption(f)).toBe("19:22:05 · KLM4821 (93%)");
    const none = { ...f, plate: null, confidence: null };
    expect(frameAlt(none)).toBe("Camera at E1, 19:22:05: no plate read");
    expect(frameCaption(none)).toBe("19:22:05 · no plate read");
    expect(frameAlt({ ...f, confidence: null })).toBe("Camera at E1, 19:22:05: plate KLM4821 read");
  });
});
