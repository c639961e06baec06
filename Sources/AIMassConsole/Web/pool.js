// #/pool: deployments and workers, live from the event stream (no reload); deploy, scale, undeploy, drain.
import { get, post, del, enc } from "./api.js";
import { h, table, bytes, fmt, state, time } from "./dom.js";

const LIVE = ["PENDING", "DOWNLOADING", "LOADING", "READY", "DRAINING"];

function meter(label, used, total, id, shown) {
  const share = total > 0 ? Math.min(100, Math.round(used * 100 / total)) : 0;
  const fill = h("span", {});
  fill.style.width = share + "%";  // a style property, not a style attribute (the CSP allows no inline styles)
  return h("div", {}, h("div", { class: "muted" }, `${label}: ${shown || `${used} / ${total}`}`),
    h("div", { class: "bar", id, title: share + "%" }, fill));
}

export function poolView(ctx) {
  const pool = ctx.pool;
  // On a worker's console: only that worker, and only the replicas on it.
  const only = ctx.console.worker_address;
  const shownWorkers = () => [...pool.workers.values()].filter((w) => !only || w.address === only);
  const here = (r) => !only || shownWorkers().some((w) => w.id === r.worker_id);
  const deploymentsHolder = h("div", { id: "deployments" });
  const workersHolder = h("div", { id: "workers", class: "grid" });
  const eventsHolder = h("div", { class: "events", id: "event-log" });
  const revision = h("span", { id: "pool-revision", class: "muted" });

  const model = h("input", { id: "deploy-model", required: true, placeholder: "model" });
  const version = h("input", { id: "deploy-version", placeholder: "latest, 3 or an alias" });
  const min = h("input", { id: "deploy-min", type: "number", min: 0, value: 1 });
  const max = h("input", { id: "deploy-max", type: "number", min: 1, value: 1 });
  const deployForm = h("form", { class: "inline", id: "deploy-form", onsubmit: async (e) => {
    e.preventDefault();
    const d = await ctx.run(() => post("/api/deployments", { model: model.value, version: version.value || "",
      min_replicas: Number(min.value), max_replicas: Number(max.value) }));
    if (d) ctx.notice(`Deployment ${d.id} created (${d.state}).`);
  } }, h("label", {}, "Model", model), h("label", {}, "Version", version), h("label", {}, "Min", min),
    h("label", {}, "Max", max), h("button", { type: "submit" }, "Deploy"));

  function renderDeployments() {
    deployCard.hidden = !ctx.may("ADMIN") && ![...pool.deployments.values()].some((d) => ctx.may("WRITER", d.model));
    const rows = [...pool.deployments.values()].sort((a, b) => a.id.localeCompare(b.id))
      .filter((d) => !only || pool.replicasOf((r) => r.deployment_id === d.id && here(r)).length).map((d) => {
      const replicas = pool.replicasOf((r) => r.deployment_id === d.id && here(r));
      const byState = {};
      for (const r of replicas) byState[r.state] = (byState[r.state] || 0) + 1;
      const ready = replicas.filter((r) => r.state === "READY");
      const versions = [...new Set(ready.map((r) => "v" + r.version))].join(", ");
      const desired = h("input", { type: "number", min: 0, value: d.desired_replicas, class: "scale-desired" });
      return h("tr", { "data-deployment": d.id },
        h("td", {}, h("a", { href: "#/models/" + enc(d.model) }, d.id)),
        h("td", {}, state(d.state), d.reason ? h("div", { class: "muted" }, d.reason) : null),
        h("td", { class: "num" }, "v" + d.resolved_version),
        h("td", { class: "num ready-count" }, `${ready.length} / ${d.desired_replicas}`),
        h("td", { class: "replica-states" }, Object.entries(byState).map(([s, n]) => h("span", { class: "state " + s }, `${s} ${n}`)), " "),
        h("td", { class: "serving-versions" }, versions || "—"),
        h("td", {}, `${d.min_replicas}–${d.max_replicas}`),
        h("td", {}, ctx.may("WRITER", d.model) && h("form", { class: "inline scale-form", onsubmit: async (e) => {
          e.preventDefault();
          const n = Number(desired.value);
          await ctx.run(() => post(`/api/deployments/${enc(d.id)}/scale`, { desired_replicas: n,
            max_replicas: Math.max(n, d.max_replicas), min_replicas: Math.min(n, d.min_replicas) }));
        } }, desired, h("button", { type: "submit", class: "secondary" }, "Scale"),
          h("button", { type: "button", class: "secondary", onclick: () => ctx.run(() => del(`/api/deployments/${enc(d.id)}`)) }, "Undeploy"))));
    });
    deploymentsHolder.replaceChildren(rows.length
      ? table(["Deployment", "State", "Version", "Ready", "Replicas by state", "Serving", "Min–max", ""], rows, { id: "deployments-table" })
      : h("p", { class: "muted" }, "No deployment."));
  }

  function renderWorkers() {
    const cards = shownWorkers().sort((a, b) => a.id.localeCompare(b.id)).map((w) => {
      const replicas = pool.replicasOf((r) => r.worker_id === w.id && LIVE.includes(r.state));
      const capacity = w.capacity || {}, allocated = w.allocated || {};
      const total = w.load && w.load.total;
      const utilisation = total ? total.utilisation : 0;
      return h("div", { class: "card worker", "data-worker": w.id },
        h("h2", {}, w.id, " ", state(w.health), w.cordoned ? h("span", { class: "state DRAINING" }, "cordoned") : null),
        h("div", { class: "muted" }, w.address, " · joined ", time(w.joined_at_ms)),
        meter("replica slots", replicas.length, capacity.replica_slots || 0, "slots-" + w.id),
        meter("CPU millicores allocated", allocated.cpu_millis || 0, capacity.cpu_millis || 0),
        meter("memory allocated", allocated.memory_bytes || 0, capacity.memory_bytes || 0, undefined,
          `${bytes(allocated.memory_bytes || 0)} / ${bytes(capacity.memory_bytes || 0)}`),
        meter("utilisation %", Math.round(utilisation * 100), 100),
        total ? h("div", { class: "muted" }, `in flight ${total.in_flight} · queue ${total.queue_depth} · ${fmt(total.served_per_sec)}/s · ${total.latency_ewma_us} µs`) : null,
        h("div", {}, replicas.map((r) => h("div", { class: "replica" }, state(r.state), ` ${r.model}@v${r.version}`))),
        w.drain_reason ? h("div", { class: "muted" }, "drain: " + w.drain_reason) : null,
        ctx.may("ADMIN") && h("div", { class: "row" },
          w.cordoned
            ? h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => { await post(`/api/workers/${enc(w.id)}/uncordon`); ctx.refreshPool(); }) }, "Uncordon")
            : h("button", { type: "button", class: "secondary drain", onclick: () => ctx.run(async () => {
              await post(`/api/workers/${enc(w.id)}/drain`, { reason: "drained from the console" }); ctx.refreshPool();
            }) }, "Drain")));
    });
    workersHolder.replaceChildren(...(cards.length ? cards : [h("p", { class: "muted" }, "No worker has joined.")]));
  }

  function renderLog() {
    const ids = new Set(shownWorkers().map((w) => w.id));
    const shown = only ? pool.log.filter(({ event }) => concerns(event, ids)) : pool.log;
    eventsHolder.replaceChildren(...shown.map(({ kind, event }) => h("div", { class: "event" },
      `r${event.revision} ${kind} ${summary(event)}`)));
    revision.textContent = `revision ${pool.revision}`;
  }

  function renderAll() {
    // Roles of the deployed models, for the controls: drawn again once they are known.
    const models = [...pool.deployments.values()].map((d) => d.model);
    const unknown = models.filter((m) => !ctx.knows(m) && !rolesAsked.has(m));
    if (unknown.length) {
      for (const m of unknown) rolesAsked.add(m);
      ctx.loadRoles(unknown).then(() => renderAll());
    }
    renderDeployments(); renderWorkers(); renderLog();
  }
  const rolesAsked = new Set();
  const deployCard = h("div", { class: "card", id: "deploy-card" }, h("h2", {}, "Deploy"), deployForm);
  ctx.render(h("h1", {}, only ? `Worker ${only} ` : "Deployments & pool ", revision),
    deployCard,
    h("div", { class: "card" }, h("h2", {}, "Deployments"), deploymentsHolder),
    h("h2", {}, "Workers"), workersHolder,
    h("div", { class: "card" }, h("h2", {}, "Events"), eventsHolder));
  renderAll();
  return pool.subscribe(renderAll);
}

/** Whether an event is about one of the workers `ids` (a snapshot is about every one). */
function concerns(e, ids) {
  const r = e.replica_placed || e.replica_ready || e.replica_draining || e.replica_removed;
  const worker = r ? r.worker_id : e.worker_joined ? e.worker_joined.id
    : (e.worker_left || e.health_changed || {}).worker_id;
  return Boolean(e.snapshot) || ids.has(worker);
}

function summary(e) {
  const r = e.replica_placed || e.replica_ready || e.replica_draining || e.replica_removed;
  if (r) return `${r.model}@v${r.version} ${r.state} on ${r.worker_id || "(unplaced)"}`;
  if (e.deployment_scaled) { const d = e.deployment_scaled; return `${d.id} ${d.state} ready ${d.ready_replicas}/${d.desired_replicas}`; }
  if (e.alias_moved) { const a = e.alias_moved; return `${a.model}:${a.alias} v${a.previous_version} → v${a.version}`; }
  if (e.version_published) return `${e.version_published.model}@v${e.version_published.number}`;
  if (e.worker_joined) return e.worker_joined.id;
  if (e.worker_left) return e.worker_left.worker_id;
  if (e.health_changed) return `${e.health_changed.worker_id} ${e.health_changed.previous} → ${e.health_changed.health}`;
  if (e.snapshot) return `workers ${e.snapshot.workers.length}, deployments ${e.snapshot.deployments.length}`;
  return "";
}
