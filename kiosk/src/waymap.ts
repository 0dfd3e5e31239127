// A small schematic of the way: the lane at the bottom left, an arrow up the ramp into the level,
// and the spot's box, labelled. Not to scale; the words (#way) give the way itself.
import type { MapModel } from "./view";

const NS = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(
  doc: Document,
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = doc.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function wayMap(doc: Document, m: MapModel): SVGSVGElement {
  const svg = el(doc, "svg", {
    id: "way-map",
    viewBox: "0 0 480 240",
    role: "img",
    "aria-labelledby": "way-map-title",
  });
  svg.append(el(doc, "title", { id: "way-map-title" }, m.label));

  const defs = el(doc, "defs", {});
  const marker = el(doc, "marker", {
    id: "way-arrow-head",
    viewBox: "0 0 10 10",
    refX: 5,
    refY: 5,
    markerWidth: 4,
    markerHeight: 4,
    orient: "auto-start-reverse",
  });
  marker.append(el(doc, "path", { d: "M0 0 L10 5 L0 10 z", fill: "#0a2540" }));
  defs.append(marker);
  svg.append(defs);

  // The level: a big outlined floor with its name.
  svg.append(
    el(doc, "rect", { class: "map-level", x: 150, y: 8, width: 322, height: 224, rx: 10 }),
    el(doc, "text", { class: "map-text", x: 166, y: 44 }, m.level),
  );
  // The lane, where the driver is now.
  svg.append(
    el(doc, "rect", { class: "map-lane", x: 8, y: 130, width: 110, height: 102, rx: 8 }),
    el(doc, "text", { class: "map-text map-small", x: 18, y: 160 }, m.lane),
    el(doc, "circle", { class: "map-you", cx: 63, cy: 200, r: 14 }),
    el(doc, "text", { class: "map-text map-small", x: 84, y: 208 }, m.you),
  );
  // The spot, highlighted.
  svg.append(
    el(doc, "rect", { class: "map-spot", x: 330, y: 120, width: 126, height: 90, rx: 6 }),
    el(doc, "text", { class: "map-text map-spot-text", x: 393, y: 175, "text-anchor": "middle" }, m.spot),
  );
  // The way: up out of the lane, across the level, down into the spot.
  svg.append(
    el(doc, "path", {
      class: "map-way",
      d: "M63 182 V 80 H 393 V 112",
      fill: "none",
      "marker-end": "url(#way-arrow-head)",
    }),
  );
  return svg;
}
