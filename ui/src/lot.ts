// The lot tab: the map per level and zone, the counts, and the spot panel.
import { api, type Overview, type Spot } from "../../ts/api";
import { act, button, byId, field, h, toast } from "./dom";
import { groupSpots, spotClass, spotLabel, spotMarks, spotState, zoneLabel } from "./format";
import { onOverview, state } from "./state";

let layoutKey = "";
const spotEls = new Map<string, HTMLButtonElement>();
let selected: string | null = null;
let refresh: () => void = () => {};

export function lotView(refreshOverview: () => void): HTMLElement {
  refresh = refreshOverview;
  const legend = h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    h("li", {}, h("span", { class: "spot spot-free sample" }), "Free"),
    h("li", {}, h("span", { class: "spot spot-occupied sample" }), "Occupied"),
    h("li", {}, h("span", { class: "spot spot-out-of-service sample" }), "Out of service"),
    h("li", {}, h("span", { class: "spot spot-free sample ev" }, "E"), "EV charger"),
    h("li", {}, h("span", { class: "spot spot-free sample accessible" }, "A"), "Accessible"),
  );
  const map = h("div", { id: "lot-map", class: "lot-map", tabindex: 0, "aria-label": "Lot map" });
  const side = h(
    "aside",
    { class: "lot-side" },
    h(
      "section",
      { "aria-labelledby": "zones-title" },
      h("h3", { id: "zones-title" }, "Zones"),
      h(
        "table",
        { id: "zone-counts", class: "counts" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Zone"),
            h("th", { scope: "col" }, "Occupied"),
            h("th", { scope: "col" }, "Free"),
            h("th", { scope: "col" }, "Capacity"),
          ),
        ),
        h("tbody", {}),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "classes-title" },
      h("h3", { id: "classes-title" }, "Vehicles by class"),
      h("ul", { id: "class-counts", class: "class-counts" }),
    ),
    spotPanel(),
  );
  const view = h(
    "div",
    { class: "lot-layout" },
    h("div", { class: "lot-main" }, legend, map),
    side,
  );
  map.addEventListener("click", (ev) => {
    const t = (ev.target as HTMLElement).closest<HTMLElement>("[data-spot]");
    if (t?.dataset.spot) selectSpot(t.dataset.spot);
  });
  onOverview(render);
  return view;
}

function spotPanel(): HTMLElement {
  const dl = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Spot"),
    h("dd", { id: "spot-id" }),
    h("dt", {}, "State"),
    h("dd", { id: "spot-state" }),
    h("dt", {}, "Ticket"),
    h("dd", { id: "spot-ticket" }),
    h("dt", {}, "Plate"),
    h("dd", { id: "spot-plate" }),
    h("dt", {}, "Kind"),
    h("dd", { id: "spot-kind" }),
    h("dt", {}, "Note"),
    h("dd", { id: "spot-note" }),
  );
  const overrideBtn = button("override-submit", "Move stay to spot");
  const serviceBtn = button("service-toggle", "Take out of service");
  const panel = h(
    "section",
    { id: "spot-panel", class: "spot-panel", hidden: true, "aria-labelledby": "spot-panel-title" },
    h(
      "div",
      { class: "panel-head" },
      h("h3", { id: "spot-panel-title" }, "Spot"),
      button("spot-close", "Close", { class: "small" }),
    ),
    dl,
    h(
      "fieldset",
      {},
      h("legend", {}, "Supervisor: override the spot"),
      field("override-target", "Target spot id", { autocomplete: "off" }),
      field("override-reason", "Reason", { autocomplete: "off" }),
      overrideBtn,
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Supervisor: spot service"),
      field("service-reason", "Reason", { autocomplete: "off" }),
      serviceBtn,
    ),
  );
  panel.querySelector("#spot-close")!.addEventListener("click", () => {
    const was = selected;
    selected = null;
    panel.hidden = true;
    if (was) spotEls.get(was)?.focus();
  });
  overrideBtn.addEventListener("click", () => {
    const spot = currentSpot();
    if (!spot) return;
    if (!spot.ticket) {
      toast(`Spot ${spot.id} holds no stay to move.`, true);
      return;
    }
    const ticket = spot.ticket;
    const target = byId<HTMLInputElement>("override-target").value.trim();
    const why = byId<HTMLInputElement>("override-reason").value;
    void act(
      overrideBtn,
      () => api.overrideSpot(ticket, target, why),
      (msg) => {
        refresh();
        return msg || `Stay ${ticket} moved to spot ${target}.`;
      },
    );
  });
  serviceBtn.addEventListener("click", () => {
    const spot = currentSpot();
    if (!spot) return;
    const inService = spotState(spot.state) === "out_of_service";
    const why = byId<HTMLInputElement>("service-reason").value;
    void act(
      serviceBtn,
      () => api.setSpotService(spot.id, inService, why),
      (msg) => {
        refresh();
        return msg;
      },
    );
  });
  return panel;
}

function currentSpot(): Spot | null {
  if (!selected) return null;
  return state.overview?.spots.find((s) => s.id === selected) ?? null;
}

export function selectSpot(id: string): void {
  selected = id;
  const panel = byId("spot-panel");
  panel.hidden = false;
  fillPanel();
}

function fillPanel(): void {
  const spot = currentSpot();
  if (!spot || !selected) return;
  byId("spot-panel-title").textContent = `Spot ${spot.id}`;
  byId("spot-id").textContent = spot.id;
  byId("spot-state").textContent = spotLabel(spot.state);
  byId("spot-state").dataset.state = spotState(spot.state);
  byId("spot-ticket").textContent = spot.ticket ?? "—";
  byId("spot-plate").textContent = spot.plate ?? "—";
  byId("spot-note").textContent = spot.note ?? "—";
  const kind = [spot.size, spot.ev ? "EV charger" : "", spot.accessible ? "accessible" : ""]
    .filter(Boolean)
    .join(", ");
  byId("spot-kind").textContent = `${kind} · level ${spot.level}, zone ${spot.zone}`;
  byId("service-toggle").textContent =
    spotState(spot.state) === "out_of_service" ? "Return to service" : "Take out of service";
}

function spotTitle(s: Spot): string {
  const extra = [s.ev ? "EV charger" : "", s.accessible ? "accessible" : ""].filter(Boolean);
  const who = s.plate ? `, ${s.plate}` : "";
  return `Spot ${s.id}, ${spotLabel(s.state)}${extra.length ? `, ${extra.join(", ")}` : ""}${who}`;
}

function updateSpot(el: HTMLButtonElement, s: Spot): void {
  const st = spotState(s.state);
  if (el.dataset.state !== st) {
    el.dataset.state = st;
    el.classList.remove("spot-free", "spot-occupied", "spot-out-of-service");
    el.classList.add(spotClass(st));
  }
  const title = spotTitle(s);
  if (el.title !== title) {
    el.title = title;
    el.setAttribute("aria-label", title);
  }
}

function render(o: Overview): void {
  const map = byId("lot-map");
  const groups = groupSpots(o.spots, o.levels);
  const key = groups
    .map((g) => `${g.level}:${g.zones.map((z) => `${z.zone}=${z.spots.map((s) => s.id).join(",")}`).join(";")}`)
    .join("|");
  if (key !== layoutKey) {
    layoutKey = key;
    spotEls.clear();
    map.replaceChildren(
      ...groups.map((g) =>
        h(
          "section",
          { class: "level", "data-level": g.level, "aria-label": `Level ${g.level}` },
          h("h3", {}, `Level ${g.level} `, h("span", { class: "muted" }, `(${g.count} spots)`)),
          ...g.zones.map((z) =>
            h(
              "div",
              { class: "zone", "data-zone": `${g.level}/${z.zone}` },
              h("h4", {}, `Zone ${z.zone}`),
              h(
                "div",
                { class: "spots" },
                ...z.spots.map((s) => {
                  const cls = ["spot", spotClass(s.state)];
                  if (s.ev) cls.push("ev");
                  if (s.accessible) cls.push("accessible");
                  const el = h(
                    "button",
                    { type: "button", class: cls.join(" "), "data-spot": s.id, "data-state": spotState(s.state) },
                    spotMarks(s),
                  );
                  updateSpot(el, s);
                  spotEls.set(s.id, el);
                  return el;
                }),
              ),
            ),
          ),
        ),
      ),
    );
  } else {
    for (const s of o.spots) {
      const el = spotEls.get(s.id);
      if (el) updateSpot(el, s);
    }
  }
  // Counts.
  const tbody = byId("zone-counts").querySelector("tbody")!;
  tbody.replaceChildren(
    ...o.zones.map((z) =>
      h(
        "tr",
        { "data-zone": z.key },
        h("th", { scope: "row" }, zoneLabel(z.key)),
        h("td", { class: "num" }, String(z.occupied)),
        h("td", { class: "num" }, String(z.free)),
        h("td", { class: "num" }, String(z.capacity)),
      ),
    ),
  );
  byId("class-counts").replaceChildren(
    ...(o.classes.length
      ? o.classes.map((c) =>
          h("li", { "data-class": c.key }, h("span", {}, c.key), h("strong", {}, String(c.occupied))),
        )
      : [h("li", { class: "muted" }, "No vehicles inside")]),
  );
  if (selected) fillPanel();
}
