/* Building the DOM without innerHTML: every string from data becomes a text node.
 *
 *   h("div", {class: "x", dataset: {seq: 3}, onclick: fn}, "text", child, [more, children])
 *   svg("line", {x1: 0, …})   an SVG element
 *   setText(el, text)          writes only when the text changed
 */
const SVG_NS = "http://www.w3.org/2000/svg";

export const $ = (id) => document.getElementById(id);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") {
        for (const [d, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[d] = String(dv);
      } else if (k === "text") el.textContent = String(v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const child of children) append(el, child);
  return el;
}

export function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(el, c));
  else if (child instanceof Node) el.appendChild(child);
  else el.appendChild(document.createTextNode(String(child)));
}

/** An SVG element with its attributes (appended to `parent` when given). */
export function svg(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

export function setText(el, text) {
  text = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== text) el.textContent = text;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Replace `el`'s children with `children`. */
export function fill(el, ...children) {
  clear(el);
  for (const child of children) append(el, child);
}

let toastTimer = null;

/** A short message at the bottom of the page. */
export function toast(message) {
  let el = $("toast");
  if (!el) {
    el = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.appendChild(el);
  }
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 2600);
}

/** Resolves "copied" or "manual" (then `selectEl`'s text is selected for Ctrl+C). */
export function copyText(text, selectEl) {
  function legacy() {
    let ok = false;
    const ta = h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    ta.value = text;
    document.body.appendChild(ta);
    try {
      ta.select();
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(ta);
    if (ok) return "copied";
    if (selectEl) {
      const range = document.createRange();
      range.selectNodeContents(selectEl);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    return "manual";
  }
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text).then(() => "copied", () => legacy());
  }
  return Promise.resolve(legacy());
}
