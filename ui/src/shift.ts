// The shift tab: open a shift with a float, close it with the counted cash (Z-report).
import { api } from "../../ts/api";
import { act, button, byId, field, h } from "./dom";

export function shiftView(): HTMLElement {
  const openBtn = button("shift-open", "Open shift", { class: "primary" });
  const closeBtn = button("shift-close", "Close shift");
  const view = h(
    "div",
    { class: "shift-layout" },
    h(
      "section",
      { class: "card", "aria-labelledby": "shift-open-title" },
      h("h3", { id: "shift-open-title" }, "Open a shift"),
      field("shift-float", "Float (cash in the drawer)", { inputmode: "decimal", autocomplete: "off" }),
      openBtn,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "shift-close-title" },
      h("h3", { id: "shift-close-title" }, "Close the shift"),
      field("shift-counted", "Cash counted", { inputmode: "decimal", autocomplete: "off" }),
      closeBtn,
    ),
    h(
      "section",
      { class: "card shift-out", "aria-labelledby": "shift-status-title" },
      h("h3", { id: "shift-status-title" }, "Shift"),
      h("p", { id: "shift-status", "aria-live": "polite" }),
      h("pre", { id: "zreport", class: "receipt" }),
    ),
  );
  openBtn.addEventListener("click", () => {
    const float = byId<HTMLInputElement>("shift-float").value.trim();
    void act(openBtn, () => api.openShift(float), (s) => {
      byId("shift-status").textContent = s.text;
      return s.text || "Shift opened.";
    });
  });
  closeBtn.addEventListener("click", () => {
    const counted = byId<HTMLInputElement>("shift-counted").value.trim();
    void act(closeBtn, () => api.closeShift(counted), (s) => {
      byId("shift-status").textContent = s.open ? "Shift still open." : "Shift closed.";
      byId("zreport").textContent = s.text;
      return "Shift closed; the Z-report is below.";
    });
  });
  return view;
}
