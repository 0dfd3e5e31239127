// The lane cards against a mocked app: the camera's last frame per lane, and the demo's vehicle
// paying with a voucher or prepaid card.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { LaneFrameView, LaneKind, LaneView, Overview } from "../../ts/api";

const m = vi.hoisted(() => ({
  api: {
    laneFrame: vi.fn(async (lane: string): Promise<LaneFrameView | null> =>
      lane === "X1"
        ? { lane: "X1", at_local: "19:20:00", plate: null, confidence: null, image: "data:image/jpeg;base64,WDE=" }
        : null,
    ),
    sendVehicle: vi.fn(async () => "sent"),
  },
}));

vi.mock("../../ts/api", () => ({
  api: m.api,
  asApiError: (e: unknown) => e as { kind: string; message: string },
}));

import { laneFrame, lanesView } from "./lanes";
import { setOverview } from "./state";

const api = m.api;
const tick = () => new Promise((r) => setTimeout(r, 20));
const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

const lane = (id: string, kind: LaneKind): LaneView => ({ id, kind, level: "L1", screen: { kind: "idle" }, devices: [] });

function overview(lanes: LaneView[]): Overview {
  return {
    lot: "Demo Lot",
    currency: "EUR",
    timezone: "Europe/Berlin",
    now_local: "2025-03-01 19:22",
    speed: 60,
    levels: ["L1"],
    spots: [],
    lanes,
    zones: [],
    classes: [],
    demo_users: [],
  };
}

const frame = (over: Partial<LaneFrameView> = {}): LaneFrameView => ({
  lane: "E1",
  at_local: "19:22:05",
  plate: "KLM4821",
  confidence: 0.93,
  image: "data:image/jpeg;base64,RTE=",
  ...over,
});

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div><div id="toast" role="status" aria-live="polite"></div>';
  $("#app").append(lanesView());
  setOverview(overview([lane("E1", "entry"), lane("X1", "exit")]));
  await tick();
});

describe("lane camera frames", () => {
  it("asks once per lane for the last frame and shows it, or a placeholder", async () => {
    expect(api.laneFrame.mock.calls.map((c) => c[0])).toEqual(["E1", "X1"]);
    const e1 = $<HTMLImageElement>("[data-lane='E1'] .lane-frame");
    expect(e1.hidden).toBe(true);
    expect($("[data-lane='E1'] .lane-frame-caption").textContent).toBe("No camera frame yet");
    const x1 = $<HTMLImageElement>("[data-lane='X1'] .lane-frame");
    expect(x1.hidden).toBe(false);
    expect(x1.getAttribute("src")).toBe("data:image/jpeg;base64,WDE=");
    expect(x1.alt).toBe("Camera at X1, 19:20:00: no plate read");
    expect($("[data-lane='X1'] .lane-frame-caption").textContent).toContain("no plate read");
    // Another overview does not ask again.
    setOverview(overview([lane("E1", "entry"), lane("X1", "exit")]));
    await tick();
    expect(api.laneFrame).toHaveBeenCalledTimes(2);
  });

  it("a frame event updates only that lane's picture and caption", () => {
    const x1Card = $("[data-lane='X1']");
    const x1Before = x1Card.innerHTML;
    const e1Img = $<HTMLImageElement>("[data-lane='E1'] .lane-frame");
    laneFrame(frame());
    // The same elements, updated in place.
    expect($("[data-lane='E1'] .lane-frame")).toBe(e1Img);
    expect(e1Img.hidden).toBe(false);
    expect(e1Img.getAttribute("src")).toBe("data:image/jpeg;base64,RTE=");
    expect(e1Img.alt).toBe("Camera at E1, 19:22:05: plate KLM4821 read at 93%");
    const caption = $("[data-lane='E1'] .lane-frame-caption").textContent ?? "";
    expect(caption).toContain("KLM4821");
    expect(caption).toContain("93%");
    expect($("[data-lane='X1']")).toBe(x1Card);
    expect(x1Card.innerHTML).toBe(x1Before);

    laneFrame(frame({ plate: null, confidence: null, at_local: "19:22:06", image: "data:image/jpeg;base64,Mg==" }));
    expect(e1Img.getAttribute("src")).toBe("data:image/jpeg;base64,Mg==");
    expect($("[data-lane='E1'] .lane-frame-caption").textContent).toBe("19:22:06 · no plate read");
  });

  it("keeps the latest frame when the cards are drawn again", async () => {
    laneFrame(frame({ confidence: 0.5 }));
    setOverview(overview([lane("E1", "entry"), lane("E2", "entry"), lane("X1", "exit")]));
    await tick();
    expect(document.querySelectorAll("[data-lane]")).toHaveLength(3);
    expect($<HTMLImageElement>("[data-lane='E1'] .lane-frame").getAttribute("src")).toBe("data:image/jpeg;base64,RTE=");
    expect($("[data-lane='E1'] .lane-frame-caption").textContent).toBe("19:22:05 · KLM4821 (50%)");
    // Only the new lane was asked.
    expect(api.laneFrame.mock.calls.map((c) => c[0])).toEqual(["E1", "X1", "E2"]);
  });

  it("asks again with the next overview when asking failed", async () => {
    api.laneFrame.mockClear();
    api.laneFrame.mockRejectedValueOnce({ kind: "unavailable", message: "starting" });
    const lanes = [lane("E1", "entry"), lane("E2", "entry"), lane("X1", "exit"), lane("X2", "exit")];
    setOverview(overview(lanes));
    await tick();
    expect(api.laneFrame.mock.calls.map((c) => c[0])).toEqual(["X2"]);
    setOverview(overview(lanes));
    await tick();
    setOverview(overview(lanes));
    await tick();
    expect(api.laneFrame.mock.calls.map((c) => c[0])).toEqual(["X2", "X2"]);
  });
});

describe("the demo's send a vehicle", () => {
  it("passes what the vehicle pays with, or null", async () => {
    expect($("label[for='send-pays-with']").textContent).toBe(
      "Pays with (voucher or prepaid card code; exit lanes)",
    );
    $<HTMLSelectElement>("#send-lane").value = "X1";
    $<HTMLInputElement>("#send-plate").value = " AB123 ";
    $<HTMLInputElement>("#send-pays-with").value = "  GH1.voucher.9  ";
    $<HTMLButtonElement>("#send-vehicle").click();
    await tick();
    expect(api.sendVehicle).toHaveBeenLastCalledWith("X1", "AB123", "GH1.voucher.9");
    $<HTMLInputElement>("#send-pays-with").value = "   ";
    $<HTMLButtonElement>("#send-vehicle").click();
    await tick();
    expect(api.sendVehicle).toHaveBeenLastCalledWith("X1", "AB123", null);
  });
});
