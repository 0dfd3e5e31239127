import { describe, expect, it } from "vitest";
import { TICKET_CHOICES, type Screen } from "./types";
import { view } from "./view";

const opts = { lane: "E1" };
const way = { spot: "B-017", level: "2", way: "up the ramp, then left" };

describe("view", () => {
  it("press_for_ticket offers the four choices, the big standard one first", () => {
    const vm = view({ kind: "press_for_ticket" }, "en", opts);
    expect(vm.heading).toBe("Press for ticket");
    expect(vm.buttons.map((b) => b.id)).toEqual([
      "ticket-standard",
      "ticket-charger",
      "ticket-accessible",
      "ticket-motorcycle",
    ]);
    expect(vm.buttons.map((b) => b.action)).toEqual(
      TICKET_CHOICES.map((choice) => ({ type: "ticket", choice })),
    );
    expect(vm.buttons.filter((b) => b.primary).map((b) => b.id)).toEqual(["ticket-standard"]);
    expect(vm.buttons.every((b) => !b.disabled && b.text.length > 0)).toBe(true);
    expect(vm.status).toBeUndefined();
  });

  it("after a press, the choices are off and it says printing", () => {
    const vm = view({ kind: "press_for_ticket" }, "de", { ...opts, printing: true });
    expect(vm.buttons.every((b) => b.disabled)).toBe(true);
    expect(vm.status).toBe("Ihr Ticket wird gedruckt…");
    expect(vm.buttons[2].text).toBe("Barrierefreier Stellplatz");
  });

  it("welcome shows the plate and already offers the choices", () => {
    const vm = view({ kind: "welcome", plate: "M-AB 123" }, "en", opts);
    expect(vm.heading).toBe("Welcome");
    expect(vm.plate).toBe("Number plate: M-AB 123");
    expect(vm.buttons).toHaveLength(4);
    const reading = view({ kind: "welcome", plate: null }, "en", opts);
    expect(reading.plate).toBeUndefined();
    expect(reading.body[0]).toBe("Reading your number plate…");
  });

  it("take_ticket and proceed give spot, level, way and a map", () => {
    const take = view({ kind: "take_ticket", ...way }, "en", opts);
    expect(take.heading).toBe("Take your ticket");
    expect(take.facts.map((f) => [f.id, f.value])).toEqual([
      ["spot", "B-017"],
      ["level", "2"],
      ["way", "up the ramp, then left"],
    ]);
    expect(take.map).toMatchObject({ lane: "Lane E1", level: "Level 2", spot: "Spot B-017" });
    const proceed = view({ kind: "proceed", plate: "AB 1", ...way }, "es", opts);
    expect(proceed.heading).toBe("Bienvenido, AB 1");
    expect(proceed.facts[0].label).toBe("Su plaza");
    expect(proceed.map?.label).toBe("Mapa: del carril E1 a la planta 2, plaza B-017");
  });

  it("full says FULL big", () => {
    expect(view({ kind: "full" }, "en", opts).big).toEqual({ id: "full", text: "FULL" });
    expect(view({ kind: "full" }, "de", opts).big?.text).toBe("BESETZT");
  });

  it("shows the lane's reason as given under a translated heading", () => {
    for (const kind of ["refused", "wait_for_attendant"] as const) {
      const vm = view({ kind, reason: "barrier fault" }, "de", opts);
      expect(vm.reason).toBe("barrier fault");
      expect(vm.heading).not.toBe("");
      expect(vm.heading).not.toMatch(/\./);
    }
  });

  it("pay_here shows the amount, the lines and the ways to pay", () => {
    const s: Screen = {
      kind: "pay_here",
      amount: "12.00",
      currency: "EUR",
      lines: ["2 h 10 min", "Standard tariff"],
    };
    const vm = view(s, "en", opts);
    expect(vm.big).toMatchObject({ id: "amount", text: "€12.00" });
    expect(vm.lines?.items).toEqual(["2 h 10 min", "Standard tariff"]);
    expect(vm.body).toContain("Present your card at the terminal.");
    expect(vm.note).toMatch(/voucher.*prepaid card at the scanner/);
    expect(view(s, "de", opts).big?.text.replace(/\s/g, " ")).toBe("12,00 €");
  });

  it("pay_here adds a smaller line: a voucher or prepaid card at the scanner", () => {
    const s: Screen = { kind: "pay_here", amount: "12.00", currency: "EUR", lines: [] };
    expect(view(s, "en", opts).note).toBe(
      "No card? Scan a parking voucher or your prepaid card at the scanner.",
    );
    expect(view(s, "de", opts).note).toBe(
      "Keine Karte? Scannen Sie einen Parkgutschein oder Ihre Prepaid-Karte am Scanner.",
    );
    expect(view(s, "es", opts).note).toMatch(/^¿No tiene tarjeta\?/);
    expect(view({ kind: "declined", reason: "x", amount: "1", currency: "EUR", retry_seconds: 30 }, "de", opts).note).toBeUndefined();
  });

  it("declined offers pay-again and a visible countdown, then asks for the attendant", () => {
    const s: Screen = { kind: "declined", reason: "card declined", amount: "4.50", currency: "EUR", retry_seconds: 30 };
    const vm = view(s, "en", opts);
    expect(vm.buttons.map((b) => [b.id, b.action.type, b.disabled])).toEqual([
      ["pay-again", "pay_again", false],
    ]);
    expect(vm.reason).toBe("card declined");
    expect(vm.big?.text).toBe("€4.50");
    expect(vm.countdown).toBe("30 seconds left to pay again");
    expect(view(s, "en", { ...opts, secondsLeft: 7 }).countdown).toBe("7 seconds left to pay again");
    expect(view(s, "en", { ...opts, secondsLeft: 0 }).countdown).toBe(
      "The attendant has been called; you can still pay again.",
    );
    expect(view({ ...s, retry_seconds: 0 }, "en", opts).countdown).toBe(
      "The attendant has been called; you can still pay again.",
    );
  });

  it("unpaid shows the amount and how to pay", () => {
    const vm = view(
      { kind: "unpaid", amount: "8.00", currency: "EUR", how: "pay online within 7 days" },
      "en",
      opts,
    );
    expect(vm.big?.text).toBe("€8.00");
    expect(vm.how).toBe("How to pay: pay online within 7 days");
  });

  it("every kind has a heading and no buttons unless it asks for a press", () => {
    const all: Screen[] = [
      { kind: "idle" },
      { kind: "lane_closed" },
      { kind: "scan_ticket" },
      { kind: "goodbye", plate: "AB 1" },
      { kind: "goodbye", plate: null },
      { kind: "free_exit" },
      { kind: "full" },
    ];
    for (const s of all) {
      const vm = view(s, "es", opts);
      expect(vm.kind).toBe(s.kind);
      expect(vm.heading.length, s.kind).toBeGreaterThan(0);
      expect(vm.buttons, s.kind).toEqual([]);
    }
    expect(view({ kind: "idle" }, "en", opts).attract).toBe(true);
    expect(view({ kind: "goodbye", plate: null }, "en", opts).heading).toBe(
      "Thank you — have a safe journey",
    );
  });
});
