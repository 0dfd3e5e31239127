// Small DOM helpers and the toast.
import { asApiError } from "../../ts/api";

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`class`, `data-*`, `aria-*`, boolean ones) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** The element with `id`; throws when the page lacks it (a bug in the markup). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** A select's value, as one of the values it offers (a union generated from Rust). */
export function chosen<T extends string>(id: string, offered: readonly T[]): T {
  const value = byId<HTMLSelectElement>(id).value;
  const found = offered.find((v) => v === value);
  if (found === undefined) {
    throw { kind: "invalid_input", message: `'${value}' is not one of ${offered.join(", ")}` };
  }
  return found;
}

export function inputValue(id: string): string {
  return byId<HTMLInputElement>(id).value;
}

/** A labelled input: `<label for=id>text</label><input id=id>`, wrapped in a .field div. */
export function field(
  id: string,
  label: string,
  attrs: Attrs = {},
  tag: "input" | "select" = "input",
): HTMLDivElement {
  const input = h(tag, { id, name: id, ...attrs });
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

export function button(id: string | null, text: string, attrs: Attrs = {}): HTMLButtonElement {
  return h("button", { type: "button", id: id ?? undefined, ...attrs }, text);
}

/** Show a message in the toast; it stays until the next one. */
export function toast(text: string, error = false): void {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("error", error);
  el.classList.add("shown");
}

/** Show a refusal (ApiError) in the toast. */
export function toastError(e: unknown): void {
  toast(asApiError(e).message, true);
}

/**
 * Run an app call from a button: the button is disabled meanwhile; success shows `ok(result)`
 * (when it gives text), failure shows the refusal.
 */
export async function act<T>(
  btn: HTMLButtonElement | null,
  run: () => Promise<T>,
  ok?: (r: T) => string | void,
): Promise<T | undefined> {
  if (btn) btn.disabled = true;
  try {
    const r = await run();
    const text = ok?.(r);
    if (text) toast(text);
    return r;
  } catch (e) {
    toastError(e);
    return undefined;
  } finally {
    if (btn) btn.disabled = false;
  }
}
