/* One nudge as a card, the same on every page: the agent desktop (full size, with its buttons),
 * the wall's listen-in panel and the review page (compact, the review with what the agent did).
 *
 * Every type reads alike — title, the wording to say (redacted text as chips), the reason — and
 * two read apart: a knowledge_answer (teal, a 知识库 badge and a 来源 line naming the knowledge
 * entry) and a supervisor_whisper (violet, the supervisor's own words and a "from" line instead
 * of a reason). Labels carry data-i18n, so a language switch relabels cards already shown.
 *
 *   nudgeCard(n, {compact, tag, testid, callId, outcome, onAccept, onDismiss})
 *     n          the Nudge fields (nudge_id, type, priority, title, suggestion, reason, sender, source,
 *                created_ts; audience "supervisor" marks an alert)
 *     outcome    review only: "accepted" | "dismissed" | null (left alone)
 *     onAccept   desk only: the accept/dismiss buttons and the "used" mark
 *   setCardState(el, state)   "open" | "accepted" | "dismissed" | "expired" | "leaving"
 */
import { h } from "./dom.js";
import { fmtClock, redacted } from "./format.js";
import { t } from "./i18n.js";

export const WHISPER = "supervisor_whisper";
export const KNOWLEDGE = "knowledge_answer";

const label = (key, attrs) => h("span", { ...attrs, "data-i18n": key }, t(key));

export function nudgeCard(n, opts = {}) {
  const high = n.priority === "high";
  const whisper = n.type === WHISPER;
  const knowledge = n.type === KNOWLEDGE;
  const full = !opts.compact;
  const classes = ["nudge", opts.compact ? "nudge-compact" : null, high ? "prio-high" : null,
    n.priority === "low" ? "prio-low" : null, whisper ? "whisper" : null, knowledge ? "knowledge" : null,
    n.audience === "supervisor" ? "to-supervisor" : null];
  const suggestion = redacted("p", { class: "suggestion" }, n.suggestion);
  const el = h(opts.tag || (full ? "article" : "li"), {
    class: classes.filter(Boolean).join(" "),
    "data-testid": opts.testid,
    dataset: {
      nudgeId: n.nudge_id, type: n.type || "", priority: n.priority || "normal", callId: opts.callId,
      state: full ? "open" : null, sender: n.sender || null,
      action: opts.outcome !== undefined ? opts.outcome || "none" : null,
    },
  },
  h("header", { class: "nudge-head" },
    full && high ? h("span", { class: "prio-icon", "aria-hidden": "true" }, "!") : null,
    knowledge ? label("nudge.knowledge", { class: "badge badge-knowledge" }) : null,
    h("span", { class: "nudge-title" }, n.title || n.type || ""),
    full && high ? label("nudge.high", { class: "badge badge-high" }) : null,
    opts.compact && opts.outcome !== undefined ? h("span", { class: "nudge-type mono" }, n.type) : null,
    h("time", { class: "nudge-time mono" }, fmtClock(n.created_ts || opts.shownAt || Date.now()))),
  suggestion,
  whisper
    ? h("p", { class: "whisper-from", "data-testid": "whisper-from", dataset: { sender: n.sender || "" } }, n.reason || n.sender || "")
    : n.reason ? h("p", { class: "reason" }, n.reason) : null,
  knowledge
    ? h("p", { class: "knowledge-source", "data-testid": "knowledge-source", dataset: { source: n.source || "" } },
      label("nudge.source"), " ", h("span", { class: "mono" }, n.source || ""), " · ", n.title || "")
    : null,
  opts.outcome !== undefined
    ? h("p", { class: "nudge-outcome" }, label("action." + (opts.outcome || "none"), { class: "action action-" + (opts.outcome || "none") }))
    : null,
  opts.onAccept ? actions(n, opts, suggestion, whisper) : null);
  return el;
}

function actions(n, opts, suggestion, whisper) {
  const acceptKey = whisper ? "whisper.ack" : "nudge.accept";
  return h("div", { class: "nudge-actions" },
    h("button", { type: "button", class: "btn btn-accept", "data-testid": "btn-accept", "data-i18n": acceptKey,
      onclick: () => opts.onAccept(suggestion) }, t(acceptKey)),
    h("button", { type: "button", class: "btn btn-dismiss", "data-testid": "btn-dismiss", "data-i18n": "nudge.dismiss",
      onclick: () => opts.onDismiss() }, t("nudge.dismiss")),
    label("nudge.accepted", { class: "used" }));
}

/** Show what became of a desk card: used, dismissed, expired, or fading out. */
export function setCardState(el, state) {
  if (state === "leaving") {
    el.classList.add("leaving");
    return;
  }
  el.dataset.state = state || "open";
  el.classList.toggle("is-used", state === "accepted");
  for (const b of el.querySelectorAll(".btn-accept,.btn-dismiss")) b.disabled = !!state && state !== "open";
}
