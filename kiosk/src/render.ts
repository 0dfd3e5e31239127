// Draws a view model into #screen. Buttons call back with their action; nothing else happens here.
import type { Action, ViewModel } from "./view";
import { wayMap } from "./waymap";

function make<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  props: { id?: string; className?: string; text?: string } = {},
): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (props.id) e.id = props.id;
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  return e;
}

function attract(doc: Document): HTMLElement {
  const box = make(doc, "div", { id: "attract", className: "attract" });
  box.setAttribute("aria-hidden", "true");
  box.innerHTML =
    '<svg viewBox="0 0 200 120" class="attract-art" focusable="false">' +
    '<rect x="20" y="92" width="160" height="14" rx="7" class="attract-loop"/>' +
    '<g class="attract-car"><rect x="62" y="40" width="76" height="36" rx="10"/>' +
    '<circle cx="80" cy="80" r="10"/><circle cx="120" cy="80" r="10"/></g>' +
    '<path d="M100 4 V 28 M88 18 L100 30 L112 18" class="attract-arrow"/></svg>';
  return box;
}

export function renderScreen(
  root: HTMLElement,
  vm: ViewModel,
  onAction: (a: Action) => void,
): void {
  const doc = root.ownerDocument;
  root.dataset.kind = vm.kind;
  const parts: Node[] = [];

  parts.push(make(doc, "h1", { id: "heading", text: vm.heading }));
  if (vm.big) {
    const big = make(doc, "p", { className: `big big-${vm.big.id}` });
    if (vm.big.label) big.append(make(doc, "span", { className: "big-label", text: vm.big.label }));
    big.append(make(doc, "span", { id: vm.big.id, className: "big-value", text: vm.big.text }));
    parts.push(big);
  }
  if (vm.plate) parts.push(make(doc, "p", { id: "plate", className: "plate", text: vm.plate }));
  if (vm.reason) parts.push(make(doc, "p", { id: "reason", className: "reason", text: vm.reason }));
  if (vm.attract) parts.push(attract(doc));
  for (const p of vm.body) parts.push(make(doc, "p", { className: "body", text: p }));
  if (vm.how) parts.push(make(doc, "p", { id: "how", className: "body", text: vm.how }));
  if (vm.note) parts.push(make(doc, "p", { id: "note", className: "note", text: vm.note }));

  if (vm.lines) {
    const section = make(doc, "section", { className: "lines" });
    section.setAttribute("aria-labelledby", "lines-label");
    section.append(make(doc, "h2", { id: "lines-label", text: vm.lines.label }));
    const ul = make(doc, "ul", { id: "lines" });
    for (const item of vm.lines.items) ul.append(make(doc, "li", { text: item }));
    section.append(ul);
    parts.push(section);
  }

  if (vm.facts.length > 0) {
    const dl = make(doc, "dl", { id: "facts", className: "facts" });
    for (const f of vm.facts) {
      const row = make(doc, "div", { className: `fact fact-${f.id}` });
      row.append(make(doc, "dt", { text: f.label }), make(doc, "dd", { id: f.id, text: f.value }));
      dl.append(row);
    }
    parts.push(dl);
  }
  if (vm.map) {
    const fig = make(doc, "div", { className: "map" });
    fig.append(wayMap(doc, vm.map));
    parts.push(fig);
  }

  if (vm.buttons.length > 0) {
    const group = make(doc, "div", { id: "actions", className: "actions" });
    if (vm.choicesLabel) {
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", vm.choicesLabel);
    }
    for (const b of vm.buttons) {
      const btn = make(doc, "button", {
        id: b.id,
        className: b.primary ? "btn btn-primary" : "btn",
        text: b.text,
      });
      btn.type = "button";
      btn.disabled = b.disabled;
      btn.addEventListener("click", () => onAction(b.action));
      group.append(btn);
    }
    parts.push(group);
  }
  if (vm.status) parts.push(make(doc, "p", { id: "status", className: "status", text: vm.status }));
  if (vm.countdown !== undefined) {
    const c = make(doc, "p", { id: "countdown", className: "countdown", text: vm.countdown });
    c.setAttribute("role", "timer");
    parts.push(c);
  }

  root.replaceChildren(...parts);
}

/** Updates only the countdown's text (so the live region does not re-read the whole screen). */
export function updateCountdown(root: HTMLElement, text: string): boolean {
  const c = root.querySelector<HTMLElement>("#countdown");
  if (!c) return false;
  c.textContent = text;
  return true;
}
