// The Gatehouse attendant console: login, then the lot, lanes, booth, events, reports, shift and
// office tabs. Plain DOM; every app call goes through ts/api.ts.
import "./style.css";
import { api, events, type FeedItem, type SessionView } from "../../ts/api";
import { boothView, pay, resetBooth } from "./booth";
import { button, byId, h, toast, toastError } from "./dom";
import { addFeedItem, clearFeed, eventsView, seedFeed, showAlerts } from "./feed";
import { shortcutAction } from "./format";
import { laneFrame, laneNotice, lanesView, setScreen } from "./lanes";
import { loginView, showDemoUsers } from "./login";
import { lotView } from "./lot";
import { loadOffice, officeView, resetOffice } from "./office";
import { reportsView } from "./reports";
import { shiftView } from "./shift";
import { onOverview, setOverview, state } from "./state";

const TABS = [
  { id: "lot", label: "Lot" },
  { id: "lanes", label: "Lanes" },
  { id: "booth", label: "Booth" },
  { id: "events", label: "Events" },
  { id: "reports", label: "Reports" },
  { id: "shift", label: "Shift" },
  { id: "office", label: "Office" },
] as const;
type TabId = (typeof TABS)[number]["id"];

let pollTimer: number | undefined;
let refreshTimer: number | undefined;
let refreshing = false;
let refreshAgain = false;
let readySent = false;

// ---- Overview and alerts ------------------------------------------------------------------

async function refreshNow(): Promise<void> {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    const [o, alerts] = await Promise.all([
      api.overview(),
      state.session ? api.alerts().catch(() => null) : Promise.resolve(null),
    ]);
    setOverview(o);
    if (alerts) showAlerts(alerts);
  } catch (e) {
    console.warn("overview", e);
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      void refreshNow();
    }
  }
}

/** Refresh soon (events come in bursts). */
function scheduleRefresh(): void {
  if (refreshTimer !== undefined || !state.session) return;
  refreshTimer = window.setTimeout(() => {
    refreshTimer = undefined;
    void refreshNow();
  }, 150);
}

// ---- Shell -------------------------------------------------------------------------------

function shell(): HTMLElement {
  const tabs = h(
    "nav",
    { class: "tabs", role: "tablist", "aria-label": "Console sections" },
    ...TABS.map((t, i) => {
      const b = button(`tab-${t.id}`, t.label, {
        role: "tab",
        "aria-selected": i === 0 ? "true" : "false",
        "aria-controls": `panel-${t.id}`,
        tabindex: i === 0 ? 0 : -1,
        class: "tab",
      });
      if (t.id === "events") b.append(" ", h("span", { id: "alert-count", class: "badge", hidden: true }));
      return b;
    }),
  );
  tabs.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLElement>("[role=tab]");
    if (b) showTab(b.id.slice(4) as TabId);
  });
  tabs.addEventListener("keydown", (ev) => {
    const i = TABS.findIndex((t) => `tab-${t.id}` === (ev.target as HTMLElement).id);
    if (i < 0) return;
    let j = -1;
    if (ev.key === "ArrowRight") j = (i + 1) % TABS.length;
    else if (ev.key === "ArrowLeft") j = (i + TABS.length - 1) % TABS.length;
    else if (ev.key === "Home") j = 0;
    else if (ev.key === "End") j = TABS.length - 1;
    if (j < 0) return;
    ev.preventDefault();
    showTab(TABS[j].id);
    byId(`tab-${TABS[j].id}`).focus();
  });
  const panel = (id: TabId, content: HTMLElement, hidden: boolean) =>
    h(
      "section",
      { id: `panel-${id}`, class: `panel panel-${id}`, role: "tabpanel", "aria-labelledby": `tab-${id}`, hidden },
      content,
    );
  const logout = button("logout", "Log out", { class: "small" });
  logout.addEventListener("click", () => void doLogout());
  return h(
    "div",
    { id: "console-view", class: "console-view", hidden: true },
    h(
      "header",
      { class: "top" },
      h("h1", { id: "lot-name", class: "lot-name" }, "Gatehouse"),
      h("span", { class: "clock-wrap" }, "Lot time ", h("time", { id: "clock" })),
      h("span", { id: "lot-counts", class: "muted" }),
      h("span", { class: "spacer" }),
      h("span", { id: "whoami" }),
      logout,
    ),
    tabs,
    h(
      "main",
      { class: "panels" },
      panel("lot", lotView(() => void refreshNow()), false),
      panel("lanes", lanesView(), true),
      panel("booth", boothView(), true),
      panel("events", eventsView(), true),
      panel("reports", reportsView(), true),
      panel("shift", shiftView(), true),
      panel("office", officeView(), true),
    ),
  );
}

export function showTab(id: TabId): void {
  for (const t of TABS) {
    const on = t.id === id;
    const tab = byId(`tab-${t.id}`);
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
    byId(`panel-${t.id}`).hidden = !on;
  }
  // The office's lists are fetched each time it is opened.
  if (id === "office" && state.session) void loadOffice();
}

// ---- Login / logout ----------------------------------------------------------------------

function onLogin(s: SessionView): void {
  state.session = s;
  byId("whoami").textContent = `${s.user} (${s.role})`;
  byId("login-view").hidden = true;
  byId("console-view").hidden = false;
  showTab("lot");
  toast(`Logged in as ${s.user} (${s.role}).`);
  void refreshNow();
  api.feed(100).then(seedFeed, toastError);
  window.clearInterval(pollTimer);
  pollTimer = window.setInterval(() => void refreshNow(), 2000);
  byId("tab-lot").focus();
}

async function doLogout(): Promise<void> {
  try {
    await api.logout();
  } catch (e) {
    toastError(e);
  }
  state.session = null;
  window.clearInterval(pollTimer);
  pollTimer = undefined;
  resetBooth();
  resetOffice();
  clearFeed();
  byId("whoami").textContent = "";
  byId("console-view").hidden = true;
  byId("login-view").hidden = false;
  toast("Logged out.");
  byId("login-user").focus();
}

// ---- Keyboard ----------------------------------------------------------------------------

function onKey(ev: KeyboardEvent): void {
  if (!state.session || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const action = shortcutAction(ev.key);
  if (!action) return;
  ev.preventDefault();
  switch (action) {
    case "find": {
      showTab("booth");
      const f = byId<HTMLInputElement>("booth-find");
      f.focus();
      f.select();
      break;
    }
    case "lost": {
      showTab("booth");
      const f = byId<HTMLInputElement>("lost-plate");
      f.focus();
      f.select();
      break;
    }
    case "pay-cash":
      showTab("booth");
      pay("cash");
      break;
    case "pay-card":
      showTab("booth");
      pay("card");
      break;
    case "lanes":
      showTab("lanes");
      byId("tab-lanes").focus();
      break;
  }
}

// ---- Live events -------------------------------------------------------------------------

function onLotEvent(item: FeedItem): void {
  try {
    addFeedItem(item);
  } catch (e) {
    console.error(e);
  }
  scheduleRefresh();
  requestAnimationFrame(() => {
    api.painted(item.seq).catch(() => {});
  });
}

function subscribe(): void {
  const guard = (p: Promise<unknown>) => p.catch((e) => console.warn("events unavailable", e));
  try {
    void guard(events.lotEvent(onLotEvent));
    void guard(
      events.laneScreen((e) => {
        setScreen(e);
      }),
    );
    void guard(
      events.laneNotice((n) => {
        laneNotice(n);
        scheduleRefresh();
      }),
    );
    void guard(
      events.laneFrame((f) => {
        laneFrame(f);
      }),
    );
  } catch (e) {
    console.warn("events unavailable", e);
  }
}

// ---- Start -------------------------------------------------------------------------------

function start(): void {
  const root = byId("app");
  root.replaceChildren(loginView(onLogin), shell());
  onOverview((o) => {
    byId("lot-name").textContent = o.lot;
    const clock = byId("clock");
    clock.textContent = o.now_local;
    clock.setAttribute("datetime", o.now_local.replace(" ", "T"));
    const cap = o.zones.reduce((n, z) => n + z.capacity, 0);
    const occ = o.zones.reduce((n, z) => n + z.occupied, 0);
    byId("lot-counts").textContent = cap ? `${occ} of ${cap} occupied` : "";
    showDemoUsers(o.demo_users, onLogin);
  });
  document.addEventListener("keydown", onKey);
  subscribe();
  byId<HTMLInputElement>("login-user").focus();
  // The login form is up and usable: tell the app once it has been painted.
  requestAnimationFrame(() => {
    setTimeout(() => {
      if (readySent) return;
      readySent = true;
      api.consoleReady().catch(() => {});
    }, 0);
  });
  // The demo users (and the lot's name) for the login screen.
  api.overview().then(setOverview, (e) => console.warn("overview", e));
}

start();
