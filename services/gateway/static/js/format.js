/* How values read on screen: times, durations, emotions, customer segments, moods, and
 * redacted text (a placeholder such as [身份证号] becomes a chip). */
import { h } from "./dom.js";
import { t, tOr } from "./i18n.js";

const two = (n) => (n < 10 ? "0" + n : String(n));
const EMOTIONS = ["anger", "anxiety", "confusion", "sadness", "satisfaction", "neutral"];
const REDACTION = /\[[^\[\]\s]{1,16}\]/g;

/** Milliseconds since the epoch, or null. */
export function parseTs(ts) {
  if (!ts) return null;
  const n = Date.parse(ts);
  return isNaN(n) ? null : n;
}

/** 3:07 or 1:02:07 */
export function fmtDuration(ms) {
  const s = Math.floor((ms > 0 ? ms : 0) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return hh > 0 ? `${hh}:${two(mm)}:${two(s % 60)}` : `${mm}:${two(s % 60)}`;
}

/** 14:03:27 (local time) */
export function fmtClock(ts) {
  const n = typeof ts === "number" ? ts : parseTs(ts);
  if (n === null) return "";
  const d = new Date(n);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** 11-23 14:03 (local time) */
export function fmtWhen(ts) {
  const n = parseTs(ts);
  if (n === null) return "";
  const d = new Date(n);
  return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** 0.73 -> "73%"; "—" for no value. */
export function pct(x) {
  return typeof x === "number" ? Math.round(x * 100) + "%" : "—";
}

export function emotionLabel(emotion) {
  return t("emotion." + (EMOTIONS.includes(emotion) ? emotion : "neutral"));
}

/** The customer segment as a badge label, or null for an ordinary customer. */
export function segmentLabel(segment) {
  if (!segment) return null;
  const key = "segment." + String(segment).toLowerCase();
  const label = t(key);
  if (label !== key) return label;
  if (/^(standard|normal|regular|default)$/i.test(segment)) return null;
  return String(segment);
}

/** A call topic's name: the server's label (Chinese), or the English name on an English page. */
export function topicLabel(topic, serverLabel) {
  return tOr("topic." + (topic || "other"), serverLabel || t("topic.other"));
}

/** Mood bucket for colour: good | neutral | low | bad (sentiment 0..1, 1 = positive). */
export function mood(sentiment) {
  if (typeof sentiment !== "number" || isNaN(sentiment)) return "neutral";
  if (sentiment >= 0.6) return "good";
  if (sentiment >= 0.4) return "neutral";
  if (sentiment >= 0.25) return "low";
  return "bad";
}

/** Put redacted text into `el`, placeholders as chips; everything goes in as text nodes. */
export function renderRedacted(el, text) {
  text = text === null || text === undefined ? "" : String(text);
  if (el._hlText === text) return el;
  el._hlText = text;
  while (el.firstChild) el.removeChild(el.firstChild);
  let last = 0;
  let m;
  REDACTION.lastIndex = 0;
  while ((m = REDACTION.exec(text)) !== null) {
    if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
    el.appendChild(h("span", { class: "pii", title: m[0] }, m[0].slice(1, -1)));
    last = m.index + m[0].length;
  }
  if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  return el;
}

/** A new <tag> holding redacted text. */
export function redacted(tag, attrs, text) {
  return renderRedacted(h(tag, attrs), text);
}
