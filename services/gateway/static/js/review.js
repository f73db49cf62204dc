/* Post-call review for supervisors: finished calls with filters, one call in detail (post-call
 * summary, scorecard with evidence lines, transcript, sentiment curve, nudges and what the agent
 * did), the agents' scorecard trend by day, and nudge acceptance per agent, per type and per
 * knowledge entry. Data: /api/review/... with the supervisor token (the wall's sign-in).
 */
import { api, Auth, signInFlow } from "./auth.js";
import { curve } from "./charts.js";
import { $, clear, fill, h, setText } from "./dom.js";
import { emotionLabel, fmtDuration, fmtWhen, pct, redacted, segmentLabel, topicLabel } from "./format.js";
import { outcomeBadge } from "./history.js";
import { onChange, setUp, t, tOr } from "./i18n.js";
import { nudgeCard } from "./nudgecard.js";

const auth = new Auth("supervisor");
let selected = null;
let shown = null; // the call in the detail panel, redrawn after a language switch
let lastTrend = null;

function get(path) {
  return api(auth, path).then((r) => {
    if (r.status === 401 || r.status === 403) {
      flow.authFailed(r.status);
      throw new Error("auth");
    }
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  });
}

function scoreBadge(total) {
  if (typeof total !== "number") return "—";
  const band = total >= 85 ? "good" : total >= 60 ? "fair" : "poor";
  return h("span", { class: "score", "data-band": band }, String(Math.round(total)));
}

function quote(line) {
  if (!line) return "—";
  return h("span", { "data-seq": line.seq }, h("span", { class: "seq" }, "#" + line.seq), redacted("span", null, line.text));
}

const quotes = (lines, none) => (lines && lines.length ? lines.map((l) => h("div", null, quote(l))) : none);

/** The post-call summary; data-field is the field's Chinese name, the same in both languages. */
function renderRecap(el, r) {
  if (!r) {
    fill(el, h("dd", { class: "muted" }, t("review.recap.pending")));
    return;
  }
  const rows = [
    ["主题", "review.recap.topic", topicLabel(r.topic, r.topic_label)],
    ["客户诉求", "review.recap.wanted", quote(r.wanted)],
    ["处理", "review.recap.done", quotes(r.done, "—")],
    ["结果", "review.recap.outcome", [outcomeBadge(r.outcome), r.outcome_line ? " " : null, r.outcome_line ? quote(r.outcome_line) : null]],
    ["待跟进", "review.recap.follow_ups", quotes(r.follow_ups, t("review.recap.none"))],
  ];
  fill(el, rows.map(([field, key, content]) => [h("dt", null, t(key)), h("dd", { "data-field": field }, content)]));
}

function renderScorecard(card) {
  const list = $("d-scorecard");
  const total = $("d-score");
  clear(total);
  if (!card) {
    fill(list, h("li", { class: "muted" }, t("review.scorecard.pending")));
    return;
  }
  const badge = scoreBadge(card.total);
  if (badge instanceof Node) {
    total.dataset.band = badge.dataset.band;
    setText(total, badge.textContent);
  }
  fill(list, card.items.map((it) => h("li", { class: "score-item", "data-key": it.key, "data-status": it.status, "data-testid": "score-item" },
    h("span", { class: "score-item-top" },
      h("span", { class: "score-item-label" }, tOr("score.item." + it.key, it.label)),
      h("span", { class: "score-item-principle" }, tOr("principle." + it.principle, it.principle)),
      h("span", { class: "status status-" + it.status }, tOr("status." + it.status, it.status)),
      h("span", { class: "score-item-points" }, it.points === null ? "—" : it.points + " / " + it.weight)),
    h("span", { class: "score-item-note" }, it.note),
    it.evidence.length ? h("ol", { class: "evidence", "data-testid": "evidence" }, it.evidence.map((e) =>
      h("li", { "data-seq": e.seq, "data-speaker": e.speaker },
        h("span", { class: "seq" }, "#" + e.seq + " " + t("speaker." + e.speaker)), redacted("span", null, e.text)))) : null)));
}

function renderTrend(data) {
  lastTrend = data;
  const head = $("trend-head");
  while (head.children.length > 3) head.removeChild(head.lastChild);
  data.days.forEach((d) => head.appendChild(h("th", { class: "trend-cell" }, d.slice(5))));
  head.appendChild(h("th", { "data-i18n": "review.col.weakest" }, t("review.col.weakest")));
  setText($("trend-range"), data.days.length ? data.days[0] + " ~ " + data.days[data.days.length - 1] : "");
  const agents = Object.keys(data.agents);
  $("trend-empty").hidden = agents.length > 0;
  fill($("trend-body"), agents.map((id) => {
    const a = data.agents[id];
    return h("tr", { "data-agent": id },
      h("td", { class: "mono" }, id),
      h("td", { class: "num" }, a.calls),
      h("td", { class: "num" }, scoreBadge(a.avg)),
      a.by_day.map((v, i) => h("td", { class: "trend-cell", title: t("review.trend.calls", { n: a.calls_by_day[i] }) },
        v === null ? "·" : scoreBadge(v))),
      h("td", { class: "trend-weakest" },
        a.weakest ? tOr("score.item." + a.weakest.key, a.weakest.label) + " " + Math.round(a.weakest.avg * 100) + "%" : "—"));
  }));
}

function query() {
  const form = $("filters");
  const params = new URLSearchParams();
  for (const k of ["agent", "since", "until", "min_risk", "escalated", "nudge_type"]) {
    const v = form.elements[k].value.trim();
    if (v) params.set(k, v);
  }
  return params;
}

function only(params, names) {
  const q = new URLSearchParams();
  for (const k of names) if (params.get(k)) q.set(k, params.get(k));
  return q.toString();
}

function loadCalls() {
  const params = query();
  get("/api/review/calls?" + params.toString()).then((data) => {
    setText($("call-count"), data.total);
    $("calls-empty").hidden = data.calls.length > 0;
    fill($("calls"), data.calls.map((c) => h("tr", {
      class: "pick-row" + (c.call_id === selected ? " selected" : ""), "data-call-id": c.call_id, tabindex: "0",
      onclick: () => openCall(c.call_id),
    },
    h("td", { class: "mono" }, fmtWhen(c.started_ts)),
    h("td", null, c.agent_id || "—"),
    h("td", null, (c.customer && c.customer.name) || "—"),
    h("td", null, topicLabel(c.topic, c.topic_label)),
    h("td", null, outcomeBadge(c.outcome)),
    h("td", null, c.worst_emotion && c.worst_emotion !== "neutral"
      ? h("span", { class: "emotion", "data-emotion": c.worst_emotion }, emotionLabel(c.worst_emotion)) : "—"),
    h("td", { class: "num" }, (c.max_risk || 0).toFixed(2)),
    h("td", { class: "num" }, c.nudges + " / " + c.accepted),
    h("td", { class: "num", "data-testid": "call-score" }, scoreBadge(c.score)))));
    if (!selected && data.calls.length) openCall(data.calls[0].call_id);
  }).catch(() => {});
  get("/api/review/scores?" + only(params, ["since", "until", "agent"])).then(renderTrend).catch(() => {});
  get("/api/review/acceptance?" + only(params, ["since", "until"])).then((data) => {
    fillAcceptance($("acc-agents"), data.by_agent);
    fillAcceptance($("acc-types"), data.by_type);
    fillAcceptance($("acc-entries"), data.by_entry || {}); // knowledge answers per entry
  }).catch(() => {});
}

function fillAcceptance(body, table) {
  fill(body, Object.entries(table).map(([k, r]) => h("tr", { "data-key": k },
    h("td", { class: "mono" }, k), h("td", { class: "num" }, r.shown), h("td", { class: "num" }, r.accepted),
    h("td", { class: "num" }, r.dismissed), h("td", { class: "num" }, r.ignored), h("td", { class: "num" }, pct(r.acceptance_rate)))));
}

function renderCall(c) {
  shown = c;
  $("detail-empty").hidden = true;
  $("detail-body").hidden = false;
  setText($("d-customer"), (c.customer && c.customer.name) || c.call_id);
  const seg = segmentLabel(c.customer && c.customer.segment);
  $("d-segment").hidden = !seg;
  setText($("d-segment"), seg || "");
  fill($("d-outcome"), outcomeBadge(c.outcome));
  $("d-escalated").hidden = !c.escalated;
  setText($("d-meta"), [c.call_id, c.agent_id, fmtWhen(c.started_ts), c.duration_s != null ? fmtDuration(c.duration_s * 1000) : "",
    t("review.meta.topic", { topic: topicLabel(c.topic, c.topic_label) }),
    t("review.meta.risk", { risk: (c.max_risk || 0).toFixed(2) })].filter(Boolean).join(" · "));
  const endOf = new Map(c.transcript.map((u) => [u.seq, u.end_ms]));
  const marks = c.nudges.map((n) => endOf.get(n.trigger_seq)).filter((ms) => typeof ms === "number");
  renderRecap($("d-recap"), c.recap);
  renderScorecard(c.scorecard);
  fill($("d-curve"), curve(c.curve, marks, c.duration_s ? c.duration_s * 1000 : 0, t("review.curve")));
  fill($("d-nudges"), c.nudges.length
    ? c.nudges.map((n) => nudgeCard(n, { compact: true, outcome: n.action || null }))
    : h("li", { class: "muted" }, t("review.nudges.none")));
  fill($("d-transcript"), c.transcript.map((u) => h("li", { class: "review-line", "data-speaker": u.speaker },
    h("span", { class: "meta" }, t("speaker." + u.speaker) + " · " + fmtDuration(u.start_ms) +
      (u.speaker === "customer" ? " · " + emotionLabel(u.emotion) : "")),
    redacted("span", null, u.text))));
}

function openCall(callId) {
  selected = callId;
  for (const tr of document.querySelectorAll("#calls tr")) tr.classList.toggle("selected", tr.dataset.callId === callId);
  get("/api/review/calls/" + encodeURIComponent(callId)).then(renderCall).catch(() => {});
}

const flow = signInFlow({ auth, main: $("review"), start: loadCalls });

$("filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  selected = null;
  loadCalls();
});
setUp($("lang"));
onChange(() => {
  if (shown) renderCall(shown);
  if (lastTrend) renderTrend(lastTrend);
  loadCalls(); // the list's labels (topic, outcome, emotion) in the new language
});
flow.run();
