/* Small SVG charts: the sentiment sparkline (desk, wall tiles, listen-in) and the review's
 * sentiment curve with the nudges marked. Sentiment is 0..1 (1 = positive). */
import { svg } from "./dom.js";
import { mood } from "./format.js";

/** An <svg> whose line sparkline(svgEl, values) updates. */
export function sparklineSvg(width, height, testid) {
  const el = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: "spark", preserveAspectRatio: "none", "aria-hidden": "true",
  });
  if (testid) el.setAttribute("data-testid", testid);
  svg("line", { x1: 0, x2: width, y1: height / 2, y2: height / 2, class: "spark-mid" }, el);
  const line = svg("polyline", { class: "spark-line", fill: "none" }, el);
  const dot = svg("circle", { r: 2.5, class: "spark-dot", visibility: "hidden" }, el);
  el._hl = { w: width, h: height, line, dot, key: "" };
  return el;
}

export function sparkline(el, values) {
  const s = el._hl;
  values = Array.isArray(values) ? values.filter((v) => typeof v === "number" && !isNaN(v)) : [];
  const key = values.join(",");
  if (key === s.key) return;
  s.key = key;
  el.setAttribute("data-points", values.length);
  if (values.length === 0) {
    s.line.setAttribute("points", "");
    s.dot.setAttribute("visibility", "hidden");
    return;
  }
  const pad = 3;
  const n = values.length;
  const step = n > 1 ? (s.w - 2 * pad) / (n - 1) : 0;
  let x = 0;
  let y = 0;
  const pts = values.map((raw, i) => {
    const v = Math.max(0, Math.min(1, raw));
    x = n > 1 ? pad + i * step : s.w - pad;
    y = pad + (1 - v) * (s.h - 2 * pad);
    return x.toFixed(1) + "," + y.toFixed(1);
  });
  s.line.setAttribute("points", pts.join(" "));
  s.dot.setAttribute("cx", x.toFixed(1));
  s.dot.setAttribute("cy", y.toFixed(1));
  s.dot.setAttribute("visibility", "visible");
  el.setAttribute("data-mood", mood(values[n - 1]));
}

/** Customer sentiment over a call ({t_ms, sentiment} points), nudges as dashed marks (times in ms). */
export function curve(points, nudgeTimes, totalMs, label) {
  const W = 520;
  const H = 120;
  const P = 8;
  const el = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "curve", role: "img", "aria-label": label });
  const span = Math.max(totalMs || 0, points.length ? points[points.length - 1].t_ms : 0, 1);
  const x = (t) => (P + (W - 2 * P) * (t / span)).toFixed(1);
  const y = (v) => (P + (H - 2 * P) * (1 - v)).toFixed(1);
  svg("line", { x1: P, x2: W - P, y1: y(0.5), y2: y(0.5), class: "curve-mid" }, el);
  nudgeTimes.forEach((t) => svg("line", { x1: x(t), x2: x(t), y1: P, y2: H - P, class: "curve-nudge" }, el));
  if (points.length) {
    svg("polyline", { class: "curve-line", points: points.map((p) => x(p.t_ms) + "," + y(p.sentiment)).join(" ") }, el);
    points.forEach((p) => svg("circle", { cx: x(p.t_ms), cy: y(p.sentiment), r: 2.5, class: "curve-dot" }, el));
  }
  return el;
}
