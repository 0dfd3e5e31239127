// The events tab: the live feed and the open alerts.
import { api, type AlertView, type FeedItem } from "../../ts/api";
import { act, button, byId, h } from "./dom";

export const FEED_MAX = 300;
const seen = new Set<number>();

export function eventsView(): HTMLElement {
  const view = h(
    "div",
    { class: "events-layout" },
    h(
      "section",
      { class: "card", "aria-labelledby": "alerts-title" },
      h("h3", { id: "alerts-title" }, "Open alerts"),
      h("ul", { id: "alerts", class: "alerts" }),
    ),
    h(
      "section",
      { class: "card feed-card", "aria-labelledby": "feed-title" },
      h("h3", { id: "feed-title" }, "Events (newest first)"),
      h("ol", { id: "feed", class: "feed", reversed: true }),
    ),
  );
  view.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button[data-ack]");
    if (!b) return;
    const id = Number(b.dataset.ack);
    const note = document.getElementById(`ack-note-${id}`) as HTMLInputElement | null;
    void act(b, () => api.ackAlert(id, note?.value ?? ""), () => {
      b.closest("li")?.remove();
      emptyAlerts();
      return `Alert ${id} acknowledged.`;
    });
  });
  return view;
}

function feedLi(item: FeedItem): HTMLLIElement {
  return h(
    "li",
    { "data-seq": item.seq, "data-kind": item.kind },
    h("time", {}, item.at_local),
    " ",
    h("span", { class: "actor" }, item.actor),
    " ",
    h("span", { class: "kind" }, item.kind),
    " ",
    h("span", { class: "text" }, item.text),
  );
}

/** Seed the feed with the latest items (newest first). */
export function seedFeed(items: FeedItem[]): void {
  const feed = byId("feed");
  const all = [...items];
  // Keep live items already shown that the seed lacks.
  for (const li of Array.from(feed.children) as HTMLElement[]) {
    const seq = Number(li.dataset.seq);
    if (!items.some((i) => i.seq === seq)) all.push(liItem(li));
  }
  all.sort((a, b) => b.seq - a.seq);
  const kept = all.slice(0, FEED_MAX);
  seen.clear();
  for (const i of kept) seen.add(i.seq);
  feed.replaceChildren(...kept.map(feedLi));
}

function liItem(li: HTMLElement): FeedItem {
  const q = (c: string) => li.querySelector(c)?.textContent ?? "";
  return { seq: Number(li.dataset.seq), at_local: q("time"), actor: q(".actor"), kind: q(".kind"), text: q(".text") };
}

/** Put a live item on top (once), keeping at most FEED_MAX. */
export function addFeedItem(item: FeedItem): void {
  if (seen.has(item.seq)) return;
  seen.add(item.seq);
  const feed = byId("feed");
  const first = feed.firstElementChild as HTMLElement | null;
  if (!first || Number(first.dataset.seq) < item.seq) {
    feed.prepend(feedLi(item));
  } else {
    // Out of order: put it where it belongs.
    const after = (Array.from(feed.children) as HTMLElement[]).find((li) => Number(li.dataset.seq) < item.seq);
    feed.insertBefore(feedLi(item), after ?? null);
  }
  while (feed.children.length > FEED_MAX) {
    const last = feed.lastElementChild as HTMLElement;
    seen.delete(Number(last.dataset.seq));
    last.remove();
  }
}

export function clearFeed(): void {
  seen.clear();
  document.getElementById("feed")?.replaceChildren();
}

function alertLi(a: AlertView): HTMLLIElement {
  const noteId = `ack-note-${a.id}`;
  const where = [a.lane ? `lane ${a.lane}` : "", a.plate ? `plate ${a.plate}` : ""].filter(Boolean).join(", ");
  return h(
    "li",
    { "data-alert": a.id, "data-kind": a.kind },
    h(
      "div",
      { class: "alert-text" },
      h("strong", {}, a.kind),
      ` ${a.message}`,
      h("div", { class: "muted" }, `${a.raised_at}${where ? ` · ${where}` : ""}`),
    ),
    h(
      "div",
      { class: "ack" },
      h("label", { for: noteId }, `Note for alert ${a.id}`),
      h("input", { id: noteId, "data-ack-note": a.id, autocomplete: "off" }),
      button(null, "Acknowledge", { "data-ack": a.id }),
    ),
  );
}

function emptyAlerts(): void {
  const list = byId("alerts");
  if (!list.querySelector("[data-alert]")) {
    if (!list.querySelector(".none")) list.replaceChildren(h("li", { class: "none muted" }, "No open alerts"));
  } else {
    list.querySelector(".none")?.remove();
  }
}

/** Show the open alerts; rows already shown stay (with any note being typed). */
export function showAlerts(alerts: AlertView[]): void {
  const list = byId("alerts");
  const want = new Set(alerts.map((a) => String(a.id)));
  for (const li of Array.from(list.querySelectorAll<HTMLElement>("[data-alert]"))) {
    if (!want.has(li.dataset.alert ?? "")) li.remove();
  }
  let prev: Element | null = null;
  for (const a of alerts) {
    let li = list.querySelector<HTMLElement>(`[data-alert="${a.id}"]`);
    if (!li) li = alertLi(a);
    if (prev) prev.after(li);
    else if (list.firstElementChild !== li) list.prepend(li);
    prev = li;
  }
  emptyAlerts();
  const tab = document.getElementById("tab-events");
  if (tab) tab.dataset.alerts = String(alerts.length);
  const badge = document.getElementById("alert-count");
  if (badge) {
    badge.textContent = alerts.length ? String(alerts.length) : "";
    badge.hidden = alerts.length === 0;
  }
}
