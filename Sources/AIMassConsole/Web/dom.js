// Small DOM helpers: elements are built with text nodes, never from HTML strings, so names and messages from the
// server cannot inject markup.

/** h("td", {class: "num"}, "3") */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "value") element.value = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** An SVG element (same rules as h). */
export function svg(tag, attrs, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) element.setAttribute(key, value);
  append(element, children);
  return element;
}

export function table(headers, rows, attrs) {
  return h("div", { class: "table-wrap" },
    h("table", attrs || {}, h("thead", {}, h("tr", {}, headers.map((name) => h("th", {}, name)))),
      h("tbody", {}, rows)));
}

export const time = (ms) => ms ? new Date(Number(ms)).toLocaleString() : "—";
export function bytes(n) {
  n = Number(n);
  if (n < 1024) return n + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return n.toFixed(1) + " " + units[i];
}
export const fmt = (x) => typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : (x ?? "—");
export const state = (name) => h("span", { class: "state " + name }, name);
