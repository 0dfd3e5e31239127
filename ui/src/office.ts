// The office tab: reservations, permits, prepaid accounts, merchant vouchers and staff. The
// engine checks every change (the role and the rules); a refusal shows in the toast and nothing
// here changes. The lists are fetched when the tab is opened and after each change.
import {
  api,
  asApiError,
  type AccountRow,
  type BoothMethod,
  type PermitKind,
  type PermitRow,
  type ReservationRow,
  type Role,
  type UserRow,
  type VoucherRow,
} from "../../ts/api";
import { act, button, byId, chosen, field, h, toast, toastError } from "./dom";
import { formatMoney, lotToday, parseWhole, VEHICLE_CLASSES } from "./format";
import { state } from "./state";

/** How many days of reservations the list shows, from today. */
export const RESERVATION_DAYS = 7;

const PERMIT_KINDS: readonly PermitKind[] = ["monthly", "yearly", "staff", "vip"];
const ROLES: readonly Role[] = ["attendant", "cashier", "supervisor", "admin", "auditor"];

let accountRows: AccountRow[] = [];
let voucherRows: VoucherRow[] = [];
/** The latest request per list: an older answer arriving late is dropped. */
const latest = new Map<string, number>();

// ---- Building blocks ---------------------------------------------------------------------

function selectField(id: string, label: string, options: [string, string][]): HTMLDivElement {
  const f = field(id, label, {}, "select");
  f.querySelector("select")!.append(...options.map(([value, text]) => h("option", { value }, text)));
  return f;
}

function checkField(id: string, label: string): HTMLDivElement {
  const f = field(id, label, { type: "checkbox" });
  f.classList.add("check");
  return f;
}

/** A section: its title over the form (`side`) and the list (`main`) side by side. */
function section(id: string, title: string, side: Node[], main: Node[]): HTMLElement {
  return h(
    "section",
    { id: `office-${id}`, class: "card office-section", "aria-labelledby": `office-${id}-title` },
    h("h3", { id: `office-${id}-title` }, title),
    h("div", { class: "office-side" }, ...side),
    h("div", { class: "office-main" }, ...main),
  );
}

function form(id: string, ...children: Node[]): HTMLFormElement {
  return h("form", { id, class: "office-form", novalidate: true }, ...children);
}

function table(id: string, labelledBy: string, heads: string[]): HTMLElement {
  return h(
    "div",
    { id: `${id}-wrap`, class: "table-wrap" },
    h(
      "table",
      { id, class: "office-table", "aria-labelledby": labelledBy },
      h("thead", {}, h("tr", {}, ...heads.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}),
    ),
  );
}

function td(text: string, cls?: string): HTMLTableCellElement {
  return h("td", { class: cls }, text);
}

/**
 * The rows of a table (each with a `data-key`), or one row saying there are none. A row already
 * shown keeps its element and every cell that did not change, so a button about to be clicked or
 * an amount being typed stays put when the list is fetched again.
 */
function fillTable(id: string, rows: HTMLTableRowElement[], none: string): void {
  const t = byId<HTMLTableElement>(id);
  const body = t.tBodies[0];
  if (!rows.length) {
    const cols = t.tHead?.rows[0]?.cells.length ?? 1;
    body.replaceChildren(h("tr", { class: "none" }, h("td", { colspan: cols, class: "muted" }, none)));
    return;
  }
  const shown = new Map<string, HTMLTableRowElement>();
  for (const r of Array.from(body.rows)) if (r.dataset.key) shown.set(r.dataset.key, r);
  rows.forEach((fresh, i) => {
    const was = shown.get(fresh.dataset.key ?? "");
    const row = was ? updateRow(was, fresh) : fresh;
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] ?? null);
  });
  while (body.rows.length > rows.length) body.rows[rows.length].remove();
}

/** `was` made like `fresh`, replacing only the cells that differ. */
function updateRow(was: HTMLTableRowElement, fresh: HTMLTableRowElement): HTMLTableRowElement {
  for (const a of Array.from(was.attributes)) if (!fresh.hasAttribute(a.name)) was.removeAttribute(a.name);
  for (const a of Array.from(fresh.attributes)) was.setAttribute(a.name, a.value);
  const cells = Array.from(fresh.cells);
  cells.forEach((c, i) => {
    const old = was.cells[i];
    if (!old) was.append(c);
    else if (old.outerHTML !== c.outerHTML) old.replaceWith(c);
  });
  while (was.cells.length > cells.length) was.cells[cells.length].remove();
  return was;
}

function inputText(id: string): string {
  return byId<HTMLInputElement>(id).value.trim();
}

function checked(id: string): boolean {
  return byId<HTMLInputElement>(id).checked;
}

/** A whole number from a form's input; on anything else it says so and gives null. */
function wholeInput(id: string, what: string, min: number): number | null {
  const n = parseWhole(byId<HTMLInputElement>(id).value, min);
  if (n === null) {
    toast(`${what} must be a whole number${min > 0 ? ` of at least ${min}` : ""}.`, true);
    byId(id).focus();
  }
  return n;
}

/** Fetch a list and draw it; `fail` takes a refusal (the toast shows it by default). */
function load<T>(
  name: string,
  fetch: () => Promise<T>,
  draw: (rows: T) => void,
  fail: (e: unknown) => void = toastError,
): Promise<void> {
  const seq = (latest.get(name) ?? 0) + 1;
  latest.set(name, seq);
  return fetch().then(
    (rows) => {
      if (latest.get(name) === seq) draw(rows);
    },
    (e) => {
      if (latest.get(name) === seq) fail(e);
    },
  );
}

/** A QR figure (a prepaid card or a voucher): the code's image, its text and a print button. */
function qrFigure(kind: "card" | "voucher", printText: string): HTMLElement {
  const print = button(`${kind}-print`, printText);
  print.addEventListener("click", () => printFigure(`${kind}-figure`));
  return h(
    "figure",
    { id: `${kind}-figure`, class: "qr-figure", hidden: true, "aria-labelledby": `${kind}-caption` },
    h("div", { id: `${kind}-qr`, class: "qr" }),
    h(
      "figcaption",
      {},
      h("strong", { id: `${kind}-caption` }),
      h("p", { id: `${kind}-code`, class: "code" }),
      print,
    ),
  );
}

/**
 * Show a QR in its figure. The SVG comes from the app's own Rust code (gatehouse_core's
 * qr_svg), not from anything typed, so it goes in as markup.
 */
function showQr(kind: "card" | "voucher", svg: string, code: string, caption: string): void {
  const qr = byId(`${kind}-qr`);
  qr.innerHTML = svg;
  const img = qr.querySelector("svg");
  img?.setAttribute("role", "img");
  img?.setAttribute("aria-label", `QR code: ${caption}`);
  byId(`${kind}-caption`).textContent = caption;
  byId(`${kind}-code`).textContent = code;
  byId(`${kind}-figure`).hidden = false;
}

/** Print one figure only (see the print styles). */
function printFigure(id: string): void {
  document.body.dataset.print = id;
  window.addEventListener("afterprint", () => delete document.body.dataset.print, { once: true });
  window.print();
}

// ---- The view ----------------------------------------------------------------------------

export function officeView(): HTMLElement {
  const resBtn = button("res-submit", "Reserve", { type: "submit", class: "primary" });
  const permitBtn = button("permit-submit", "Issue permit", { type: "submit", class: "primary" });
  const accountBtn = button("account-open", "Open account", { type: "submit", class: "primary" });
  const voucherBtn = button("voucher-submit", "Issue voucher", { type: "submit", class: "primary" });
  const userBtn = button("user-add", "Add user", { type: "submit", class: "primary" });

  const resForm = form(
    "res-form",
    field("res-plate", "Plate (may be empty)", { autocomplete: "off" }),
    selectField(
      "res-class",
      "Vehicle class",
      VEHICLE_CLASSES.map((c) => [c, c]),
    ),
    checkField("res-ev", "EV charger"),
    checkField("res-accessible", "Accessible spot"),
    field("res-day", "Day", { type: "date" }),
    field("res-from", "From", { type: "time", value: "09:00" }),
    field("res-to", "To (before From = next day)", { type: "time", value: "17:00" }),
    field("res-holder", "Holder", { autocomplete: "off" }),
    resBtn,
  );
  const permitForm = form(
    "permit-form",
    selectField(
      "permit-kind",
      "Kind",
      PERMIT_KINDS.map((k) => [k, k]),
    ),
    field("permit-holder", "Holder", { autocomplete: "off" }),
    field("permit-plates", "Plates (commas between: PRM 4411, KLM 4821)", { autocomplete: "off" }),
    field("permit-card", "RFID card (optional)", { autocomplete: "off" }),
    field("permit-days", "Valid for (days from today)", { type: "number", min: 1, step: 1, value: 30 }),
    field("permit-levels", "Levels (empty = every level)", { autocomplete: "off" }),
    field("permit-hours", "Hours", { autocomplete: "off", placeholder: "07:00-19:00, empty = any time" }),
    field("permit-max", "Vehicles inside at once", { type: "number", min: 1, step: 1, value: 1 }),
    permitBtn,
  );
  const accountForm = form(
    "account-form",
    field("account-holder", "Holder", { autocomplete: "off" }),
    field("account-days", "Expires after (days, 0 = no expiry)", {
      type: "number",
      min: 0,
      step: 1,
      value: 365,
    }),
    accountBtn,
  );
  const voucherForm = form(
    "voucher-form",
    field("voucher-merchant", "Merchant", { autocomplete: "off" }),
    field("voucher-value", "Value", { type: "number", min: 1, step: 1, value: 60 }),
    selectField("voucher-kind", "Gives", [
      ["minutes", "free minutes"],
      ["percent", "percent off"],
    ]),
    field("voucher-days", "Valid for (days, 0 = no expiry)", { type: "number", min: 0, step: 1, value: 30 }),
    voucherBtn,
  );
  const userForm = form(
    "user-form",
    field("user-name", "User name", { autocomplete: "off" }),
    selectField(
      "user-role",
      "Role",
      ROLES.map((r) => [r, r]),
    ),
    field("user-password", "Password", { type: "password", autocomplete: "new-password" }),
    userBtn,
  );

  const view = h(
    "div",
    { class: "office-layout" },
    section(
      "res",
      `Reservations (next ${RESERVATION_DAYS} days)`,
      [resForm],
      [
        table("res-table", "office-res-title", [
          "Code",
          "Status",
          "Plate",
          "Class",
          "Window",
          "Estimate",
          "Fee",
          "Action",
        ]),
      ],
    ),
    section(
      "permits",
      "Permits",
      [permitForm],
      [
        h(
          "div",
          { class: "office-form revoke" },
          field("permit-revoke-reason", "Reason for revoking (required)", { autocomplete: "off" }),
        ),
        table("permit-table", "office-permits-title", [
          "ID",
          "Kind",
          "Holder",
          "Plates",
          "Card",
          "Valid",
          "Levels",
          "Hours",
          "Inside",
          "Revoked",
          "Action",
        ]),
      ],
    ),
    section(
      "accounts",
      "Prepaid accounts",
      [accountForm, qrFigure("card", "Print card")],
      [
        table("account-table", "office-accounts-title", [
          "ID",
          "Holder",
          "Balance",
          "Expires",
          "Warnings",
          "Top up",
          "Card",
        ]),
      ],
    ),
    section(
      "vouchers",
      "Merchant vouchers",
      [voucherForm, qrFigure("voucher", "Print voucher")],
      [
        table("voucher-table", "office-vouchers-title", ["ID", "Merchant", "Gives", "Valid to", "Used on", "QR"]),
      ],
    ),
    section(
      "users",
      "Staff",
      [userForm, h("div", { id: "user-totp", class: "help totp", role: "status", hidden: true })],
      [
        h("p", { id: "users-refused", class: "muted", hidden: true }),
        table("user-table", "office-users-title", [
          "Name",
          "Role",
          "Second factor",
          "Disabled",
          "Locked until",
          "Action",
        ]),
      ],
    ),
  );

  const onSubmit = (f: HTMLFormElement, run: () => void) =>
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      run();
    });
  onSubmit(resForm, reserve);
  onSubmit(permitForm, issuePermit);
  onSubmit(accountForm, openAccount);
  onSubmit(voucherForm, issueVoucher);
  onSubmit(userForm, addUser);

  view.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button");
    if (!b) return;
    const d = b.dataset;
    if (d.cancelRes) cancelReservation(b, d.cancelRes);
    else if (d.revokePermit) revokePermit(b, Number(d.revokePermit));
    else if (d.topupCash) topUp(b, Number(d.topupCash), "cash");
    else if (d.topupCard) topUp(b, Number(d.topupCard), "card");
    else if (d.showCard) showCard(Number(d.showCard));
    else if (d.showVoucher) showVoucher(Number(d.showVoucher));
    else if (d.userEnable) setUserEnabled(b, d.userEnable, true);
    else if (d.userDisable) setUserEnabled(b, d.userDisable, false);
  });
  return view;
}

/** Fetch every list of the tab (when it is opened). */
export function loadOffice(): Promise<void> {
  const day = byId<HTMLInputElement>("res-day");
  if (!day.value) day.value = lotToday(state.overview?.now_local, new Date());
  return Promise.all([
    loadReservations(),
    loadPermits(),
    loadAccounts(),
    loadVouchers(),
    loadUsers(),
  ]).then(() => {});
}

/** Forget what the last user saw (on logout): the lists, the QR codes, a new admin's secret. */
export function resetOffice(): void {
  accountRows = [];
  voucherRows = [];
  latest.clear();
  for (const id of ["res-table", "permit-table", "account-table", "voucher-table", "user-table"]) {
    document.getElementById(id)?.querySelector("tbody")?.replaceChildren();
  }
  for (const id of ["card", "voucher"]) {
    const fig = document.getElementById(`${id}-figure`);
    if (fig) fig.hidden = true;
    document.getElementById(`${id}-qr`)?.replaceChildren();
    const code = document.getElementById(`${id}-code`);
    if (code) code.textContent = "";
  }
  hideTotp();
  const refused = document.getElementById("users-refused");
  if (refused) {
    refused.hidden = true;
    refused.textContent = "";
  }
}

// ---- Reservations ------------------------------------------------------------------------

function loadReservations(): Promise<void> {
  return load("reservations", () => api.reservations(RESERVATION_DAYS), drawReservations);
}

function drawReservations(rows: ReservationRow[]): void {
  fillTable(
    "res-table",
    rows.map((r) => {
      const marks = [r.ev ? "EV" : "", r.accessible ? "accessible" : ""].filter(Boolean).join(", ");
      return h(
        "tr",
        {
          "data-key": r.code,
          "data-res": r.code,
          "data-status": r.status,
          class: r.status === "booked" ? null : "inactive",
        },
        td(r.code, "mono"),
        td(r.status.replace(/_/g, " ")),
        td(r.plate ?? "—"),
        td(marks ? `${r.class} (${marks})` : r.class),
        td(r.spot ? `${r.window} · spot ${r.spot}` : r.window),
        td(formatMoney(r.estimate, r.currency), "num"),
        td(formatMoney(r.fee, r.currency), "num"),
        h(
          "td",
          { class: "row-actions" },
          r.status === "booked" &&
            button(null, "Cancel", {
              class: "small",
              "data-cancel-res": r.code,
              "aria-label": `Cancel reservation ${r.code}`,
            }),
        ),
      );
    }),
    `No reservations in the next ${RESERVATION_DAYS} days.`,
  );
}

function reserve(): void {
  const form = {
    plate: inputText("res-plate"),
    class: byId<HTMLSelectElement>("res-class").value,
    ev: checked("res-ev"),
    accessible: checked("res-accessible"),
    day: inputText("res-day"),
    from: inputText("res-from"),
    to: inputText("res-to"),
    holder: inputText("res-holder"),
  };
  void act(byId<HTMLButtonElement>("res-submit"), () => api.reserve(form), (r) => {
    byId<HTMLInputElement>("res-plate").value = "";
    byId<HTMLInputElement>("res-holder").value = "";
    void loadReservations();
    return `Reserved ${r.code}: ${r.window}, estimate ${formatMoney(r.estimate, r.currency)}.`;
  });
}

function cancelReservation(b: HTMLButtonElement, code: string): void {
  void act(b, () => api.cancelReservation(code), (msg) => {
    void loadReservations();
    return msg || `Reservation ${code} cancelled.`;
  });
}

// ---- Permits -----------------------------------------------------------------------------

function loadPermits(): Promise<void> {
  return load("permits", () => api.permits(), drawPermits);
}

function drawPermits(rows: PermitRow[]): void {
  fillTable(
    "permit-table",
    rows.map((p) =>
      h(
        "tr",
        { "data-key": p.id, "data-permit": p.id, class: p.revoked ? "inactive" : null },
        td(String(p.id), "num"),
        td(p.kind),
        td(p.holder),
        td(p.plates || "—"),
        td(p.card ?? "—"),
        td(p.valid),
        td(p.levels || "all"),
        td(p.hours ?? "any time"),
        td(`${p.inside}/${p.max_inside}`, "num"),
        td(p.revoked ? "yes" : "no"),
        h(
          "td",
          { class: "row-actions" },
          !p.revoked &&
            button(null, "Revoke", {
              class: "small",
              "data-revoke-permit": p.id,
              "aria-label": `Revoke permit ${p.id} (${p.holder})`,
            }),
        ),
      ),
    ),
    "No permits yet.",
  );
}

function issuePermit(): void {
  const days = wholeInput("permit-days", "Valid for (days)", 1);
  if (days === null) return;
  const max = wholeInput("permit-max", "Vehicles inside at once", 1);
  if (max === null) return;
  const form = {
    holder: inputText("permit-holder"),
    plates: inputText("permit-plates"),
    card: inputText("permit-card"),
    days,
    levels: inputText("permit-levels"),
    hours: inputText("permit-hours"),
    max_inside: max,
  };
  // The kind is checked inside the action, so a refusal shows like the engine's.
  const issue = async () => api.issuePermit({ ...form, kind: chosen("permit-kind", PERMIT_KINDS) });
  void act(byId<HTMLButtonElement>("permit-submit"), issue, (msg) => {
    for (const id of ["permit-holder", "permit-plates", "permit-card"]) byId<HTMLInputElement>(id).value = "";
    void loadPermits();
    return msg || `Permit issued to ${form.holder}.`;
  });
}

function revokePermit(b: HTMLButtonElement, id: number): void {
  const reason = byId<HTMLInputElement>("permit-revoke-reason");
  const why = reason.value.trim();
  if (!why) {
    toast(`A reason is required to revoke permit ${id}: write it in “Reason for revoking”.`, true);
    reason.focus();
    return;
  }
  void act(b, () => api.revokePermit(id, why), (msg) => {
    reason.value = "";
    void loadPermits();
    return msg || `Permit ${id} revoked.`;
  });
}

// ---- Prepaid accounts --------------------------------------------------------------------

function loadAccounts(): Promise<void> {
  return load("accounts", () => api.accounts(), drawAccounts);
}

function drawAccounts(rows: AccountRow[]): void {
  accountRows = rows;
  fillTable(
    "account-table",
    rows.map((a) => {
      const amountId = `topup-amount-${a.id}`;
      const who = `account ${a.id} (${a.holder})`;
      return h(
        "tr",
        { "data-key": a.id, "data-account": a.id },
        td(String(a.id), "num"),
        td(a.holder),
        td(formatMoney(a.balance, a.currency), "num"),
        td(a.expires_local ?? "no expiry"),
        td(a.warnings.join("; ") || "—", a.warnings.length ? "warn" : undefined),
        h(
          "td",
          { class: "row-actions" },
          h(
            "div",
            { class: "topup" },
            h("label", { for: amountId, class: "sr-only" }, `Top-up amount for ${who}`),
            h("input", {
              id: amountId,
              "data-topup-amount": a.id,
              inputmode: "decimal",
              autocomplete: "off",
              placeholder: "amount",
            }),
            button(null, "Top up cash", {
              class: "small",
              "data-topup-cash": a.id,
              "aria-label": `Top up cash: ${who}`,
            }),
            button(null, "Top up card", {
              class: "small",
              "data-topup-card": a.id,
              "aria-label": `Top up card: ${who}`,
            }),
          ),
        ),
        h(
          "td",
          { class: "row-actions" },
          button(null, "Card", { class: "small", "data-show-card": a.id, "aria-label": `Card of ${who}` }),
        ),
      );
    }),
    "No prepaid accounts yet.",
  );
}

function openAccount(): void {
  const days = wholeInput("account-days", "Expires after (days)", 0);
  if (days === null) return;
  const holder = inputText("account-holder");
  void act(byId<HTMLButtonElement>("account-open"), () => api.openAccount(holder, days), (a) => {
    byId<HTMLInputElement>("account-holder").value = "";
    showAccountCard(a);
    void loadAccounts();
    return `Account ${a.id} opened for ${a.holder}; its card is below.`;
  });
}

function topUp(b: HTMLButtonElement, id: number, method: BoothMethod): void {
  const input = document.querySelector<HTMLInputElement>(`#account-table input[data-topup-amount="${id}"]`);
  const amount = input?.value.trim() ?? "";
  void act(b, () => api.topUp(id, method, amount), (a) => {
    if (input) input.value = "";
    void loadAccounts();
    return `Account ${a.id} topped up by ${method}: balance ${formatMoney(a.balance, a.currency)}.`;
  });
}

function showCard(id: number): void {
  const a = accountRows.find((r) => r.id === id);
  if (a) showAccountCard(a);
}

function showAccountCard(a: AccountRow): void {
  showQr("card", a.card_svg, a.card, `Prepaid card of ${a.holder} (account ${a.id})`);
}

// ---- Merchant vouchers -------------------------------------------------------------------

function loadVouchers(): Promise<void> {
  return load("vouchers", () => api.vouchers(), drawVouchers);
}

function drawVouchers(rows: VoucherRow[]): void {
  voucherRows = rows;
  fillTable(
    "voucher-table",
    rows.map((v) =>
      h(
        "tr",
        { "data-key": v.id, "data-voucher": v.id, class: v.used_on ? "inactive" : null },
        td(String(v.id), "num"),
        td(v.merchant),
        td(v.gives),
        td(v.valid_to_local ?? "no expiry"),
        td(v.used_on ?? "not used"),
        h(
          "td",
          { class: "row-actions" },
          button(null, "QR", {
            class: "small",
            "data-show-voucher": v.id,
            "aria-label": `QR of voucher ${v.id} (${v.merchant})`,
          }),
        ),
      ),
    ),
    "No vouchers yet.",
  );
}

function issueVoucher(): void {
  const value = wholeInput("voucher-value", "The voucher's value", 1);
  if (value === null) return;
  const days = wholeInput("voucher-days", "Valid for (days)", 0);
  if (days === null) return;
  const merchant = inputText("voucher-merchant");
  const percent = byId<HTMLSelectElement>("voucher-kind").value === "percent";
  void act(
    byId<HTMLButtonElement>("voucher-submit"),
    () => api.issueVoucher(merchant, value, percent, days),
    (v) => {
      showVoucherFigure(v);
      void loadVouchers();
      return `Voucher ${v.id} for ${v.merchant}: ${v.gives}.`;
    },
  );
}

function showVoucher(id: number): void {
  const v = voucherRows.find((r) => r.id === id);
  if (v) showVoucherFigure(v);
}

function showVoucherFigure(v: VoucherRow): void {
  showQr("voucher", v.qr_svg, v.qr, `Voucher ${v.id} of ${v.merchant}: ${v.gives}`);
}

// ---- Staff -------------------------------------------------------------------------------

function loadUsers(): Promise<void> {
  return load("users", () => api.users(), drawUsers, (e) => {
    // Only an admin sees the staff: the refusal says so in place of the table, no toast.
    const refused = byId("users-refused");
    refused.textContent = asApiError(e).message;
    refused.hidden = false;
    byId("user-table-wrap").hidden = true;
  });
}

function drawUsers(rows: UserRow[]): void {
  byId("users-refused").hidden = true;
  byId("user-table-wrap").hidden = false;
  fillTable(
    "user-table",
    rows.map((u) =>
      h(
        "tr",
        { "data-key": u.name, "data-user-row": u.name, class: u.disabled ? "inactive" : null },
        td(u.name),
        td(u.role),
        td(u.second_factor ? "yes" : "no"),
        td(u.disabled ? "yes" : "no"),
        td(u.locked_until ?? "—"),
        h(
          "td",
          { class: "row-actions" },
          u.disabled
            ? button(null, "Enable", {
                class: "small",
                "data-user-enable": u.name,
                "aria-label": `Enable ${u.name}`,
              })
            : button(null, "Disable", {
                class: "small",
                "data-user-disable": u.name,
                "aria-label": `Disable ${u.name}`,
              }),
        ),
      ),
    ),
    "No users.",
  );
}

function hideTotp(): void {
  const el = document.getElementById("user-totp");
  if (!el) return;
  el.hidden = true;
  el.replaceChildren();
}

function addUser(): void {
  const name = inputText("user-name");
  const password = byId<HTMLInputElement>("user-password").value;
  const add = async () => api.addUser(name, chosen("user-role", ROLES), password);
  void act(byId<HTMLButtonElement>("user-add"), add, (u) => {
    byId<HTMLInputElement>("user-name").value = "";
    byId<HTMLInputElement>("user-password").value = "";
    hideTotp();
    if (u.totp_secret) {
      const el = byId("user-totp");
      el.replaceChildren(
        h("strong", {}, `${u.name}'s second factor: `),
        `enter this secret in an authenticator app now. It is shown only once. `,
        h("code", { class: "code" }, u.totp_secret),
      );
      el.hidden = false;
    }
    void loadUsers();
    return `User ${u.name} added as ${u.role}.`;
  });
}

function setUserEnabled(b: HTMLButtonElement, name: string, enabled: boolean): void {
  void act(b, () => api.setUserEnabled(name, enabled), (msg) => {
    void loadUsers();
    return msg || `${name} is ${enabled ? "enabled" : "disabled"}.`;
  });
}
