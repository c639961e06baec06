// The live pool: /api/events (Mesh.Watch as server-sent events) read with fetch, so that the bearer token goes in
// a header (EventSource cannot send one), and resumed from the last event id after a drop.
import { token } from "./api.js";

/** Parses an SSE byte stream into {event, id, data} records. */
function* parseFrames(buffer, state) {
  let index;
  while ((index = buffer.text.indexOf("\n\n")) >= 0) {
    const block = buffer.text.slice(0, index);
    buffer.text = buffer.text.slice(index + 2);
    const record = { event: "message", id: null, data: "" };
    let hasData = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") record.event = value;
      else if (field === "id") record.id = value;
      else if (field === "data") { record.data += (hasData ? "\n" : "") + value; hasData = true; }
      else if (field === "retry") state.retryMs = Number(value) || state.retryMs;
    }
    if (record.id !== null) state.lastEventId = record.id;
    if (hasData) yield record;
  }
}

/**
 * Follows the event stream until stop() is called. handlers: onEvent(kind, json) for "snapshot", "reset",
 * "mesh", "load"; onStatus(connected, detail); onError(code, message) for an error that ends the stream.
 */
export function follow(handlers) {
  const state = { lastEventId: "", retryMs: 2000, stopped: false, controller: null };
  async function once() {
    state.controller = new AbortController();
    const headers = { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" };
    if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
    const response = await fetch("/api/events", { headers, signal: state.controller.signal, cache: "no-store" });
    if (!response.ok) {
      let body = {};
      try { body = await response.json(); } catch (_) { /* not JSON, or aborted by stop() */ }
      if (state.stopped) return "fatal";  // stopped meanwhile (e.g. the same refusal seen by another call)
      handlers.onError(body.code || "HTTP_" + response.status, body.message || response.statusText, response.status);
      return response.status === 401 || response.status === 403 ? "fatal" : "retry";
    }
    handlers.onStatus(true, state.lastEventId);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const buffer = { text: "" };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "retry";
      buffer.text += decoder.decode(value, { stream: true });
      for (const record of parseFrames(buffer, state)) {
        const data = JSON.parse(record.data);
        if (record.event === "rpc-error") handlers.onError(data.code, data.message, 0);
        else handlers.onEvent(record.event, data);
      }
    }
  }
  (async () => {
    while (!state.stopped) {
      let outcome = "retry";
      try { outcome = await once(); } catch (e) { /* dropped: retry below unless stopped */ }
      const retrying = outcome !== "fatal" && !state.stopped;
      handlers.onStatus(false, state.lastEventId, retrying);
      if (!retrying) return;
      await new Promise((resolve) => setTimeout(resolve, state.retryMs));
    }
  })();
  return {
    stop() { state.stopped = true; if (state.controller) state.controller.abort(); },
    get lastEventId() { return state.lastEventId; },
  };
}

/** The pool's state, rebuilt from a snapshot and kept current by each event. */
export class PoolState {
  constructor() { this.clear(); this.log = []; this.listeners = new Set(); }
  clear() { this.workers = new Map(); this.deployments = new Map(); this.replicas = new Map(); this.revision = 0; }
  subscribe(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }
  notify(event) { for (const listener of this.listeners) listener(event); }

  apply(kind, event) {
    if (kind === "snapshot" || kind === "reset") {
      this.clear();
      const s = event.snapshot;
      for (const w of s.workers) this.workers.set(w.id, w);
      for (const d of s.deployments) this.deployments.set(d.id, d);
      for (const r of s.replicas) this.replicas.set(r.id, r);
    } else if (event.worker_joined) this.workers.set(event.worker_joined.id, event.worker_joined);
    else if (event.worker_left) this.workers.delete(event.worker_left.worker_id);
    else if (event.health_changed) {
      const w = this.workers.get(event.health_changed.worker_id);
      if (w) w.health = event.health_changed.health;
    } else if (event.load_reported) {
      const w = this.workers.get(event.load_reported.worker_id);
      if (w) w.load = event.load_reported;
    } else if (event.replica_removed) this.replicas.delete(event.replica_removed.id);
    else if (event.replica_placed || event.replica_ready || event.replica_draining) {
      const r = event.replica_placed || event.replica_ready || event.replica_draining;
      this.replicas.set(r.id, r);
    } else if (event.deployment_scaled) {
      const d = event.deployment_scaled;
      if (d.state === "DELETING" && d.replicas.length === 0) this.deployments.delete(d.id);
      else this.deployments.set(d.id, d);
    }
    if (event.revision) this.revision = event.revision;
    if (kind !== "load") {
      this.log.unshift({ kind: kind === "reset" ? "RESET" : event.kind, event });
      this.log.length = Math.min(this.log.length, 60);
    }
    this.notify({ kind, event });
  }

  /** Replicas of a deployment (or of a worker), from the live replica table. */
  replicasOf(predicate) { return [...this.replicas.values()].filter(predicate); }
}
