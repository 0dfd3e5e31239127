// The lanes tab: a card per lane with its screen, its camera's last frame, device health and
// notices, and the lane actions; the demo's "send a vehicle" control.
import {
  api,
  type DeviceHealth,
  type LaneFrameView,
  type LaneNoticeView,
  type LaneScreen,
  type LaneView,
  type Overview,
} from "../../ts/api";
import { act, button, byId, field, h } from "./dom";
import {
  frameAlt,
  frameCaption,
  prependCapped,
  screenNeedsAttention,
  screenText,
  upsertBy,
} from "./format";
import { onOverview } from "./state";

interface LaneState {
  devices: DeviceHealth[];
  notices: string[];
  /** The camera's last frame of a vehicle, if any yet. */
  frame: LaneFrameView | null;
  /** The app was asked for the last frame (once per lane). */
  frameAsked: boolean;
}

const lanes = new Map<string, LaneState>();
let laneKey = "";

function laneState(id: string): LaneState {
  let s = lanes.get(id);
  if (!s) lanes.set(id, (s = { devices: [], notices: [], frame: null, frameAsked: false }));
  return s;
}

export function lanesView(): HTMLElement {
  const sendBtn = button("send-vehicle", "Send vehicle");
  const view = h(
    "div",
    { class: "lanes-layout" },
    h(
      "div",
      { class: "toolbar" },
      field("lane-reason", "Reason for lane actions (required)", { autocomplete: "off" }),
      h(
        "fieldset",
        { class: "send" },
        h("legend", {}, "Demo: send a vehicle"),
        field("send-lane", "Lane", {}, "select"),
        field("send-plate", "Plate (empty = unreadable)", { autocomplete: "off" }),
        field("send-pays-with", "Pays with (voucher or prepaid card code; exit lanes)", {
          autocomplete: "off",
        }),
        sendBtn,
      ),
    ),
    h("div", { id: "lane-cards", class: "lane-cards" }),
  );
  sendBtn.addEventListener("click", () => {
    const lane = byId<HTMLSelectElement>("send-lane").value;
    const plate = byId<HTMLInputElement>("send-plate").value.trim();
    const paysWith = byId<HTMLInputElement>("send-pays-with").value.trim() || null;
    void act(
      sendBtn,
      () => api.sendVehicle(lane, plate, paysWith),
      (msg) => msg || `Vehicle sent to ${lane}.`,
    );
  });
  view.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const card = b?.closest<HTMLElement>("[data-lane]");
    if (!b || !card?.dataset.lane) return;
    laneAction(b, card.dataset.lane, b.dataset.action ?? "");
  });
  onOverview(render);
  return view;
}

function laneAction(b: HTMLButtonElement, lane: string, action: string): void {
  const why = byId<HTMLInputElement>("lane-reason").value;
  const runs: Record<string, [() => Promise<void>, string]> = {
    "open-gate": [() => api.openGate(lane, why), `Gate of ${lane} opened.`],
    "close-lane": [() => api.setLaneOpen(lane, false, why), `Lane ${lane} closed.`],
    "reopen-lane": [() => api.setLaneOpen(lane, true, why), `Lane ${lane} reopened.`],
    "free-exit-on": [() => api.setFreeExit(lane, true, why), `Free exit on at ${lane}.`],
    "free-exit-off": [() => api.setFreeExit(lane, false, why), `Free exit off at ${lane}.`],
  };
  const r = runs[action];
  if (!r) return;
  void act(b, r[0], () => r[1]);
}

function card(l: LaneView): HTMLElement {
  const isExit = l.kind === "exit";
  const c = h(
    "article",
    { class: "lane-card", "data-lane": l.id, "data-kind": l.kind, "aria-labelledby": `lane-title-${l.id}` },
    h(
      "h3",
      { id: `lane-title-${l.id}` },
      `${l.id} `,
      h("span", { class: "lane-kind" }, `${l.kind || "lane"}${l.level ? ` · level ${l.level}` : ""}`),
    ),
    h("p", { class: "lane-screen", "aria-live": "polite" }, screenText(l.screen)),
    h(
      "figure",
      { class: "lane-camera empty" },
      h("img", { class: "lane-frame", alt: "", hidden: true }),
      h("figcaption", { class: "lane-frame-caption" }, "No camera frame yet"),
    ),
    h("h4", {}, "Devices"),
    h("ul", { class: "lane-devices" }),
    h("h4", {}, "Last notices"),
    h("ol", { class: "lane-notices" }),
    h(
      "div",
      { class: "lane-actions" },
      button(null, "Open gate", { "data-action": "open-gate" }),
      button(null, "Close lane", { "data-action": "close-lane" }),
      button(null, "Reopen lane", { "data-action": "reopen-lane" }),
      isExit && button(null, "Free exit on", { "data-action": "free-exit-on" }),
      isExit && button(null, "Free exit off", { "data-action": "free-exit-off" }),
    ),
  );
  c.classList.toggle("attention", screenNeedsAttention(l.screen));
  c.dataset.screen = l.screen.kind;
  return c;
}

function render(o: Overview): void {
  const key = o.lanes.map((l) => `${l.id}:${l.kind}`).join(",");
  if (key !== laneKey) {
    laneKey = key;
    byId("lane-cards").replaceChildren(...o.lanes.map(card));
    const sel = byId<HTMLSelectElement>("send-lane");
    const was = sel.value;
    sel.replaceChildren(
      ...o.lanes.map((l) => h("option", { value: l.id }, `${l.id} (${l.kind})`)),
    );
    if (o.lanes.some((l) => l.id === was)) sel.value = was;
    for (const l of o.lanes) {
      for (const d of l.devices) laneState(l.id).devices = upsertBy(laneState(l.id).devices, d, (x) => x.device);
      drawLists(l.id);
      drawFrame(l.id);
    }
  }
  for (const l of o.lanes) {
    setScreen({ lane: l.id, screen: l.screen });
    askFrame(l.id);
  }
}

/** Ask the app once for a lane's last frame (later ones come as events); again if that failed. */
function askFrame(lane: string): void {
  const s = laneState(lane);
  if (s.frameAsked) return;
  s.frameAsked = true;
  api.laneFrame(lane).then(
    (f) => {
      // A frame that came as an event meanwhile is newer.
      if (f && !s.frame) laneFrame(f);
    },
    (e) => {
      s.frameAsked = false;
      console.warn("lane frame", lane, e);
    },
  );
}

function cardOf(lane: string): HTMLElement | null {
  for (const c of document.querySelectorAll<HTMLElement>(".lane-card[data-lane]")) {
    if (c.dataset.lane === lane) return c;
  }
  return null;
}

export function setScreen(e: LaneScreen): void {
  const c = cardOf(e.lane);
  if (!c) return;
  const el = c.querySelector(".lane-screen")!;
  const text = screenText(e.screen);
  if (el.textContent !== text) el.textContent = text;
  c.dataset.screen = e.screen.kind;
  c.classList.toggle("attention", screenNeedsAttention(e.screen));
}

export function laneNotice(n: LaneNoticeView): void {
  const s = laneState(n.lane);
  s.notices = prependCapped(s.notices, n.text, 5);
  if (n.device) s.devices = upsertBy(s.devices, n.device, (d) => d.device);
  drawLists(n.lane);
}

function drawLists(lane: string): void {
  const c = cardOf(lane);
  if (!c) return;
  const s = laneState(lane);
  c.querySelector(".lane-devices")!.replaceChildren(
    ...(s.devices.length
      ? s.devices.map((d) =>
          h(
            "li",
            { "data-device": d.device, class: d.ok ? "ok" : "bad" },
            h("span", { class: "dot", "aria-hidden": "true" }),
            `${d.device}: ${d.ok ? "OK" : "fault"}${d.reason ? ` — ${d.reason}` : ""}`,
          ),
        )
      : [h("li", { class: "muted" }, "No device reports yet")]),
  );
  c.querySelector(".lane-notices")!.replaceChildren(...s.notices.map((t) => h("li", {}, t)));
}

/** A lane camera's new frame: only that card's picture and caption change. */
export function laneFrame(f: LaneFrameView): void {
  laneState(f.lane).frame = f;
  drawFrame(f.lane);
}

function drawFrame(lane: string): void {
  const c = cardOf(lane);
  const f = laneState(lane).frame;
  if (!c || !f) return;
  const fig = c.querySelector<HTMLElement>(".lane-camera")!;
  const img = fig.querySelector<HTMLImageElement>(".lane-frame")!;
  if (img.getAttribute("src") !== f.image) img.src = f.image;
  img.alt = frameAlt(f);
  img.hidden = false;
  fig.classList.remove("empty");
  fig.querySelector(".lane-frame-caption")!.textContent = frameCaption(f);
}
