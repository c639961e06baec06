// #/try: recommendations for a user or seed items, or items similar to one item; shows who served it.
import { get, post } from "./api.js";
import { h, table, fmt } from "./dom.js";

export async function tryView(ctx) {
  const models = await ctx.run(() => get("/api/models?page_size=500"));
  const model = h("select", { id: "try-model" }, (models ? models.models : []).map((m) => h("option", {}, m.name)));
  const version = h("input", { id: "try-version", placeholder: "latest, 3 or an alias" });
  const mode = h("select", { id: "try-mode" }, h("option", { value: "user" }, "for a user"),
    h("option", { value: "seeds" }, "for seed items"), h("option", { value: "similar" }, "similar to an item"));
  const input = h("input", { id: "try-input", placeholder: "user id, seed items (comma-separated) or item id", required: true });
  const k = h("input", { id: "try-k", type: "number", min: 1, max: 1000, value: 10 });
  const result = h("div", { id: "try-result" });
  const form = h("form", { class: "inline", id: "try-form", onsubmit: async (e) => {
    e.preventDefault();
    const base = { model: model.value, version: version.value || "", k: Number(k.value) };
    const answer = await ctx.run(() => mode.value === "similar"
      ? post("/api/similar", { ...base, item_id: input.value.trim() })
      : post("/api/recommend", mode.value === "user" ? { ...base, user_id: input.value.trim() }
        : { ...base, seed_items: input.value.split(",").map((s) => s.trim()).filter(Boolean) }));
    if (!answer) { result.replaceChildren(); return; }
    const served = answer.served_by;
    const titled = answer.items.some((it) => it.title);
    const how = answer.path ? ` (${answer.path.toLowerCase().replaceAll("_", " ")})` : "";
    result.replaceChildren(
      h("p", { id: "served-by" }, served
        ? `Served by worker ${served.worker_id || "(local)"}, replica ${served.replica_id || "—"}, version v${served.version}${how}`
        : "Served by: not reported"),
      answer.items.length ? table(["#", "Item", ...(titled ? ["Title"] : []), "Score"], answer.items.map((it, i) => h("tr", {},
        h("td", { class: "num" }, i + 1), h("td", { class: "mono" }, it.item_id),
        ...(titled ? [h("td", {}, it.title)] : []), h("td", { class: "num" }, fmt(it.score)))),
        { id: "try-table" }) : h("p", { class: "muted" }, "No item to recommend."));
  } }, h("label", {}, "Model", model), h("label", {}, "Version", version), h("label", {}, "Mode", mode),
    h("label", {}, "Input", input), h("label", {}, "k", k), h("button", { type: "submit" }, "Go"));
  ctx.render(h("h1", {}, "Try it"), h("div", { class: "card" }, form), h("div", { class: "card" }, result));
}
