// The report's charts as inline SVG markup (no chart library). Pure: text in, markup out.
import { barGeometry, escapeXml, heatColour, heatTextColour } from "./format";

export interface BarChartOptions {
  width?: number;
  height?: number;
  /** The chart's accessible name. */
  title: string;
  /** How a value is written in its tooltip and label. */
  valueText?: (v: number, i: number) => string;
  /** Show the value above each bar (for charts with few bars). */
  showValues?: boolean;
  colour?: string;
}

const r = (n: number) => Math.round(n * 10) / 10;

/** A bar chart: one bar per value, its label under it. */
export function barChartSvg(values: number[], labels: string[], o: BarChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 200;
  const padTop = 18;
  const padBottom = 22;
  const padSide = 4;
  const plotH = height - padTop - padBottom;
  const plotW = width - padSide * 2;
  const text = o.valueText ?? ((v: number) => String(r(v)));
  const gap = values.length > 12 ? 2 : 12;
  const bars = barGeometry(values, plotW, plotH, gap);
  const colour = o.colour ?? "#2e5ea6";
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(o.title)}" preserveAspectRatio="xMidYMid meet">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<line x1="${padSide}" y1="${padTop + plotH}" x2="${width - padSide}" y2="${padTop + plotH}" stroke="#6b7280" stroke-width="1"/>`,
  );
  if (values.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#374151">No data</text>`,
    );
  }
  bars.forEach((b, i) => {
    const x = r(padSide + b.x);
    const label = labels[i] ?? "";
    const vt = text(b.value, i);
    parts.push(
      `<rect class="bar" data-index="${i}" x="${x}" y="${r(padTop + b.y)}" width="${r(b.width)}" height="${r(b.height)}" fill="${colour}"><title>${escapeXml(label)}: ${escapeXml(vt)}</title></rect>`,
      `<text x="${r(x + b.width / 2)}" y="${height - 6}" text-anchor="middle" font-size="11" fill="#1f2937">${escapeXml(label)}</text>`,
    );
    if (o.showValues) {
      parts.push(
        `<text x="${r(x + b.width / 2)}" y="${r(padTop + b.y - 4)}" text-anchor="middle" font-size="11" fill="#111827">${escapeXml(vt)}</text>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("");
}

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The peak-hours heatmap: 7 rows (Mon..Sun) by 24 hours, colour scaled to the largest cell. */
export function heatmapSvg(grid: number[][], title: string): string {
  const cell = 24;
  const left = 40;
  const top = 18;
  const rows = WEEKDAYS.length;
  const width = left + 24 * cell + 2;
  const height = top + rows * cell + 2;
  const max = Math.max(0, ...grid.flat().filter((v) => Number.isFinite(v)));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
  ];
  for (let h = 0; h < 24; h += 3) {
    parts.push(
      `<text x="${left + h * cell + cell / 2}" y="12" text-anchor="middle" font-size="10" fill="#1f2937">${h}</text>`,
    );
  }
  for (let d = 0; d < rows; d++) {
    parts.push(
      `<text x="${left - 6}" y="${top + d * cell + cell / 2 + 4}" text-anchor="end" font-size="11" fill="#1f2937">${WEEKDAYS[d]}</text>`,
    );
    for (let h = 0; h < 24; h++) {
      const v = grid[d]?.[h] ?? 0;
      const c = heatColour(v, max);
      parts.push(
        `<rect class="cell" data-day="${d}" data-hour="${h}" x="${left + h * cell}" y="${top + d * cell}" width="${cell - 1}" height="${cell - 1}" fill="${c}"><title>${WEEKDAYS[d]} ${String(h).padStart(2, "0")}:00: ${r(v)}</title></rect>`,
      );
      if (v > 0 && max > 0 && v === max) {
        parts.push(
          `<text x="${left + h * cell + cell / 2}" y="${top + d * cell + cell / 2 + 4}" text-anchor="middle" font-size="9" fill="${heatTextColour(c)}">max</text>`,
        );
      }
    }
  }
  parts.push("</svg>");
  return parts.join("");
}
