// The reports tab: a day's report drawn as inline SVG, and its exports.
import { api, type ReportView } from "../../ts/api";
import { act, button, byId, field, h } from "./dom";
import { barChartSvg, heatmapSvg } from "./charts";
import { amountValue, formatMoney } from "./format";

export function reportsView(): HTMLElement {
  const showBtn = button("report-show", "Show report", { class: "primary" });
  const csvBtn = button("export-csv", "Export CSV");
  const pdfBtn = button("export-pdf", "Export PDF");
  const chart = (id: string, title: string) =>
    h(
      "figure",
      { class: "chart card", "aria-labelledby": `${id}-caption` },
      h("figcaption", { id: `${id}-caption` }, title),
      h("div", { id, class: "chart-body" }),
    );
  const view = h(
    "div",
    { class: "reports-layout" },
    h(
      "div",
      { class: "toolbar" },
      field("report-day", "Day (empty = today)", { type: "date" }),
      showBtn,
      csvBtn,
      pdfBtn,
      h("p", { id: "export-result", class: "muted", "aria-live": "polite" }),
    ),
    h("p", { id: "report-summary", class: "summary" }),
    h(
      "div",
      { class: "charts" },
      chart("chart-occupancy", "Occupancy by hour (average vehicles present)"),
      chart("chart-method", "Revenue by payment method"),
      chart("chart-class", "Revenue by vehicle class"),
      chart("heatmap", "Peak hours (average occupancy, weekday × hour)"),
    ),
  );
  const day = () => byId<HTMLInputElement>("report-day").value.trim();
  showBtn.addEventListener("click", () => {
    void act(showBtn, () => api.dayReportView(day()), (r) => {
      drawReport(r);
      return `Report for ${r.day}.`;
    });
  });
  const exp = (b: HTMLButtonElement, fmt: "csv" | "pdf") =>
    b.addEventListener("click", () => {
      void act(b, () => api.exportReport(day(), fmt), (w) => {
        byId("export-result").textContent = w.path;
        return `Wrote ${w.path} (${w.bytes} bytes).`;
      });
    });
  exp(csvBtn, "csv");
  exp(pdfBtn, "pdf");
  return view;
}

export function drawReport(r: ReportView): void {
  byId("report-summary").textContent =
    `${r.day}: revenue ${formatMoney(r.revenue_total, r.currency)} · peak occupancy ${r.occupancy_peak} of ${r.spots} spots`;
  const hours = Array.from({ length: 24 }, (_, i) => r.by_hour[i] ?? 0);
  byId("chart-occupancy").innerHTML = barChartSvg(
    hours,
    hours.map((_, i) => (i % 2 === 0 ? String(i) : "")),
    {
      title: `Occupancy by hour on ${r.day}`,
      valueText: (v, i) => `${String(i).padStart(2, "0")}:00 ${Math.round(v * 10) / 10} vehicles`,
    },
  );
  const money = (lines: ReportView["revenue_by_method"], title: string) =>
    barChartSvg(
      lines.map((l) => amountValue(l.amount)),
      lines.map((l) => l.key),
      {
        title,
        width: 320,
        height: 200,
        showValues: true,
        colour: "#1f7a4d",
        valueText: (_v, i) => `${lines[i].amount} (${lines[i].count})`,
      },
    );
  byId("chart-method").innerHTML = money(r.revenue_by_method, `Revenue by method on ${r.day}, ${r.currency}`);
  byId("chart-class").innerHTML = money(r.revenue_by_class, `Revenue by class on ${r.day}, ${r.currency}`);
  byId("heatmap").innerHTML = heatmapSvg(r.peak_hours, "Peak hours by weekday and hour");
}
