// A model's experiments: the trials of `aimass tune` (a version's `tune.trials` annotation) and the A/B outcomes
// per served version while an alias has a split (the same report as `aimass ab report`).
import { get, enc } from "./api.js";
import { h, table, fmt } from "./dom.js";
import { trialsChart, intervalChart } from "./chart.js";

const PREFERRED_METRIC = "holdout.precision@10";

/** A manifest in a few words: `itemcf cosine implicit K50 iuf`, then any other setting as key=value. */
export function describeManifest(m) {
  const known = ["algorithm", "similarity", "feedback", "neighbours", "weighting"];
  const parts = [m.algorithm || "?", m.similarity || "cosine", m.feedback || "implicit", "K" + (m.neighbours || "20")];
  if (m.weighting) parts.push(m.weighting);
  for (const [k, v] of Object.entries(m).sort()) if (!known.includes(k)) parts.push(`${k}=${v}`);
  return parts.join(" ");
}

/** The trials of a tuned version, or an error text when its annotation is not the JSON `aimass tune` writes. */
function trialsOf(version) {
  try {
    const trials = JSON.parse(version.annotations["tune.trials"]);
    if (!Array.isArray(trials)) return "is not a list";
    return trials.map((t) => ({ manifest: (t && t.manifest) || {}, metrics: (t && t.metrics) || {} }));
  } catch (error) {
    return "is not valid JSON";
  }
}

/** The trial the version was made from: the one whose settings are the version's (every key any trial sets). */
function chosenTrial(trials, version) {
  const keys = [...new Set(trials.flatMap((t) => Object.keys(t.manifest)))];
  return trials.findIndex((t) => keys.every((k) => t.manifest[k] === version.manifest[k]));
}

/** The tuning card (null when no version was tuned): pick a tuned version and a metric, see every trial. */
export function tuningCard(versions) {
  const tuned = versions.filter((v) => v.annotations && "tune.trials" in v.annotations);
  if (!tuned.length) return null;
  const versionSelect = h("select", { id: "tune-version", onchange: () => draw() },
    tuned.map((v) => h("option", { value: v.number }, "v" + v.number)));
  const metricSelect = h("select", { id: "tune-metric", onchange: () => draw(false) });
  const holder = h("div", { id: "tune-chart" });
  const summary = h("p", { id: "tune-summary", class: "muted" });
  const details = h("details", { id: "tune-trials" });
  function draw(newVersion = true) {
    const version = tuned.find((v) => String(v.number) === versionSelect.value);
    const trials = trialsOf(version);
    if (typeof trials === "string") {
      holder.replaceChildren(h("p", { class: "muted" }, `The tune.trials annotation of v${version.number} ${trials}.`));
      summary.replaceChildren(); details.replaceChildren();
      return;
    }
    if (newVersion) {
      const keys = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))].sort();
      metricSelect.replaceChildren(...keys.map((k) => h("option", { value: k }, k)));
      metricSelect.value = keys.includes(PREFERRED_METRIC) ? PREFERRED_METRIC : keys[0] || "";
    }
    const metric = metricSelect.value;
    const chosen = chosenTrial(trials, version);
    const points = trials.map((t, index) => ({ index, label: describeManifest(t.manifest),
      algorithm: t.manifest.algorithm || "other", value: typeof t.metrics[metric] === "number" ? t.metrics[metric] : null }));
    holder.replaceChildren(trialsChart(points, metric, chosen));
    const source = version.annotations["tune.source_version"];
    summary.replaceChildren(`v${version.number}: ${trials.length} trials on the data of v${source || "?"}; `,
      chosen >= 0 ? `chosen trial ${chosen + 1}: ${points[chosen].label}, ${metric} ${fmt(points[chosen].value)}`
        : "no trial has this version's settings");
    details.replaceChildren(h("summary", {}, "Every trial"), table(["#", "Settings", metric], points.map((p) =>
      h("tr", { class: p.index === chosen ? "chosen" : null, "data-trial": p.index + 1 },
        h("td", { class: "num" }, p.index + 1 + (p.index === chosen ? " ✓" : "")), h("td", { class: "mono" }, p.label),
        h("td", { class: "num" }, fmt(p.value))))));
  }
  draw();
  return h("div", { class: "card", id: "tuning-card" }, h("h2", {}, "Tuning trials"),
    h("form", { class: "inline" }, h("label", {}, "Tuned version", versionSelect), h("label", {}, "Metric", metricSelect)),
    holder, summary, details);
}

/**
 * The A/B card (null without a split): each split, and click-through per served version with Wilson's 95% interval,
 * from /api/models/M/ab. Loads after the page is drawn (it reads every recorded event).
 */
export function abCard(ctx, model) {
  const splits = (model.alias_splits || []).filter((s) => s.challenger_version && s.percent);
  if (!splits.length) return null;
  const roles = new Map();
  for (const s of splits) {
    roles.set(s.version, "champion");
    roles.set(s.challenger_version, "challenger");
  }
  const holder = h("div", { id: "ab-chart" }, h("p", { class: "muted" }, "Reading the recorded feedback…"));
  const rowsHolder = h("div", { id: "ab-results" });
  (async () => {
    const report = await ctx.run(() => get(`/api/models/${enc(model.name)}/ab`));
    if (!report) { holder.replaceChildren(); return; }
    const rows = report.versions.map((r) => ({ ...r, role: roles.get(r.version) || "" }));
    if (!rows.length) {
      holder.replaceChildren(h("p", { class: "muted", id: "ab-empty" },
        "No feedback recorded yet: clients record a view per recommended item shown and a click per item clicked."));
      return;
    }
    holder.replaceChildren(intervalChart(rows));
    rowsHolder.replaceChildren(table(["Version", "Role", "Views", "Clicks", "Click-through", "95% interval", "Purchases",
      "Ratings", "Mean rating"], rows.map((r) => h("tr", { "data-version": r.version },
      h("td", { class: "num" }, r.version ? "v" + r.version : "unknown"), h("td", {}, r.role),
      h("td", { class: "num" }, r.views), h("td", { class: "num" }, r.clicks),
      h("td", { class: "num" }, r.click_through === null ? "—" : (r.click_through * 100).toFixed(2) + "%"),
      h("td", { class: "num" }, r.views ? r.click_through_ci95.map((v) => (v * 100).toFixed(2) + "%").join(" – ") : "—"),
      h("td", { class: "num" }, r.purchases), h("td", { class: "num" }, r.ratings),
      h("td", { class: "num" }, r.mean_rating === null ? "—" : fmt(r.mean_rating))))));
  })();
  return h("div", { class: "card", id: "ab-card" }, h("h2", {}, "A/B outcomes"),
    h("p", { id: "ab-splits" }, splits.map((s) => h("span", { class: "tag" },
      `${s.alias}: v${s.version} ${100 - s.percent}% · v${s.challenger_version} ${s.percent}%`))),
    holder, rowsHolder);
}
