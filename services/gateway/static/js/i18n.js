/* The words on screen: Chinese first, English on request (strings.js holds both tables).
 *
 * Static labels carry data-i18n="key" (text), data-i18n-title / data-i18n-placeholder /
 * data-i18n-aria (attributes); apply(root) fills them. Dynamic text calls t(key, vars).
 * The choice is kept in localStorage ("heartline.lang"); onChange(fn) lets a page redraw
 * the labels it wrote itself.
 */
import { STRINGS } from "./strings.js";
import { load, save } from "./storage.js";

const STORAGE_KEY = "heartline.lang";
const listeners = [];
let current = load("localStorage", STORAGE_KEY) === "en" ? "en" : "zh";

function fill(s, vars) {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (_, name) => (vars[name] === undefined || vars[name] === null ? "" : String(vars[name])));
}

/** The text of `key` in the current language (Chinese where English lacks it; the key if neither has it). */
export function t(key, vars) {
  const table = STRINGS[current];
  const s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.zh[key];
  return s === undefined ? key : fill(s, vars);
}

/** The current language's text of `key` if it has one, else `fallback` — for words the server
 * sends in Chinese (a topic label, a scorecard item's label) that English can name. */
export function tOr(key, fallback, vars) {
  const table = STRINGS[current];
  return Object.prototype.hasOwnProperty.call(table, key) ? fill(table[key], vars) : fallback;
}

export function lang() {
  return current;
}

/** Fill every data-i18n* element under `root` (default: the document) and the page's <html lang>. */
export function apply(root) {
  root = root || document;
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  const nodes = root.querySelectorAll("[data-i18n],[data-i18n-title],[data-i18n-placeholder],[data-i18n-aria]");
  for (const n of nodes) {
    if (n.dataset.i18n) n.textContent = t(n.dataset.i18n);
    if (n.dataset.i18nTitle) n.title = t(n.dataset.i18nTitle);
    if (n.dataset.i18nPlaceholder) n.placeholder = t(n.dataset.i18nPlaceholder);
    if (n.dataset.i18nAria) n.setAttribute("aria-label", t(n.dataset.i18nAria));
  }
}

export function setLang(next) {
  if (next !== "zh" && next !== "en") return;
  current = next;
  save("localStorage", STORAGE_KEY, current);
  apply(document);
  for (const fn of listeners) fn(current);
}

export function toggle() {
  setLang(current === "zh" ? "en" : "zh");
}

/** Call `fn(lang)` after every switch (after the static labels are filled). */
export function onChange(fn) {
  listeners.push(fn);
}

/** The page's start: fill the static labels and make `button` (if any) switch the language. */
export function setUp(button) {
  apply(document);
  if (button) button.addEventListener("click", toggle);
}
