import { describe, expect, it } from "vitest";
import { barChartSvg, heatmapSvg } from "./charts";
import { HEAT_COLOURS } from "./format";

function parse(svg: string): Document {
  return new DOMParser().parseFromString(svg, "image/svg+xml");
}

describe("barChartSvg", () => {
  it("draws one bar per value, the largest the tallest", () => {
    const doc = parse(barChartSvg([1, 3, 2], ["a", "b", "c"], { title: "T" }));
    const bars = Array.from(doc.querySelectorAll("rect.bar"));
    expect(bars).toHaveLength(3);
    const heights = bars.map((b) => Number(b.getAttribute("height")));
    expect(Math.max(...heights)).toBe(heights[1]);
    expect(heights[0]).toBeLessThan(heights[2]);
    expect(doc.documentElement.getAttribute("role")).toBe("img");
    expect(doc.documentElement.getAttribute("aria-label")).toBe("T");
  });
  it("escapes labels", () => {
    const svg = barChartSvg([1], ["<cash & co>"], { title: "a \"b\"" });
    expect(svg).toContain("&lt;cash &amp; co&gt;");
    expect(parse(svg).querySelector("parsererror")).toBeNull();
  });
  it("says when there is no data", () => {
    expect(barChartSvg([], [], { title: "x" })).toContain("No data");
  });
});

describe("heatmapSvg", () => {
  it("draws 7×24 cells, the maximum in the darkest colour", () => {
    const grid = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 1));
    grid[4][17] = 9;
    const doc = parse(heatmapSvg(grid, "Peak"));
    const cells = doc.querySelectorAll("rect.cell");
    expect(cells).toHaveLength(168);
    const max = doc.querySelector('rect[data-day="4"][data-hour="17"]')!;
    expect(max.getAttribute("fill")).toBe(HEAT_COLOURS[HEAT_COLOURS.length - 1]);
    const other = doc.querySelector('rect[data-day="0"][data-hour="0"]')!;
    expect(other.getAttribute("fill")).not.toBe(HEAT_COLOURS[HEAT_COLOURS.length - 1]);
  });
  it("copes with a short or empty grid", () => {
    const doc = parse(heatmapSvg([], "Empty"));
    const cells = Array.from(doc.querySelectorAll("rect.cell"));
    expect(cells).toHaveLength(168);
    expect(cells.every((c) => c.getAttribute("fill") === HEAT_COLOURS[0])).toBe(true);
  });
});
