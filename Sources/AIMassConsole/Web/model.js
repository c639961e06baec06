// #/models/NAME: versions with metrics (table and chart), tuning trials and A/B outcomes, diff, aliases and their history, upload, permissions.
import { get, post, put, enc, upload, sha256Hex } from "./api.js";
import { h, table, time, bytes, fmt } from "./dom.js";
import { lineChart } from "./chart.js";
import { tuningCard, abCard } from "./experiments.js";

/** The last upload's outcome, shown again when the page is redrawn after it (the new version in the table). */
let lastUpload = null;

export async function modelView(ctx, name) {
  const [model, listing, history, permissions] = await Promise.all([
    ctx.run(() => get(`/api/models/${enc(name)}`)),
    ctx.run(() => get(`/api/models/${enc(name)}/versions?page_size=500`)),
    ctx.run(() => get(`/api/models/${enc(name)}/aliases?page_size=100`)),
    ctx.run(() => get(`/api/models/${enc(name)}/permissions`)),
  ]);
  if (!model) { ctx.render(h("h1", {}, name)); return; }
  await ctx.loadRoles([name]);
  const canWrite = ctx.may("WRITER", name), canOwn = ctx.may("OWNER", name);
  const versions = listing ? listing.versions : [];
  const metricKeys = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();

  // Header
  const header = h("div", { class: "card" },
    h("h1", { id: "model-name" }, model.name),
    h("p", {}, model.description || h("span", { class: "muted" }, "no description")),
    h("div", {}, model.tags.map((t) => h("span", { class: "tag" }, t))),
    h("p", { class: "muted" }, `by ${model.author} · created ${time(model.created_at_ms)} · latest v${model.latest_version}`,
      " · manifest ", h("code", {}, Object.entries(model.manifest).map(([k, v]) => `${k}=${v}`).join(" "))));

  // Versions and metrics
  const versionRows = versions.map((v) => h("tr", { "data-version": v.number },
    h("td", { class: "num" }, "v" + v.number),
    h("td", {}, v.aliases.map((a) => h("span", { class: "tag" }, a))),
    h("td", {}, v.description), h("td", {}, v.author), h("td", {}, time(v.created_at_ms)),
    h("td", { class: "num" }, bytes(v.size_bytes)), h("td", { class: "mono", title: v.sha256 }, v.sha256.slice(0, 12)),
    metricKeys.map((k) => h("td", { class: "num", "data-metric": k }, k in v.metrics ? fmt(v.metrics[k]) : "—")),
    h("td", {}, canWrite && h("button", { class: "secondary evaluate", type: "button", onclick: async () => {
      await ctx.run(async () => {
        await post("/api/evaluate", { model: name, version: v.number });
        ctx.notice(`v${v.number} evaluated; metrics stored.`);
        ctx.refresh();
      });
    } }, "Evaluate"))));
  const versionsCard = h("div", { class: "card" }, h("h2", {}, "Versions"),
    versions.length ? table(["#", "Aliases", "Description", "Author", "Published", "Size", "SHA-256", ...metricKeys, ""],
      versionRows, { id: "versions-table" }) : h("p", { class: "muted" }, "No version yet: upload one below."));

  // Chart of one metric across versions
  const chartHolder = h("div", { id: "metric-chart" });
  const metricSelect = h("select", { id: "chart-metric", onchange: () => drawChart() },
    metricKeys.map((k) => h("option", { value: k }, k)));
  const preferred = metricKeys.find((k) => k.startsWith("loo.ndcg")) || metricKeys[0];
  if (preferred) metricSelect.value = preferred;
  function drawChart() {
    const key = metricSelect.value;
    const points = versions.filter((v) => key in v.metrics).map((v) => ({ x: v.number, y: v.metrics[key] }))
      .sort((a, b) => a.x - b.x);
    chartHolder.replaceChildren(lineChart(points, key || "metrics"));
  }
  drawChart();
  const chartCard = h("div", { class: "card" }, h("h2", {}, "Metric across versions"),
    metricKeys.length ? [h("label", {}, "Metric", metricSelect), chartHolder]
      : h("p", { class: "muted", id: "no-metrics" }, "No version has metrics yet" + (canWrite ? ": press Evaluate on a version." : ".")));

  // Diff
  const versionOptions = () => versions.map((v) => h("option", { value: v.number }, "v" + v.number));
  const oldSelect = h("select", { id: "diff-old" }, versionOptions());
  const newSelect = h("select", { id: "diff-new" }, versionOptions());
  if (versions.length > 1) { newSelect.value = versions[0].number; oldSelect.value = versions[1].number; }
  const diffResult = h("div", { id: "diff-result" });
  const diffCard = h("div", { class: "card" }, h("h2", {}, "Compare two versions"),
    h("form", { class: "inline", id: "diff-form", onsubmit: async (e) => {
      e.preventDefault();
      const diff = await ctx.run(() => get(`/api/models/${enc(name)}/diff?old=${oldSelect.value}&new=${newSelect.value}`));
      if (!diff) return;
      diffResult.replaceChildren(diff.changes.length
        ? table(["Field", "v" + diff.old_version, "v" + diff.new_version, ""], diff.changes.map((c) => h("tr", {},
          h("td", { class: "mono" }, c.field), h("td", { class: "mono" }, c.old_value), h("td", { class: "mono" }, c.new_value),
          h("td", { class: "kind-" + c.kind }, c.kind))), { id: "diff-table" })
        : h("p", { class: "muted" }, `v${diff.old_version} and v${diff.new_version} are identical.`));
    } }, h("label", {}, "Old", oldSelect), h("label", {}, "New", newSelect), h("button", { type: "submit" }, "Diff")),
    diffResult);

  // Aliases: set or move, and the history with reasons
  const aliasName = h("input", { id: "alias-name", placeholder: "production", required: true });
  const aliasVersion = h("select", { id: "alias-version" }, versionOptions());
  const aliasReason = h("input", { id: "alias-reason", placeholder: "why (kept in the history)" });
  const aliasForm = h("form", { class: "inline", id: "alias-form", onsubmit: async (e) => {
    e.preventDefault();
    const change = await ctx.run(() => put(`/api/models/${enc(name)}/aliases/${enc(aliasName.value)}`,
      { version: Number(aliasVersion.value), reason: aliasReason.value }));
    if (change) {
      ctx.notice(`${change.alias}: v${change.previous_version || "–"} → v${change.version}`);
      ctx.refresh();
    }
  } }, h("label", {}, "Alias", aliasName), h("label", {}, "Version", aliasVersion), h("label", {}, "Reason", aliasReason),
    h("button", { type: "submit" }, "Set alias"));
  const historyRows = (history ? history.changes : []).map((c) => h("tr", {},
    h("td", {}, time(c.changed_at_ms)), h("td", {}, c.alias),
    h("td", {}, `${c.previous_version ? "v" + c.previous_version : "(new)"} → ${c.version ? "v" + c.version : "(deleted)"}`),
    h("td", {}, c.principal), h("td", {}, c.reason)));
  const aliasCard = h("div", { class: "card" }, h("h2", {}, "Aliases"),
    h("p", {}, Object.keys(model.aliases).length
      ? Object.entries(model.aliases).map(([a, v]) => h("span", { class: "tag" }, `${a} → v${v}`))
      : h("span", { class: "muted" }, "none yet")),
    canWrite ? aliasForm : null, h("h2", {}, "History"),
    historyRows.length ? table(["When", "Alias", "Move", "By", "Reason"], historyRows, { id: "alias-history" })
      : h("p", { class: "muted" }, "No alias has moved yet."));

  // Upload by drag and drop (or file picker), with the SHA-256 computed here and checked by the server.
  const fileInput = h("input", { type: "file", id: "upload-file" });
  const description = h("input", { id: "upload-description", placeholder: "what changed" });
  const status = h("div", { id: "upload-status", class: "muted" });
  const progress = h("progress", { id: "upload-progress", max: 100, value: 0, hidden: true });
  const drop = h("div", { class: "drop", id: "upload-drop" }, "Drop an interactions file here, or ", fileInput);
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files.length) start(e.dataTransfer.files[0]);
  });
  fileInput.addEventListener("change", () => { if (fileInput.files.length) start(fileInput.files[0]); });
  if (lastUpload && lastUpload.model === name) {
    progress.hidden = false; progress.value = lastUpload.percent; status.textContent = lastUpload.text;
  }
  async function start(file) {
    lastUpload = null;
    progress.hidden = false; progress.value = 0;
    status.textContent = `Computing the SHA-256 of ${file.name} (${bytes(file.size)})…`;
    const version = await ctx.run(async () => {
      const sha = await sha256Hex(file);
      status.textContent = `Uploading ${file.name}, sha256 ${sha.slice(0, 12)}…`;
      return upload(name, file, sha, description.value ? { description: description.value } : {}, (sent, total) => {
        progress.value = total ? Math.round(sent * 100 / total) : 0;
        status.textContent = `Uploading ${file.name}: ${bytes(sent)} of ${bytes(total)} (${progress.value}%)`;
      });
    });
    if (!version) { status.textContent = "The upload failed: nothing was stored; the file is still yours to retry."; return; }
    lastUpload = { model: name, percent: progress.value,
      text: `Uploaded v${version.number}: ${bytes(version.size_bytes)}, sha256 ${version.sha256} verified by the server.` };
    ctx.notice(`v${version.number} published.`);
    ctx.refresh();
  }
  const uploadCard = h("div", { class: "card" }, h("h2", {}, "Upload a new version"),
    h("label", {}, "Description", description), drop, progress, status);

  // Permissions
  const principal = h("input", { id: "grant-principal", placeholder: "user:ana or group:team", required: true });
  const role = h("select", { id: "grant-role" }, ["READER", "WRITER", "OWNER", "NONE"].map((r) => h("option", {}, r)));
  const permCard = h("div", { class: "card" }, h("h2", {}, "Permissions"),
    permissions ? table(["Principal", "Role"], permissions.permissions.map((p) => h("tr", {},
      h("td", {}, p.principal), h("td", {}, p.role))), { id: "permissions-table" }) : null,
    canOwn && h("form", { class: "inline", id: "grant-form", onsubmit: async (e) => {
      e.preventDefault();
      if (await ctx.run(() => put(`/api/models/${enc(name)}/permissions`, { principal: principal.value, role: role.value }))) ctx.refresh();
    } }, h("label", {}, "Principal", principal), h("label", {}, "Role", role), h("button", { type: "submit" }, "Grant")));

  const readOnly = canWrite ? null : h("p", { class: "notice", id: "read-only" }, ctx.console.read_only
    ? `This is the read-only console of worker ${ctx.console.worker_address}: uploads, alias moves and evaluations are made on the control plane's console.`
    : `Your token may read ${name} but not change it (it needs WRITER): uploads, alias moves and evaluations are hidden.`);
  ctx.render(header, readOnly, versionsCard, chartCard, tuningCard(versions), abCard(ctx, model),
    canWrite ? uploadCard : null, aliasCard, diffCard, permCard);
}
