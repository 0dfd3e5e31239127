// The booth tab: find a stay or a lost ticket, its quote, payment, receipt and refund; valet
// parking's keys, spot, request and hand-back.
import { api, type BoothMethod, type QuoteView, type ValetStep } from "../../ts/api";
import { act, button, byId, chosen, field, h, toast } from "./dom";
import { durationText, formatMoney, SHORTCUTS, VEHICLE_CLASSES } from "./format";

let quote: QuoteView | null = null;

export function boothView(): HTMLElement {
  const findBtn = button("booth-find-submit", "Find");
  const lostBtn = button("lost-submit", "Lost ticket");
  const cashBtn = button("pay-cash", "Pay cash (F4)", { class: "primary" });
  const cardBtn = button("pay-card", "Pay by card (F6)", { class: "primary" });
  const refundBtn = button("refund-submit", "Refund");
  const printBtn = button("print-receipt", "Print receipt");

  const classSelect = field("lost-class", "Vehicle class", {}, "select");
  classSelect.querySelector("select")!.append(
    ...VEHICLE_CLASSES.map((c) => h("option", { value: c }, c)),
  );
  const valetClass = field("valet-class", "Vehicle class", {}, "select");
  valetClass.querySelector("select")!.append(
    ...VEHICLE_CLASSES.map((c) => h("option", { value: c, selected: c === "standard" }, c)),
  );
  const valetButtons: [ValetStep, HTMLButtonElement][] = [
    ["drop_off", button("valet-drop-off", "Take keys")],
    ["park", button("valet-park", "Parked")],
    ["request", button("valet-request", "Car asked for")],
    ["return", button("valet-return", "Hand back")],
  ];

  const view = h(
    "div",
    { class: "booth-layout" },
    h(
      "div",
      { class: "booth-col" },
      h(
        "p",
        { id: "booth-help", class: "help" },
        "Keys: F2 find a stay · F3 lost ticket · F4 pay cash · F6 pay by card · F9 lanes",
      ),
      h(
        "form",
        { id: "booth-find-form", class: "card", "aria-labelledby": "find-title" },
        h("h3", { id: "find-title" }, "Find a stay"),
        field("booth-find", "Ticket, QR text or plate", { autocomplete: "off" }),
        findBtn,
      ),
      h(
        "form",
        { id: "lost-form", class: "card", "aria-labelledby": "lost-title" },
        h("h3", { id: "lost-title" }, "Lost ticket"),
        field("lost-plate", "Plate", { autocomplete: "off" }),
        classSelect,
        lostBtn,
      ),
      h(
        "form",
        { id: "valet-form", class: "card", "aria-labelledby": "valet-title" },
        h("h3", { id: "valet-title" }, "Valet"),
        field("valet-tag", "Key tag", { autocomplete: "off" }),
        field("valet-plate", "Plate (taking keys)", { autocomplete: "off" }),
        valetClass,
        field("valet-spot", "Spot (parked)", { autocomplete: "off" }),
        h("div", { class: "row" }, ...valetButtons.slice(0, 2).map(([, b]) => b)),
        h("div", { class: "row" }, ...valetButtons.slice(2).map(([, b]) => b)),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "shortcuts-title" },
        h("h3", { id: "shortcuts-title" }, "Shortcuts"),
        h(
          "ul",
          { id: "shortcuts", class: "shortcuts" },
          ...SHORTCUTS.map((s) => h("li", {}, h("kbd", {}, s.key), ` ${s.text}`)),
        ),
      ),
    ),
    h(
      "div",
      { class: "booth-col" },
      h(
        "section",
        { id: "quote", class: "card quote", "aria-labelledby": "quote-title", hidden: true },
        h("h3", { id: "quote-title" }, "Stay"),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Ticket"),
          h("dd", { id: "quote-ticket" }),
          h("dt", {}, "Plate"),
          h("dd", { id: "quote-plate" }),
          h("dt", {}, "Class"),
          h("dd", { id: "quote-class" }),
          h("dt", {}, "Entry"),
          h("dd", { id: "quote-entry" }),
          h("dt", {}, "Minutes"),
          h("dd", {}, h("span", { id: "quote-minutes" }), " ", h("span", { id: "quote-duration", class: "muted" })),
          h("dt", {}, "Spot"),
          h("dd", { id: "quote-spot" }),
          h("dt", {}, "Paid so far"),
          h("dd", { id: "quote-paid" }),
        ),
        h("ul", { id: "quote-lines", class: "lines" }),
        h(
          "p",
          { class: "total" },
          "Total due: ",
          h("strong", { id: "quote-total" }),
          " ",
          h("span", { id: "quote-currency" }),
        ),
        h("p", { id: "quote-replacement", class: "muted", hidden: true }),
        h(
          "div",
          { class: "pay" },
          field("pay-handed", "Cash handed over", { inputmode: "decimal", autocomplete: "off" }),
          h("div", { class: "row" }, cashBtn, cardBtn),
        ),
        h(
          "fieldset",
          { class: "refund" },
          h("legend", {}, "Supervisor: refund"),
          field("refund-ticket", "Ticket", { autocomplete: "off" }),
          field("refund-amount", "Amount", { inputmode: "decimal", autocomplete: "off" }),
          field("refund-reason", "Reason", { autocomplete: "off" }),
          refundBtn,
        ),
      ),
      h(
        "section",
        { id: "paid", class: "card paid", "aria-labelledby": "paid-title", hidden: true },
        h("h3", { id: "paid-title" }, "Paid"),
        h(
          "p",
          {},
          "Paid ",
          h("strong", { id: "paid-amount" }),
          " · change ",
          h("strong", { id: "paid-change" }),
          " · still owed ",
          h("strong", { id: "paid-owed" }),
        ),
        h("pre", { id: "receipt", class: "receipt" }),
        printBtn,
      ),
    ),
  );

  view.querySelector("#booth-find-form")!.addEventListener("submit", (ev) => {
    ev.preventDefault();
    find();
  });
  findBtn.addEventListener("click", find);
  view.querySelector("#lost-form")!.addEventListener("submit", (ev) => {
    ev.preventDefault();
    lost();
  });
  lostBtn.addEventListener("click", lost);
  view.querySelector("#valet-form")!.addEventListener("submit", (ev) => ev.preventDefault());
  for (const [step, btn] of valetButtons) btn.addEventListener("click", () => valet(step, btn));
  cashBtn.addEventListener("click", () => pay("cash"));
  cardBtn.addEventListener("click", () => pay("card"));
  printBtn.addEventListener("click", () => window.print());
  refundBtn.addEventListener("click", () => {
    const ticket = byId<HTMLInputElement>("refund-ticket").value.trim() || quote?.ticket || "";
    const amount = byId<HTMLInputElement>("refund-amount").value.trim();
    const why = byId<HTMLInputElement>("refund-reason").value;
    void act(
      refundBtn,
      () => api.refund(ticket, amount, why),
      (msg) => {
        requote(ticket);
        return msg || `Refunded ${amount} on ${ticket}.`;
      },
    );
  });
  return view;
}

function find(): void {
  const text = byId<HTMLInputElement>("booth-find").value.trim();
  void act(byId<HTMLButtonElement>("booth-find-submit"), () => api.findStay(text), (q) => {
    showQuote(q);
    return `Found ticket ${q.ticket}: ${formatMoney(q.total, q.currency)} due.`;
  });
}

function lost(): void {
  const plate = byId<HTMLInputElement>("lost-plate").value.trim();
  const find = async () => api.lostTicket(plate, chosen("lost-class", VEHICLE_CLASSES));
  void act(byId<HTMLButtonElement>("lost-submit"), find, (q) => {
    showQuote(q);
    return `Lost ticket for ${q.plate ?? plate}: ${formatMoney(q.total, q.currency)} due.`;
  });
}

/** A valet step; when the car is asked for, its stay comes up to take the valet fee. */
function valet(step: ValetStep, btn: HTMLButtonElement): void {
  const text = (id: string) => byId<HTMLInputElement>(id).value.trim();
  const cls = byId<HTMLSelectElement>("valet-class").value;
  void act(
    btn,
    () => api.valet(step, text("valet-tag"), text("valet-plate"), cls, text("valet-spot")),
    (info) => {
      if (step === "request") {
        api.findStay(info.ticket).then(
          (q) => showQuote(q),
          () => {},
        );
      }
      return info.message;
    },
  );
}

function requote(ticket: string): void {
  api.findStay(ticket).then(
    (q) => showQuote(q, false),
    () => {},
  );
}

export function showQuote(q: QuoteView, fresh = true): void {
  quote = q;
  byId("quote").hidden = false;
  byId("quote-ticket").textContent = q.ticket;
  byId("quote-plate").textContent = q.plate ?? "unknown";
  byId("quote-class").textContent = q.class;
  byId("quote-entry").textContent = q.entry_local;
  byId("quote-minutes").textContent = String(q.minutes);
  byId("quote-duration").textContent = `(${durationText(q.minutes)})`;
  byId("quote-spot").textContent = q.spot ?? "—";
  byId("quote-paid").textContent = formatMoney(q.paid, q.currency);
  byId("quote-lines").replaceChildren(...q.lines.map((l) => h("li", {}, l)));
  byId("quote-total").textContent = q.total;
  byId("quote-currency").textContent = q.currency;
  const rep = byId("quote-replacement");
  rep.hidden = !q.replacement_qr;
  rep.textContent = q.replacement_qr ? `Replacement ticket: ${q.replacement_qr}` : "";
  if (fresh) {
    byId<HTMLInputElement>("pay-handed").value = q.total;
    byId<HTMLInputElement>("refund-ticket").value = q.ticket;
    byId("paid").hidden = true;
  }
}

export function pay(method: BoothMethod): void {
  if (!quote) {
    toast("Find a stay first (F2), or take a lost ticket (F3).", true);
    return;
  }
  const ticket = quote.ticket;
  const handed = byId<HTMLInputElement>("pay-handed").value.trim();
  const btn = byId<HTMLButtonElement>(method === "cash" ? "pay-cash" : "pay-card");
  void act(btn, () => api.pay(ticket, method, method === "cash" ? handed : ""), (p) => {
    byId("paid").hidden = false;
    byId("paid-amount").textContent = formatMoney(p.paid, p.currency);
    byId("paid-change").textContent = p.change;
    byId("paid-owed").textContent = formatMoney(p.owed, p.currency);
    byId("receipt").textContent = p.receipt;
    requote(ticket);
    return `Paid ${formatMoney(p.paid, p.currency)} on ${p.ticket}; change ${formatMoney(p.change, p.currency)}.`;
  });
}

export function resetBooth(): void {
  quote = null;
  const q = document.getElementById("quote");
  if (q) q.hidden = true;
  const p = document.getElementById("paid");
  if (p) p.hidden = true;
}
