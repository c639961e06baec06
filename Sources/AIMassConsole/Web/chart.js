// Charts as SVG: a metric across versions, the trials of a tuning search, click-through per version with intervals.
import { svg } from "./dom.js";

/** points: [{x: version number, y: value}] in version order. */
export function lineChart(points, label) {
  const width = 640, height = 220, margin = { left: 56, right: 16, top: 16, bottom: 32 };
  if (points.length === 0) {
    const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img" });
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, `no version has ${label}`));
    return root;
  }
  const ys = points.map((p) => p.y);
  let low = Math.min(...ys), high = Math.max(...ys);
  if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
  const { root, y } = frame(width, height, margin, low, high, `${label} across versions`, (v) => v.toPrecision(3));
  const xs = points.map((p) => p.x);
  const xLow = Math.min(...xs), xHigh = Math.max(...xs), span = width - margin.left - margin.right;
  const x = (v) => margin.left + (xHigh === xLow ? span / 2 : (v - xLow) / (xHigh - xLow) * span);
  for (const p of points) {
    root.append(svg("text", { x: x(p.x), y: height - margin.bottom + 16, "text-anchor": "middle" }, "v" + p.x));
  }
  root.append(svg("polyline", { class: "line", points: points.map((p) => `${x(p.x)},${y(p.y)}`).join(" ") }));
  for (const p of points) {
    root.append(svg("circle", { cx: x(p.x), cy: y(p.y), r: 4 }, svg("title", {}, `v${p.x}: ${p.y}`)));
  }
  return root;
}

/** The frame of a chart: the SVG root, the y scale over [low, high] with three labelled ticks, and the axes. */
function frame(width, height, margin, low, high, label, format) {
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const y = (v) => margin.top + (1 - (v - low) / (high - low)) * (height - margin.top - margin.bottom);
  root.append(svg("line", { class: "axis", x1: margin.left, y1: height - margin.bottom, x2: width - margin.right,
    y2: height - margin.bottom }));
  root.append(svg("line", { class: "axis", x1: margin.left, y1: margin.top, x2: margin.left, y2: height - margin.bottom }));
  for (const v of [low, (low + high) / 2, high]) {
    root.append(svg("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  return { root, y };
}

/**
 * A tuning search, trial by trial: each trial's `metric` (y) in the order the search ran them (x), coloured by
 * algorithm, the running best as a step line, and the trial the tuned version was made from ringed.
 * trials: [{index, label, algorithm, value}] (value null when the trial lacks the metric); chosen: an index or -1.
 */
export function trialsChart(trials, metric, chosen) {
  const width = 640, height = 250, margin = { left: 56, right: 16, top: 20, bottom: 44 };
  const scored = trials.filter((t) => typeof t.value === "number");
  if (scored.length === 0) {
    const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img" });
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, `no trial has ${metric}`));
    return root;
  }
  let low = Math.min(...scored.map((t) => t.value)), high = Math.max(...scored.map((t) => t.value));
  if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
  const { root, y } = frame(width, height, margin, low, high, `${metric} of ${trials.length} tuning trials`,
    (v) => v.toPrecision(3));
  const n = trials.length;
  const x = (i) => margin.left + 12 + (n === 1 ? 0 : i / (n - 1) * (width - margin.left - margin.right - 24));
  const ticks = n <= 12 ? trials.map((t) => t.index) : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of ticks) {
    root.append(svg("text", { x: x(i), y: height - margin.bottom + 16, "text-anchor": "middle" }, `trial ${i + 1}`));
  }
  // The running best: where the search stood after each trial.
  let best = -Infinity;
  const steps = [];
  for (const t of trials) {
    if (typeof t.value === "number" && t.value > best) {
      if (steps.length) steps.push(`${x(t.index)},${y(best)}`);
      best = t.value;
      steps.push(`${x(t.index)},${y(best)}`);
    }
  }
  steps.push(`${x(n - 1)},${y(best)}`);
  root.append(svg("polyline", { class: "best", points: steps.join(" ") }));
  for (const t of scored) {
    const isChosen = t.index === chosen;
    root.append(svg("circle", { class: `trial ${t.algorithm}${isChosen ? " chosen" : ""}`, cx: x(t.index), cy: y(t.value),
      r: isChosen ? 7 : 4, "data-trial": t.index + 1, "data-value": t.value },
    svg("title", {}, `trial ${t.index + 1}: ${t.label}: ${metric} ${t.value}${isChosen ? " (chosen)" : ""}`)));
  }
  const picked = scored.find((t) => t.index === chosen);
  if (picked) {
    root.append(svg("text", { class: "chosen-label", x: x(picked.index), y: y(picked.value) - 11,
      "text-anchor": "middle" }, "chosen"));
  }
  const algorithms = [...new Set(scored.map((t) => t.algorithm))];
  // The legend under the axis labels, so that it never covers a point.
  algorithms.forEach((a, i) => {
    root.append(svg("circle", { class: `legend ${a}`, cx: margin.left + 4 + i * 80, cy: height - 6, r: 4 }));
    root.append(svg("text", { x: margin.left + 12 + i * 80, y: height - 2 }, a));
  });
  return root;
}

/**
 * Click-through per served version with Wilson's 95% interval: a bar per version, a whisker from low to high.
 * rows: [{version, views, clicks, click_through (null without views), click_through_ci95: [low, high], role}].
 */
export function intervalChart(rows) {
  const width = 640, height = 240, margin = { left: 56, right: 16, top: 20, bottom: 48 };
  const high = Math.max(0.01, ...rows.map((r) => r.click_through_ci95[1]));
  const { root, y } = frame(width, height, margin, 0, high, "click-through per version with 95% intervals",
    (v) => (v * 100).toFixed(1) + "%");
  const slot = (width - margin.left - margin.right) / Math.max(1, rows.length);
  rows.forEach((r, i) => {
    const centre = margin.left + slot * (i + 0.5), barWidth = Math.min(64, slot * 0.5);
    const label = r.version === 0 ? "unknown" : "v" + r.version;
    const group = svg("g", { class: "ab-version" + (r.role ? " " + r.role : ""), "data-version": r.version,
      "data-views": r.views, "data-clicks": r.clicks });
    group.append(svg("text", { x: centre, y: height - margin.bottom + 16, "text-anchor": "middle" }, label));
    group.append(svg("text", { class: "muted", x: centre, y: height - margin.bottom + 30, "text-anchor": "middle" },
      r.role ? `${r.role} · ${r.views} views` : `${r.views} views`));
    if (r.click_through === null) {
      group.append(svg("text", { x: centre, y: y(0) - 6, "text-anchor": "middle" }, "no views"));
      root.append(group);
      return;
    }
    const [low, upper] = r.click_through_ci95;
    group.append(svg("rect", { class: "ctr-bar", x: centre - barWidth / 2, y: y(r.click_through), width: barWidth,
      height: y(0) - y(r.click_through), "data-ctr": r.click_through },
    svg("title", {}, `${label}: ${r.clicks} clicks / ${r.views} views = ${(r.click_through * 100).toFixed(2)}% ` +
      `(95% ${(low * 100).toFixed(2)}–${(upper * 100).toFixed(2)}%)`)));
    group.append(svg("line", { class: "interval", x1: centre, x2: centre, y1: y(low), y2: y(upper),
      "data-low": low, "data-high": upper }));
    for (const v of [low, upper]) {
      group.append(svg("line", { class: "interval-cap", x1: centre - 8, x2: centre + 8, y1: y(v), y2: y(v) }));
    }
    group.append(svg("text", { x: centre + barWidth / 2 + 4, y: y(r.click_through) + 4 },
      (r.click_through * 100).toFixed(1) + "%"));
    root.append(group);
  });
  return root;
}
