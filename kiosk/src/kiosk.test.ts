import axe from "axe-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountKiosk, type Kiosk } from "./kiosk";
import type { KioskApi, LaneScreen, Screen } from "./types";

function fakeApp(first: Screen = { kind: "idle" }) {
  let listener: ((e: LaneScreen) => void) | null = null;
  const api = {
    laneScreen: vi.fn<KioskApi["laneScreen"]>(async () => first),
    pressTicket: vi.fn<KioskApi["pressTicket"]>(async () => {}),
    payAgain: vi.fn<KioskApi["payAgain"]>(async () => {}),
    unlockKiosk: vi.fn<KioskApi["unlockKiosk"]>(async () => {}),
  };
  const events = {
    laneScreen: async (f: (e: LaneScreen) => void) => {
      listener = f;
      return () => {
        listener = null;
      };
    },
  };
  const emit = (lane: string, screen: Screen) => listener?.({ lane, screen });
  return { api, events, emit };
}

const $ = <T extends HTMLElement = HTMLElement>(sel: string) =>
  document.querySelector<T>(sel) as T;
const flush = () => new Promise((r) => setTimeout(r, 0));

let kiosk: Kiosk | null = null;
afterEach(() => {
  kiosk?.destroy();
  kiosk = null;
  document.body.innerHTML = "";
});

describe("kiosk page", () => {
  it("draws the lane's screen and follows only this lane's events", async () => {
    const app = fakeApp({ kind: "idle" });
    kiosk = mountKiosk(document, { lane: "E1", lang: "en", ...app });
    await kiosk.ready;
    expect(app.api.laneScreen).toHaveBeenCalledWith("E1");
    const screen = $("#screen");
    expect(screen.dataset.kind).toBe("idle");
    expect(screen.getAttribute("aria-live")).toBe("polite");
    expect($("#attract")).not.toBeNull();
    expect(screen.querySelector("h1")?.textContent).toBe("Welcome to Gatehouse Parking");

    app.emit("X9", { kind: "full" });
    expect(screen.dataset.kind).toBe("idle");
    app.emit("E1", { kind: "full" });
    expect(screen.dataset.kind).toBe("full");
    expect($("#full").textContent).toBe("FULL");
    expect(document.title).toBe("Gatehouse parking: lane E1");
  });

  it("a press sends the choice, disables the buttons and says printing", async () => {
    const app = fakeApp({ kind: "press_for_ticket" });
    kiosk = mountKiosk(document, { lane: "E1", lang: "en", ...app });
    await kiosk.ready;
    for (const id of ["standard", "charger", "accessible", "motorcycle"])
      expect($(`#ticket-${id}`).tagName).toBe("BUTTON");
    $("#ticket-charger").click();
    expect(app.api.pressTicket).toHaveBeenCalledWith("E1", "charger");
    expect($<HTMLButtonElement>("#ticket-standard").disabled).toBe(true);
    expect($("#status").textContent).toBe("Printing your ticket…");
    app.emit("E1", { kind: "take_ticket", spot: "C-4", level: "1", way: "straight on" });
    expect($("#spot").textContent).toBe("C-4");
    expect($("#level").textContent).toBe("1");
    expect($("#way").textContent).toBe("straight on");
    expect($("#way-map").getAttribute("role")).toBe("img");
    expect($("#way-map").textContent).toContain("Spot C-4");
  });

  it("shows a failed call's message in #kiosk-error and frees the buttons", async () => {
    const app = fakeApp({ kind: "press_for_ticket" });
    app.api.pressTicket.mockRejectedValueOnce({ kind: "device", message: "printer out of paper" });
    kiosk = mountKiosk(document, { lane: "E1", lang: "en", ...app });
    await kiosk.ready;
    $("#ticket-standard").click();
    await flush();
    expect($("#kiosk-error").getAttribute("role")).toBe("alert");
    expect($("#kiosk-error").textContent).toContain("printer out of paper");
    expect($<HTMLButtonElement>("#ticket-standard").disabled).toBe(false);
  });

  it("switches language, re-draws and marks the pressed button", async () => {
    const app = fakeApp({
      kind: "pay_here",
      amount: "12.00",
      currency: "EUR",
      lines: ["2 h", "Day rate"],
    });
    kiosk = mountKiosk(document, { lane: "X1", lang: "en", ...app });
    await kiosk.ready;
    expect($("#amount").textContent).toBe("€12.00");
    expect(document.querySelectorAll("#lines li")).toHaveLength(2);
    $("[data-lang=de]").click();
    expect(document.documentElement.lang).toBe("de");
    expect($("[data-lang=de]").getAttribute("aria-pressed")).toBe("true");
    expect($("[data-lang=en]").getAttribute("aria-pressed")).toBe("false");
    expect($("h1").textContent).toBe("Bitte bezahlen");
    expect($("#amount").textContent?.replace(/\s/g, " ")).toBe("12,00 €");
    expect($("#screen").textContent).toContain("Halten Sie Ihre Karte an das Terminal.");
  });

  it("the pay screen offers a voucher or a prepaid card at the scanner, below the card, in German", async () => {
    const app = fakeApp({ kind: "pay_here", amount: "7.50", currency: "EUR", lines: ["1 h 30 min"] });
    kiosk = mountKiosk(document, { lane: "X1", lang: "de", ...app });
    await kiosk.ready;
    const note = $("#note");
    expect(note.tagName).toBe("P");
    expect(note.className).toBe("note");
    expect(note.textContent).toBe(
      "Keine Karte? Scannen Sie einen Parkgutschein oder Ihre Prepaid-Karte am Scanner.",
    );
    // After the amount and the card instruction.
    const card = Array.from(document.querySelectorAll("#screen .body")).find(
      (p) => p.textContent === "Halten Sie Ihre Karte an das Terminal.",
    )!;
    expect(card.compareDocumentPosition(note) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect($("#amount").compareDocumentPosition(note) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    // Only on the pay screen.
    kiosk.show({ kind: "declined", reason: "card declined", amount: "7.50", currency: "EUR", retry_seconds: 30 });
    expect($("#note")).toBeNull();
  });

  it("shows a lane with no id as an error", async () => {
    const app = fakeApp();
    kiosk = mountKiosk(document, { lane: null, lang: "es", ...app });
    await kiosk.ready;
    expect(app.api.laneScreen).not.toHaveBeenCalled();
    expect($("#kiosk-error").textContent).toContain("?lane=ID");
  });

  describe("with fake timers", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("declined: pay again, the lane's retry window counted down, then the attendant", () => {
      const app = fakeApp();
      kiosk = mountKiosk(document, { lane: "X1", lang: "en", ...app });
      const declined = { kind: "declined", reason: "card expired", amount: "3.00", currency: "EUR" } as const;
      kiosk.show({ ...declined, retry_seconds: 30 });
      expect($("#reason").textContent).toBe("card expired");
      expect($("#countdown").textContent).toBe("30 seconds left to pay again");
      vi.advanceTimersByTime(12_000);
      expect($("#countdown").textContent).toBe("18 seconds left to pay again");
      $("#pay-again").click();
      expect(app.api.payAgain).toHaveBeenCalledWith("X1");
      vi.advanceTimersByTime(18_000);
      // The lane's window is up: it has called the attendant and says so.
      kiosk.show({ ...declined, retry_seconds: 0 });
      expect($("#countdown").textContent).toBe("The attendant has been called; you can still pay again.");
      expect($("#pay-again")).not.toBeNull();
      // A new decline starts a new countdown, as long as the lane gives.
      kiosk.show({ ...declined, retry_seconds: 20 });
      expect($("#countdown").textContent).toBe("20 seconds left to pay again");
    });

    it("the staff PIN: wrong PIN shows an error, cancel closes, 20 s closes it visibly", async () => {
      const app = fakeApp();
      app.api.unlockKiosk.mockRejectedValue({
        kind: "forbidden",
        message: "that PIN is not the kiosk's admin PIN",
      });
      kiosk = mountKiosk(document, { lane: "E1", lang: "en", ...app });
      const dialog = $("#pin-dialog");
      expect(dialog.hidden).toBe(true);
      $("#admin").click();
      expect(dialog.hidden).toBe(false);
      expect($("#main").inert).toBe(true);
      const pin = $<HTMLInputElement>("#pin");
      expect(pin.type).toBe("password");
      expect(pin.inputMode).toBe("numeric");
      for (const d of ["1", "2", "3", "4"]) $(`[data-digit="${d}"]`).click();
      expect(pin.value).toBe("1234");
      $("#pin-submit").click();
      expect(app.api.unlockKiosk).toHaveBeenCalledWith("1234");
      await vi.advanceTimersByTimeAsync(0);
      expect($("#pin-error").textContent).toBe("Wrong PIN. Please try again.");
      $("#pin-cancel").click();
      expect(dialog.hidden).toBe(true);
      expect($("#main").inert).toBe(false);

      $("#admin").click();
      expect($("#pin-error").textContent).toBe("");
      expect($("#pin-countdown").textContent).toBe("This closes in 20 seconds.");
      vi.advanceTimersByTime(5_000);
      expect($("#pin-countdown").textContent).toBe("This closes in 15 seconds.");
      vi.advanceTimersByTime(15_000);
      expect(dialog.hidden).toBe(true);
    });

    it("a right PIN asks the app to close the kiosk", async () => {
      const app = fakeApp();
      kiosk = mountKiosk(document, { lane: "E1", lang: "en", ...app });
      $("#admin").click();
      $<HTMLInputElement>("#pin").value = "9876";
      $("#pin-submit").click();
      expect(app.api.unlockKiosk).toHaveBeenCalledWith("9876");
      await vi.advanceTimersByTimeAsync(0);
      expect($("#pin-error").textContent).toBe("");
    });
  });
});

describe("accessibility (axe-core)", () => {
  const screens: Screen[] = [
    { kind: "idle" },
    { kind: "welcome", plate: "AB 123" },
    { kind: "press_for_ticket" },
    { kind: "take_ticket", spot: "B-17", level: "2", way: "ramp up, then left" },
    { kind: "proceed", plate: "AB 123", spot: "B-17", level: "2", way: "ramp up, then left" },
    { kind: "full" },
    { kind: "refused", reason: "no spot" },
    { kind: "wait_for_attendant", reason: "ticket unreadable" },
    { kind: "lane_closed" },
    { kind: "scan_ticket" },
    { kind: "pay_here", amount: "12.00", currency: "EUR", lines: ["2 h 10 min"] },
    { kind: "declined", reason: "card declined", amount: "12.00", currency: "EUR", retry_seconds: 30 },
    { kind: "unpaid", amount: "12.00", currency: "EUR", how: "pay online" },
    { kind: "goodbye", plate: null },
    { kind: "free_exit" },
  ];

  it("has no serious or critical violations on any screen, nor with the PIN dialog open", async () => {
    const app = fakeApp();
    kiosk = mountKiosk(document, { lane: "E1", lang: "de", ...app });
    const bad: string[] = [];
    const check = async (what: string) => {
      // jsdom has no layout, so colour contrast is checked in the real app (and by the CSS choices).
      const r = await axe.run(document, { rules: { "color-contrast": { enabled: false } } });
      for (const v of r.violations)
        if (v.impact === "serious" || v.impact === "critical") bad.push(`${what}: ${v.id}`);
    };
    for (const s of screens) {
      kiosk.show(s);
      await check(s.kind);
    }
    $("#admin").click();
    await check("pin dialog");
    expect(bad).toEqual([]);
  });
});
