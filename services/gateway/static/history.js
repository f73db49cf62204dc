/* Customer memory on the agent desktop: the panel <section id="history">.
 *
 * agent.js dispatches `heartline:call` (detail = the `call` message) on the
 * document; for a call not seen before this fetches GET /api/history/{call_id}
 * with the agent's token and shows the summary line (本周第3次来电,上次因登录问题不满),
 * the open issue, the summary of the customer's last call (诉求, 处理, 结果, 待跟进:
 * lines quoted from that call's redacted transcript) and the last calls. The recorder may store the call a moment
 * after the gateway announced it: a 404 is retried a few times.
 */
(function () {
  "use strict";
  var HL = window.HL;
  var panel = document.getElementById("history");
  if (!panel || !HL) return;
  var seen = {};
  var RETRIES_MS = [600, 1500, 3000, 6000];
  var OUTCOME = { resolved: "已解决", unresolved: "未解决", escalated: "已升级" };

  function token() {
    return HL.storageGet("localStorage", "heartline.token.agent");
  }

  function fmtDate(ts) {
    var n = HL.parseTs(ts);
    if (n === null) return "";
    var d = new Date(n);
    var two = function (x) { return x < 10 ? "0" + x : String(x); };
    return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function outcomeBadge(outcome) {
    if (!outcome) return null;
    return HL.h("span", { class: "outcome outcome-" + outcome, "data-testid": "history-outcome" }, OUTCOME[outcome] || outcome);
  }

  function quoted(line) {
    var el = HL.h("span", { "data-seq": line.seq });
    HL.renderRedacted(el, line.text);
    return el;
  }

  function renderRecap(r) {
    var rows = [["诉求", r.wanted ? quoted(r.wanted) : null],
      ["处理", r.done && r.done.length ? quoted(r.done[0]) : null],
      ["结果", r.outcome_label],
      ["待跟进", r.follow_ups && r.follow_ups.length ? quoted(r.follow_ups[0]) : null]];
    var dl = HL.h("dl", { class: "recap" });
    rows.forEach(function (row) {
      if (!row[1]) return;
      dl.appendChild(HL.h("dt", null, row[0]));
      dl.appendChild(HL.h("dd", { "data-field": row[0] }, row[1]));
    });
    return HL.h("div", { class: "history-recap", "data-testid": "history-recap", "data-call-id": r.call_id },
      HL.h("span", { class: "history-recap-title" }, "上次通话小结 · " + fmtDate(r.started_ts) + " · " + (r.topic_label || "其他")),
      dl);
  }

  function render(data) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    var who = [data.customer && data.customer.name, data.call_id].filter(Boolean).join(" · ");
    panel.appendChild(HL.h("div", { class: "history-head" },
      HL.h("h2", null, "客户历史"), HL.h("span", { class: "history-who" }, who)));
    panel.appendChild(HL.h("div", { class: "history-summary", "data-testid": "history-summary",
      "data-open": data.open_issue ? "true" : "false" }, data.summary || ""));
    if (data.open_issue) {
      panel.appendChild(HL.h("div", { class: "history-open", "data-testid": "history-open-issue" },
        "未结问题:" + data.open_issue.topic_label + "(" + fmtDate(data.open_issue.since) + " 来电," +
        (OUTCOME[data.open_issue.outcome] || "") + ")"));
    }
    if (data.last_recap) panel.appendChild(renderRecap(data.last_recap));
    if (data.calls && data.calls.length) {
      panel.appendChild(HL.h("ol", { class: "history-calls", "data-testid": "history-calls" },
        data.calls.map(function (c) {
          var emo = c.worst_emotion && c.worst_emotion !== "neutral"
            ? HL.h("span", { class: "emotion", "data-emotion": c.worst_emotion }, HL.emotionLabel(c.worst_emotion)) : null;
          return HL.h("li", { class: "history-call", "data-call-id": c.call_id },
            HL.h("span", { class: "history-date" }, fmtDate(c.started_ts)),
            HL.h("span", { class: "history-topic" }, c.topic_label || "其他", emo ? " " : null, emo),
            outcomeBadge(c.outcome));
        })));
    }
    panel.hidden = false;
  }

  function load(callId, attempt) {
    var t = token();
    if (!t) return;
    fetch("/api/history/" + encodeURIComponent(callId), {
      headers: { Authorization: "Bearer " + t, Accept: "application/json" }, cache: "no-store",
    }).then(function (r) {
      if (r.status === 404 && attempt < RETRIES_MS.length) {
        setTimeout(function () { load(callId, attempt + 1); }, RETRIES_MS[attempt]);
        return null;
      }
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (data) render(data);
    }).catch(function () {
      /* history is a help, never in the way: stay quiet */
    });
  }

  document.addEventListener("heartline:call", function (ev) {
    var msg = ev.detail || {};
    if (!msg.call_id || seen[msg.call_id] || msg.ended_ts) return;
    seen[msg.call_id] = true;
    load(msg.call_id, 0);
  });
})();
