/* Customer memory on the agent desktop: the panel <section id="history">.
 *
 * For a call not seen before, historyPanel(...).onCall(msg) fetches GET /api/history/{call_id}
 * with the agent's token and shows the summary line (本周第3次来电,上次因登录问题不满), the
 * open issue, the summary of the customer's last call (诉求, 处理, 结果, 待跟进: lines quoted from
 * that call's redacted transcript) and the last calls. The recorder may store the call a moment
 * after the gateway announced it: a 404 is retried a few times. History is a help, never in
 * the way: any other failure leaves the panel as it was.
 */
import { api } from "./auth.js";
import { fill, h } from "./dom.js";
import { emotionLabel, fmtWhen, redacted, topicLabel } from "./format.js";
import { t } from "./i18n.js";

const RETRIES_MS = [600, 1500, 3000, 6000];
const NEGATIVE = ["anger", "anxiety", "sadness"];

export function outcomeBadge(outcome, attrs) {
  return outcome ? h("span", { class: "outcome outcome-" + outcome, ...attrs }, t("outcome." + outcome)) : null;
}

/** The summary line from the history's figures (the server's judge.summary_line, in this page's language). */
export function summaryLine(data) {
  if (!data.customer || !data.customer.known) return t("history.unknown");
  const n = data.calls_this_week || 1;
  const prev = (data.calls || [])[0];
  if (!prev) return n <= 1 ? t("history.first") : t("history.week.n", { n });
  const head = n > 1 ? t("history.week.n", { n }) : t("history.week.first");
  const known = prev.topic && prev.topic !== "other";
  const subject = known ? t("history.subject", { topic: topicLabel(prev.topic, prev.topic_label) }) : t("history.subject.other");
  const upset = NEGATIVE.includes(prev.worst_emotion);
  const tail = prev.outcome === "escalated" ? "history.last.escalated"
    : prev.outcome === "unresolved" || upset ? (upset ? "history.last.unhappy" : "history.last.unresolved")
      : "history.last.resolved";
  return head + t("history.join") + t(tail, { subject });
}

/** Each recap line: [data-field id (the Chinese label, stable across languages), i18n key, content]. */
function recap(r) {
  const quoted = (line) => redacted("span", { "data-seq": line.seq }, line.text);
  const rows = [["诉求", "history.wanted", r.wanted ? quoted(r.wanted) : null],
    ["处理", "history.done", r.done && r.done.length ? quoted(r.done[0]) : null],
    ["结果", "history.outcome", r.outcome ? t("outcome." + r.outcome) : r.outcome_label],
    ["待跟进", "history.follow_up", r.follow_ups && r.follow_ups.length ? quoted(r.follow_ups[0]) : null]];
  return h("div", { class: "history-recap", "data-testid": "history-recap", "data-call-id": r.call_id },
    h("span", { class: "history-recap-title" },
      t("history.recap", { when: fmtWhen(r.started_ts), topic: topicLabel(r.topic, r.topic_label) })),
    h("dl", { class: "recap" }, rows.filter((row) => row[2]).map(([field, key, content]) =>
      [h("dt", null, t(key)), h("dd", { "data-field": field }, content)])));
}

function render(panel, data) {
  const open = data.open_issue;
  fill(panel,
    h("div", { class: "history-head" }, h("h2", null, t("history.title")),
      h("span", { class: "history-who" }, [data.customer && data.customer.name, data.call_id].filter(Boolean).join(" · "))),
    h("div", { class: "history-summary", "data-testid": "history-summary", "data-open": open ? "true" : "false" }, summaryLine(data)),
    open ? h("div", { class: "history-open", "data-testid": "history-open-issue" },
      t("history.open", { topic: topicLabel(open.topic, open.topic_label), since: fmtWhen(open.since), outcome: t("outcome." + open.outcome) })) : null,
    data.last_recap ? recap(data.last_recap) : null,
    data.calls && data.calls.length ? h("ol", { class: "history-calls", "data-testid": "history-calls" }, data.calls.map((c) => {
      const emo = c.worst_emotion && c.worst_emotion !== "neutral"
        ? h("span", { class: "emotion", "data-emotion": c.worst_emotion }, emotionLabel(c.worst_emotion)) : null;
      return h("li", { class: "history-call", "data-call-id": c.call_id },
        h("span", { class: "history-date" }, fmtWhen(c.started_ts)),
        h("span", { class: "history-topic" }, topicLabel(c.topic, c.topic_label), emo ? " " : null, emo),
        outcomeBadge(c.outcome, { "data-testid": "history-outcome" }));
    })) : null);
  panel.hidden = false;
}

/** The desk's history panel: onCall(msg) for every `call` message, relabel() after a language switch. */
export function historyPanel(panel, auth) {
  const seen = new Set();
  let shown = null;

  function load(callId, attempt) {
    if (!auth.token()) return;
    api(auth, "/api/history/" + encodeURIComponent(callId)).then((r) => {
      if (r.status === 404 && attempt < RETRIES_MS.length) {
        setTimeout(() => load(callId, attempt + 1), RETRIES_MS[attempt]);
        return null;
      }
      return r.ok ? r.json() : null;
    }).then((data) => {
      if (!data) return;
      shown = data;
      render(panel, data);
    }).catch(() => {});
  }

  return {
    onCall(msg) {
      if (!msg.call_id || seen.has(msg.call_id) || msg.ended_ts) return;
      seen.add(msg.call_id);
      load(msg.call_id, 0);
    },
    relabel() {
      if (shown) render(panel, shown);
    },
  };
}
