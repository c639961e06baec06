// The console: token login, hash routes (#/models, #/models/NAME, #/pool, #/try), the error banner and the live
// event stream that keeps the pool view current.
import { get, token, setToken, describe, ApiError } from "./api.js";
import { follow, PoolState } from "./events.js";
import { h } from "./dom.js";
import { modelsView } from "./models.js";
import { modelView } from "./model.js";
import { poolView } from "./pool.js";
import { tryView } from "./try.js";

const $ = (id) => document.getElementById(id);
const pool = new PoolState();
let stream = null;
let unsubscribe = null;

function showError(error) {
  const { code, message, plain } = describe(error);
  const banner = $("error");
  banner.replaceChildren(h("b", { class: "code" }, code), ": ", h("span", { class: "message" }, message),
    plain ? h("div", { class: "plain" }, plain) : null);
  banner.hidden = false;
  if (code === "UNAUTHENTICATED") { setToken(""); showLogin(); }
}

function clearError() { $("error").hidden = true; $("error").replaceChildren(); }

/** What the token is ({user, admin, groups}) and its role per model, from /api/whoami; cleared at log-out. */
let me = null;
const roles = new Map();
const RANK = { NONE: 0, READER: 1, WRITER: 2, OWNER: 3 };

const ctx = {
  pool,
  query: "",
  /** Which console this is (/api/console): {role, read_only, worker_address}. */
  console: { role: "control-plane", read_only: false },
  get me() { return me; },
  /**
   * Whether the token may do what needs `needed` (WRITER, OWNER or ADMIN) on `model`: the server decides every call,
   * this only hides controls that cannot work. A role not loaded yet (loadRoles) hides them.
   */
  may(needed, model) {
    if (ctx.console.read_only) return false;
    if (!me || me.admin) return true;
    const role = roles.get(model);
    if (needed === "ADMIN" || role === undefined) return false;
    return RANK[role] >= RANK[needed];
  },
  /** Whether the role on `model` is loaded. */
  knows(model) { return !me || me.admin || roles.has(model); },
  /** Fetches the roles of `models` not known yet; resolves when they are. */
  async loadRoles(models) {
    const missing = [...new Set(models)].filter((m) => m && !roles.has(m));
    if (!missing.length || !me || me.admin) return;
    const answer = await ctx.run(() => get("/api/whoami?models=" + missing.map(encodeURIComponent).join(",")));
    if (answer) for (const [model, role] of Object.entries(answer.roles)) roles.set(model, role);
  },
  /** Shows `nodes` as the view; null entries (a card left out) are skipped. */
  render(...nodes) { $("view").replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false)); },
  /** Runs an API call; on failure shows its code and message and resolves to undefined. */
  async run(fn) {
    try { return await fn(); } catch (error) { showError(error); return undefined; }
  },
  notice(text) { $("notice").replaceChildren(h("div", { class: "notice", role: "status" }, text)); },
  refresh() { route(false); },
  async refreshPool() {
    const answer = await ctx.run(() => get("/api/pool"));
    if (answer) for (const w of answer.workers) pool.workers.set(w.id, w);
    pool.notify({ kind: "refresh" });
  },
};

function showLogin() {
  me = null;
  roles.clear();
  $("whoami").textContent = "";
  $("login").hidden = false;
  $("view").replaceChildren();
  $("logout").hidden = true;
  if (stream) { stream.stop(); stream = null; }
  $("live").textContent = "offline";
  $("live").classList.remove("on");
  $("token").focus();
}

function startStream() {
  if (stream) return;
  let refreshTimer = null;
  stream = follow({
    onEvent(kind, event) {
      pool.apply(kind, event);
      // Allocations per worker come with the pool, not with each replica event: refresh them soon after.
      if (event.replica_placed || event.replica_removed || event.worker_joined) {
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => ctx.refreshPool(), 300);
      }
    },
    onStatus(connected, lastEventId, retrying) {
      $("live").textContent = connected ? "live" : retrying ? "reconnecting" : "offline";
      $("live").classList.toggle("on", connected);
    },
    onError(code, message, status) { showError(new ApiError(code, message, status)); },
  });
}

async function route(clear = true) {
  if (clear) { clearError(); $("notice").replaceChildren(); }
  if (unsubscribe) { unsubscribe(); unsubscribe = null; }
  if (!token()) { showLogin(); return; }
  $("login").hidden = true;
  $("logout").hidden = false;
  if (!me) {
    me = await ctx.run(() => get("/api/whoami"));
    if (!me) return;
    $("whoami").textContent = !me.admin ? me.user : me.user && me.user !== "admin" ? `${me.user} (admin)` : "admin";
  }
  startStream();
  const hash = location.hash || "#/models";
  const [path, query] = hash.slice(1).split("?");
  ctx.query = query || "";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const link of document.querySelectorAll("header nav a")) {
    link.classList.toggle("active", hash.startsWith(link.getAttribute("href")));
  }
  if (parts[0] === "models" && parts[1]) await modelView(ctx, parts[1]);
  else if (parts[0] === "pool") unsubscribe = poolView(ctx);
  else if (parts[0] === "try") await tryView(ctx);
  else await modelsView(ctx);
}

/** A printed link carries the token in the fragment (#token=…): keep it for this tab, then drop it from the URL. */
function takeTokenFromFragment() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return;
  setToken(decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + "#/models");
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  setToken($("token").value.trim());
  clearError();
  try {
    await get("/api/models?page_size=1");
    $("token").value = "";
    route();
  } catch (error) {
    setToken("");
    showError(error);
  }
});
$("logout").addEventListener("click", () => { setToken(""); pool.clear(); showLogin(); });
window.addEventListener("hashchange", () => route());
takeTokenFromFragment();
// Which console this is first: on a worker's the page is read-only and the pool view shows that worker.
get("/api/console").then((info) => {
  ctx.console = info;
  if (info.read_only) {
    $("console-role").textContent = `worker ${info.worker_address} · read-only`;
    $("console-role").hidden = false;
  }
}, () => { /* an old server: a control plane's console */ }).finally(() => route());
