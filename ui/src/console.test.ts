// The console end to end against a mocked app: login, the map, the toast, the live feed and the
// performance hooks.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { FeedItem, Overview } from "../../ts/api";

const overview: Overview = {
  lot: "Demo Lot",
  currency: "EUR",
  timezone: "Europe/Berlin",
  now_local: "2025-03-01 09:30",
  speed: 60,
  levels: ["L1", "L2"],
  spots: [
    { id: "L2-A1", level: "L2", zone: "A", size: "standard", ev: false, accessible: false, state: "free", note: null, ticket: null, plate: null },
    { id: "L1-A1", level: "L1", zone: "A", size: "standard", ev: true, accessible: false, state: "occupied", note: null, ticket: "T1", plate: "AB123" },
    { id: "L1-A2", level: "L1", zone: "A", size: "standard", ev: false, accessible: true, state: "out_of_service", note: "flooded", ticket: null, plate: null },
  ],
  lanes: [
    { id: "in-1", kind: "entry", level: "L1", screen: { kind: "idle" }, devices: [] },
    { id: "out-1", kind: "exit", level: "L1", screen: { kind: "scan_ticket" }, devices: [] },
  ],
  zones: [{ key: "L1/A", capacity: 2, occupied: 1, free: 0 }],
  classes: [{ key: "standard", capacity: 0, occupied: 1, free: 0 }],
  demo_users: [{ user: "ann", role: "attendant", password: "pw-ann" }],
};

const handlers: { lot?: (e: FeedItem) => void } = {};

const api = {
  login: vi.fn(async (user: string) => ({ user, role: "attendant" })),
  logout: vi.fn(async () => {}),
  overview: vi.fn(async () => overview),
  feed: vi.fn(async () => [{ seq: 5, at_local: "09:00", actor: "system", kind: "entry", text: "car in" }]),
  alerts: vi.fn(async () => [
    { id: 7, kind: "unread_plate", message: "plate not read", lane: "in-1", plate: null, raised_at: "09:01" },
  ]),
  ackAlert: vi.fn(async () => {}),
  setSpotService: vi.fn(async () => {
    throw { kind: "forbidden", message: "an attendant may not take spots out of service; ask a supervisor" };
  }),
  findStay: vi.fn(async () => ({
    ticket: "T1", plate: "AB123", class: "standard", entry_local: "2025-03-01 08:00", minutes: 90,
    fee: "4.00", paid: "0.00", total: "4.00", currency: "EUR", lines: ["first hour: 2.00", "second hour: 2.00"],
    spot: "L1-A1", replacement_qr: null,
  })),
  consoleReady: vi.fn(async () => {}),
  painted: vi.fn(async () => {}),
  laneFrame: vi.fn(async () => null),
  reservations: vi.fn(async () => []),
  permits: vi.fn(async () => []),
  accounts: vi.fn(async () => []),
  vouchers: vi.fn(async () => []),
  users: vi.fn(async () => {
    throw { kind: "forbidden", message: "ann may not see the staff list; an admin manages users" };
  }),
};

vi.mock("../../ts/api", () => ({
  api,
  events: {
    lotEvent: async (f: (e: FeedItem) => void) => {
      handlers.lot = f;
      return () => {};
    },
    laneScreen: async () => () => {},
    laneNotice: async () => () => {},
    laneFrame: async () => () => {},
  },
  asApiError: (e: unknown) => e as { kind: string; message: string },
}));

const tick = () => new Promise((r) => setTimeout(r, 30));
const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div><div id="toast" role="status" aria-live="polite"></div>';
  await import("./main");
  await tick();
});

describe("console", () => {
  it("tells the app it is ready once the login form is up", async () => {
    await tick();
    expect($("#login-submit")).toBeTruthy();
    expect(api.consoleReady).toHaveBeenCalledTimes(1);
  });

  it("lists the demo users and fills the form from one", () => {
    const b = $<HTMLButtonElement>('[data-user="ann"]');
    expect(b.textContent).toContain("attendant");
    b.click();
    expect($<HTMLInputElement>("#login-user").value).toBe("ann");
    expect($<HTMLInputElement>("#login-password").value).toBe("pw-ann");
  });

  it("logs in and draws the lot", async () => {
    $<HTMLButtonElement>("#login-submit").click();
    await tick();
    expect(api.login).toHaveBeenCalledWith("ann", "pw-ann", null);
    expect($("#whoami").textContent).toBe("ann (attendant)");
    expect($("#console-view").hidden).toBe(false);
    expect($("#lot-name").textContent).toBe("Demo Lot");
    expect($("#clock").textContent).toBe("2025-03-01 09:30");
    expect($('[data-spot="L1-A1"]').dataset.state).toBe("occupied");
    expect($('[data-spot="L1-A2"]').dataset.state).toBe("out_of_service");
    // Levels in the lot's order.
    const levels = Array.from(document.querySelectorAll<HTMLElement>(".level")).map((l) => l.dataset.level);
    expect(levels).toEqual(["L1", "L2"]);
    expect($("#tab-lot").getAttribute("aria-selected")).toBe("true");
  });

  it("opens the spot panel and shows a refusal in the toast", async () => {
    $<HTMLButtonElement>('[data-spot="L1-A1"]').click();
    expect($("#spot-panel").hidden).toBe(false);
    expect($("#spot-id").textContent).toBe("L1-A1");
    expect($("#spot-ticket").textContent).toBe("T1");
    expect($("#spot-plate").textContent).toBe("AB123");
    $<HTMLInputElement>("#service-reason").value = "paint";
    $<HTMLButtonElement>("#service-toggle").click();
    await tick();
    // An occupied (in service) spot is taken out of service.
    expect(api.setSpotService).toHaveBeenCalledWith("L1-A1", false, "paint");
    expect($("#toast").classList.contains("error")).toBe(true);
    expect($("#toast").textContent).toContain("ask a supervisor");
  });

  it("shows lane cards with exit-only free exit buttons", () => {
    expect(document.querySelectorAll("[data-lane]").length).toBe(2);
    expect($('[data-lane="in-1"] [data-action="free-exit-on"]')).toBeNull();
    expect($('[data-lane="out-1"] [data-action="free-exit-on"]')).toBeTruthy();
    expect($('[data-lane="out-1"] .lane-screen').textContent).toBe("Scan ticket");
  });

  it("prepends live events and reports their paint", async () => {
    expect($("#feed li[data-seq]").dataset.seq).toBe("5");
    handlers.lot!({ seq: 6, at_local: "09:31", actor: "lane in-1", kind: "entry", text: "AB999 in" });
    expect($("#feed li").dataset.seq).toBe("6");
    await tick();
    expect(api.painted).toHaveBeenCalledWith(6);
    for (let i = 7; i < 400; i++) handlers.lot!({ seq: i, at_local: "", actor: "", kind: "k", text: "t" });
    expect(document.querySelectorAll("#feed li").length).toBe(300);
    expect($("#feed li").dataset.seq).toBe("399");
  });

  it("lists alerts with an inline note to acknowledge them", async () => {
    expect($('[data-ack="7"]')).toBeTruthy();
    $<HTMLInputElement>("#ack-note-7").value = "checked";
    $<HTMLButtonElement>('[data-ack="7"]').click();
    await tick();
    expect(api.ackAlert).toHaveBeenCalledWith(7, "checked");
  });

  it("F2 goes to the booth's find box; a found stay shows its quote", async () => {
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "F2" }));
    expect($("#tab-booth").getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement?.id).toBe("booth-find");
    $<HTMLInputElement>("#booth-find").value = "T1";
    $<HTMLButtonElement>("#booth-find-submit").click();
    await tick();
    expect($("#quote-total").textContent).toBe("4.00");
    expect(document.querySelectorAll("#quote-lines li").length).toBe(2);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "F9" }));
    expect($("#tab-lanes").getAttribute("aria-selected")).toBe("true");
  });

  it("the office tab comes after the shift tab and loads its lists when opened", async () => {
    const tabs = Array.from(document.querySelectorAll<HTMLElement>("[role=tab]")).map((t) => t.id);
    expect(tabs.slice(-2)).toEqual(["tab-shift", "tab-office"]);
    expect($("#tab-office").textContent).toBe("Office");
    expect(api.reservations).not.toHaveBeenCalled();
    $<HTMLButtonElement>("#tab-office").click();
    await tick();
    expect($("#panel-office").hidden).toBe(false);
    expect(api.reservations).toHaveBeenCalledWith(7);
    expect(api.permits).toHaveBeenCalledTimes(1);
    expect(api.accounts).toHaveBeenCalledTimes(1);
    expect(api.vouchers).toHaveBeenCalledTimes(1);
    expect(api.users).toHaveBeenCalledTimes(1);
    // The day of a new reservation is today in the lot.
    expect($<HTMLInputElement>("#res-day").value).toBe("2025-03-01");
    expect($("#users-refused").textContent).toContain("may not see the staff list");
    // Each lane was asked once for its camera's last frame.
    expect(api.laneFrame.mock.calls.map((c) => (c as unknown[])[0])).toEqual(["in-1", "out-1"]);
  });
});
