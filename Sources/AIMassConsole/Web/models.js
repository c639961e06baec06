// #/models: search by name, tag and author; create a model.
import { get, post, enc } from "./api.js";
import { h, table, time, bytes, fmt } from "./dom.js";

export async function modelsView(ctx) {
  const query = new URLSearchParams(ctx.query);
  const name = h("input", { id: "search-name", placeholder: "name starts with…", value: query.get("name") || "" });
  const tag = h("input", { id: "search-tag", placeholder: "tag", value: query.get("tag") || "" });
  const author = h("input", { id: "search-author", placeholder: "author, e.g. user:ana", value: query.get("author") || "" });
  const results = h("div", { id: "models-results" }, h("p", { class: "muted" }, "Loading…"));
  const search = h("form", { class: "inline", id: "search-form", onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [key, input] of [["name", name], ["tag", tag], ["author", author]]) if (input.value) q.set(key, input.value);
    location.hash = "#/models" + (q.toString() ? "?" + q : "");
  } }, h("label", {}, "Name", name), h("label", {}, "Tag", tag), h("label", {}, "Author", author),
    h("button", { type: "submit" }, "Search"));

  const newName = h("input", { id: "create-name", required: true, placeholder: "movies-itemcf" });
  const newDescription = h("input", { id: "create-description", placeholder: "what it recommends" });
  const newTags = h("input", { id: "create-tags", placeholder: "movies, itemcf" });
  const algorithm = h("select", { id: "create-algorithm" }, h("option", {}, "itemcf"), h("option", {}, "usercf"));
  const neighbours = h("input", { id: "create-neighbours", type: "number", min: 1, value: 20 });
  const create = h("form", { class: "inline", id: "create-form", onsubmit: async (e) => {
    e.preventDefault();
    await ctx.run(async () => {
      const model = await post("/api/models", {
        name: newName.value, description: newDescription.value,
        tags: newTags.value.split(",").map((t) => t.trim()).filter(Boolean),
        manifest: { algorithm: algorithm.value, neighbours: String(neighbours.value) },
      });
      location.hash = "#/models/" + enc(model.name);
    });
  } }, h("label", {}, "Name", newName), h("label", {}, "Description", newDescription), h("label", {}, "Tags", newTags),
    h("label", {}, "Algorithm", algorithm), h("label", {}, "Neighbours", neighbours),
    h("button", { type: "submit" }, "Create"));

  // Only for a token CreateModel accepts (Access.WhoAmI says: not one scoped to reading or to some models), and not
  // on a worker's read-only console.
  const mayCreate = !ctx.console.read_only && ctx.me && ctx.me.may_create_models;
  ctx.render(h("h1", {}, "Models"), h("div", { class: "card" }, search), results,
    mayCreate ? h("details", { class: "card", id: "create-card" }, h("summary", {}, "Create a model"), create) : null);

  const listing = await ctx.run(() => get("/api/models?" + new URLSearchParams(
    Object.fromEntries([["name", query.get("name")], ["tag", query.get("tag")], ["author", query.get("author")]]
      .filter(([, v]) => v)))));
  if (!listing) { results.replaceChildren(); return; }
  const rows = listing.models.map((m) => h("tr", { "data-model": m.name },
    h("td", {}, h("a", { href: "#/models/" + enc(m.name) }, m.name), h("div", { class: "muted" }, m.description)),
    h("td", {}, m.tags.map((t) => h("span", { class: "tag" }, t))),
    h("td", {}, m.author),
    h("td", { class: "num" }, m.latest_version || "—"),
    h("td", {}, Object.entries(m.aliases).map(([a, v]) => h("span", { class: "tag" }, `${a}→v${v}`))),
    h("td", { class: "num" }, m.size_bytes ? bytes(m.size_bytes) : "—"),
    h("td", {}, Object.entries(m.metrics).slice(0, 3).map(([k, v]) => h("div", { class: "mono" }, `${k} ${fmt(v)}`))),
    h("td", {}, time(m.updated_at_ms))));
  results.replaceChildren(rows.length
    ? h("div", { class: "card" }, table(["Model", "Tags", "Author", "Latest", "Aliases", "Size", "Metrics", "Updated"], rows,
      { id: "models-table" }))
    : h("p", { class: "card muted", id: "models-empty" }, "No model matches (or none you may read)."));
}
