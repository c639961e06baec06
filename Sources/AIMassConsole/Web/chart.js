// A line chart of one metric across versions, as SVG.
import { svg } from "./dom.js";

/** points: [{x: version number, y: value}] in version order. */
export function lineChart(points, label) {
  const width = 640, height = 220, left = 56, right = 16, top = 16, bottom = 32;
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${label} across versions` });
  if (points.length === 0) {
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, `no version has ${label}`));
    return root;
  }
  const ys = points.map((p) => p.y);
  let low = Math.min(...ys), high = Math.max(...ys);
  if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
  const xs = points.map((p) => p.x);
  const xLow = Math.min(...xs), xHigh = Math.max(...xs);
  const x = (v) => left + (xHigh === xLow ? (width - left - right) / 2 : (v - xLow) / (xHigh - xLow) * (width - left - right));
  const y = (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom);
  root.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  root.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  for (const v of [low, (low + high) / 2, high]) {
    root.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toPrecision(3)));
  }
  for (const p of points) {
    root.append(svg("text", { x: x(p.x), y: height - bottom + 16, "text-anchor": "middle" }, "v" + p.x));
  }
  root.append(svg("polyline", { class: "line", points: points.map((p) => `${x(p.x)},${y(p.y)}`).join(" ") }));
  for (const p of points) {
    root.append(svg("circle", { cx: x(p.x), cy: y(p.y), r: 4 }, svg("title", {}, `v${p.x}: ${p.y}`)));
  }
  return root;
}
