/* Post-call review for supervisors: finished calls with filters, one call in
 * detail (post-call summary, scorecard with evidence lines, transcript,
 * sentiment curve, nudges and what the agent did), the agents' scorecard
 * trend by day, and nudge acceptance per agent, per type and per knowledge entry. Data:
 * /api/review/... with the supervisor token kept by HL.Auth (same sign-in as
 * the wall).
 */
(function () {
  "use strict";
  var HL = window.HL;
  var $ = function (id) { return document.getElementById(id); };
  var auth = new HL.Auth("supervisor");
  var OUTCOME = { resolved: "已解决", unresolved: "未解决", escalated: "已升级" };
  var ACTION = { accepted: "已采纳", dismissed: "已忽略" };
  var STATUS = { pass: "达标", partial: "部分达标", fail: "未达标", na: "不适用" };
  var SVG_NS = "http://www.w3.org/2000/svg";
  var selected = null;

  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + auth.token(), Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          auth.clear();
          showSignIn(r.status === 403 ? "signin.forbidden" : "signin.expired");
          throw new Error("auth");
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function fmtWhen(ts) {
    var n = HL.parseTs(ts);
    if (n === null) return "";
    var d = new Date(n);
    var two = function (x) { return x < 10 ? "0" + x : String(x); };
    return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function pct(x) { return typeof x === "number" ? Math.round(x * 100) + "%" : "—"; }

  function scoreBadge(total, extra) {
    if (typeof total !== "number") return "—";
    var band = total >= 85 ? "good" : total >= 60 ? "fair" : "poor";
    return HL.h("span", { class: "score" + (extra ? " " + extra : ""), "data-band": band }, String(Math.round(total)));
  }

  function quote(line) {
    if (!line) return "—";
    var text = HL.h("span");
    HL.renderRedacted(text, line.text);
    return HL.h("span", { "data-seq": line.seq }, HL.h("span", { class: "seq" }, "#" + line.seq), text);
  }

  function renderRecap(el, r) {
    clear(el);
    if (!r) {
      el.appendChild(HL.h("dd", { class: "muted" }, "通话结束后生成。"));
      return;
    }
    var rows = [
      ["主题", r.topic_label],
      ["客户诉求", quote(r.wanted)],
      ["处理", r.done && r.done.length ? r.done.map(function (l) { return HL.h("div", null, quote(l)); }) : "—"],
      ["结果", [outcomeBadge(r.outcome), r.outcome_line ? " " : null, r.outcome_line ? quote(r.outcome_line) : null]],
      ["待跟进", r.follow_ups && r.follow_ups.length ? r.follow_ups.map(function (l) { return HL.h("div", null, quote(l)); }) : "无"],
    ];
    rows.forEach(function (row) {
      el.appendChild(HL.h("dt", null, row[0]));
      el.appendChild(HL.h("dd", { "data-field": row[0] }, row[1]));
    });
  }

  function renderScorecard(card) {
    var list = $("d-scorecard");
    clear(list);
    clear($("d-score"));
    if (!card) {
      list.appendChild(HL.h("li", { class: "muted" }, "通话结束后评分。"));
      return;
    }
    var total = scoreBadge(card.total);
    if (total instanceof Node) {
      $("d-score").dataset.band = total.dataset.band;
      HL.setText($("d-score"), total.textContent);
    }
    card.items.forEach(function (it) {
      list.appendChild(HL.h("li", { class: "score-item", "data-key": it.key, "data-status": it.status, "data-testid": "score-item" },
        HL.h("span", { class: "score-item-top" },
          HL.h("span", { class: "score-item-label" }, it.label),
          HL.h("span", { class: "score-item-principle" }, it.principle),
          HL.h("span", { class: "status status-" + it.status }, STATUS[it.status] || it.status),
          HL.h("span", { class: "score-item-points" }, it.points === null ? "—" : it.points + " / " + it.weight)),
        HL.h("span", { class: "score-item-note" }, it.note),
        it.evidence.length ? HL.h("ol", { class: "evidence", "data-testid": "evidence" }, it.evidence.map(function (e) {
          var text = HL.h("span");
          HL.renderRedacted(text, e.text);
          return HL.h("li", { "data-seq": e.seq, "data-speaker": e.speaker },
            HL.h("span", { class: "seq" }, "#" + e.seq + " " + (e.speaker === "agent" ? "坐席" : "客户")), text);
        })) : null));
    });
  }

  function loadTrend(params) {
    var q = new URLSearchParams();
    ["since", "until", "agent"].forEach(function (k) { if (params.get(k)) q.set(k, params.get(k)); });
    api("/api/review/scores?" + q.toString()).then(function (data) {
      var head = $("trend-head");
      while (head.children.length > 3) head.removeChild(head.lastChild);
      data.days.forEach(function (d) { head.appendChild(HL.h("th", { class: "trend-cell" }, d.slice(5))); });
      head.appendChild(HL.h("th", null, "最需改进"));
      HL.setText($("trend-range"), data.days.length ? data.days[0] + " ~ " + data.days[data.days.length - 1] : "");
      var body = $("trend-body");
      clear(body);
      var agents = Object.keys(data.agents);
      $("trend-empty").hidden = agents.length > 0;
      agents.forEach(function (id) {
        var a = data.agents[id];
        body.appendChild(HL.h("tr", { "data-agent": id },
          HL.h("td", { class: "mono" }, id),
          HL.h("td", { class: "num" }, a.calls),
          HL.h("td", { class: "num" }, scoreBadge(a.avg)),
          a.by_day.map(function (v, i) {
            return HL.h("td", { class: "trend-cell", title: a.calls_by_day[i] + " 通" }, v === null ? "·" : scoreBadge(v));
          }),
          HL.h("td", { class: "trend-weakest" }, a.weakest ? a.weakest.label + " " + Math.round(a.weakest.avg * 100) + "%" : "—")));
      });
    }).catch(function () {});
  }

  function outcomeBadge(o) {
    return o ? HL.h("span", { class: "outcome outcome-" + o }, OUTCOME[o] || o) : null;
  }

  function query() {
    var form = $("filters");
    var params = new URLSearchParams();
    ["agent", "since", "until", "min_risk", "escalated", "nudge_type"].forEach(function (k) {
      var v = form.elements[k].value.trim();
      if (v) params.set(k, v);
    });
    return params;
  }

  function loadCalls() {
    var params = query();
    api("/api/review/calls?" + params.toString()).then(function (data) {
      var body = $("calls");
      clear(body);
      HL.setText($("call-count"), data.total);
      $("calls-empty").hidden = data.calls.length > 0;
      data.calls.forEach(function (c) {
        var row = HL.h("tr", { class: "pick-row" + (c.call_id === selected ? " selected" : ""), "data-call-id": c.call_id,
          tabindex: "0", onclick: function () { openCall(c.call_id); } },
          HL.h("td", { class: "mono" }, fmtWhen(c.started_ts)),
          HL.h("td", null, c.agent_id || "—"),
          HL.h("td", null, (c.customer && c.customer.name) || "—"),
          HL.h("td", null, c.topic_label || "—"),
          HL.h("td", null, outcomeBadge(c.outcome)),
          HL.h("td", null, c.worst_emotion && c.worst_emotion !== "neutral"
            ? HL.h("span", { class: "emotion", "data-emotion": c.worst_emotion }, HL.emotionLabel(c.worst_emotion)) : "—"),
          HL.h("td", { class: "num" }, (c.max_risk || 0).toFixed(2)),
          HL.h("td", { class: "num" }, c.nudges + " / " + c.accepted),
          HL.h("td", { class: "num", "data-testid": "call-score" }, scoreBadge(c.score)));
        body.appendChild(row);
      });
      if (!selected && data.calls.length) openCall(data.calls[0].call_id);
    }).catch(function () {});
    loadTrend(params);
    var acc = new URLSearchParams();
    if (params.get("since")) acc.set("since", params.get("since"));
    if (params.get("until")) acc.set("until", params.get("until"));
    api("/api/review/acceptance?" + acc.toString()).then(function (data) {
      fillAcceptance($("acc-agents"), data.by_agent, function (k) { return k; });
      fillAcceptance($("acc-types"), data.by_type, function (k) { return k; });
      fillAcceptance($("acc-entries"), data.by_entry || {}, function (k) { return k; }); // knowledge answers per entry
    }).catch(function () {});
  }

  function fillAcceptance(body, table, label) {
    clear(body);
    Object.keys(table).forEach(function (k) {
      var r = table[k];
      body.appendChild(HL.h("tr", { "data-key": k },
        HL.h("td", { class: "mono" }, label(k)), HL.h("td", { class: "num" }, r.shown),
        HL.h("td", { class: "num" }, r.accepted), HL.h("td", { class: "num" }, r.dismissed),
        HL.h("td", { class: "num" }, r.ignored), HL.h("td", { class: "num" }, pct(r.acceptance_rate))));
    });
  }

  /** Inline SVG: customer sentiment (0..1) over the call, nudges as dashed marks. */
  function curve(points, nudgeTimes, totalMs) {
    var W = 520, H = 120, P = 8;
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("class", "curve");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "客户情绪曲线");
    var span = Math.max(totalMs || 0, points.length ? points[points.length - 1].t_ms : 0, 1);
    var x = function (t) { return P + (W - 2 * P) * (t / span); };
    var y = function (v) { return P + (H - 2 * P) * (1 - v); };
    var el = function (tag, attrs) {
      var e = document.createElementNS(SVG_NS, tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      svg.appendChild(e);
      return e;
    };
    el("line", { x1: P, x2: W - P, y1: y(0.5), y2: y(0.5), class: "curve-mid" });
    nudgeTimes.forEach(function (t) { el("line", { x1: x(t), x2: x(t), y1: P, y2: H - P, class: "curve-nudge" }); });
    if (points.length) {
      el("polyline", { class: "curve-line", points: points.map(function (p) { return x(p.t_ms).toFixed(1) + "," + y(p.sentiment).toFixed(1); }).join(" ") });
      points.forEach(function (p) { el("circle", { cx: x(p.t_ms).toFixed(1), cy: y(p.sentiment).toFixed(1), r: 2.5, class: "curve-dot" }); });
    }
    return svg;
  }

  function openCall(callId) {
    selected = callId;
    Array.prototype.forEach.call(document.querySelectorAll("#calls tr"), function (tr) {
      tr.classList.toggle("selected", tr.dataset.callId === callId);
    });
    api("/api/review/calls/" + encodeURIComponent(callId)).then(function (c) {
      $("detail-empty").hidden = true;
      $("detail-body").hidden = false;
      HL.setText($("d-customer"), (c.customer && c.customer.name) || c.call_id);
      var seg = HL.segmentLabel(c.customer && c.customer.segment);
      $("d-segment").hidden = !seg;
      HL.setText($("d-segment"), seg || "");
      clear($("d-outcome"));
      if (c.outcome) $("d-outcome").appendChild(outcomeBadge(c.outcome));
      $("d-escalated").hidden = !c.escalated;
      HL.setText($("d-meta"), [c.call_id, c.agent_id, fmtWhen(c.started_ts), c.duration_s != null ? HL.fmtDuration(c.duration_s * 1000) : "",
        "主题 " + (c.topic_label || "—"), "最高风险 " + (c.max_risk || 0).toFixed(2)].filter(Boolean).join(" · "));
      var bySeq = {};
      c.transcript.forEach(function (u) { bySeq[u.seq] = u.end_ms; });
      var marks = c.nudges.map(function (n) { return bySeq[n.trigger_seq]; }).filter(function (t) { return typeof t === "number"; });
      renderRecap($("d-recap"), c.recap);
      renderScorecard(c.scorecard);
      clear($("d-curve"));
      $("d-curve").appendChild(curve(c.curve, marks, c.duration_s ? c.duration_s * 1000 : 0));
      var nudges = $("d-nudges");
      clear(nudges);
      if (!c.nudges.length) nudges.appendChild(HL.h("li", { class: "muted" }, "本通话没有提示。"));
      c.nudges.forEach(function (n) {
        var act = n.action ? "action action-" + n.action : "action action-none";
        nudges.appendChild(HL.h("li", { class: "mini-nudge" + (n.type === "supervisor_whisper" ? " whisper" : ""),
          "data-type": n.type, "data-action": n.action || "none", "data-sender": n.sender || "" },
          HL.h("span", { class: "mini-top" }, HL.h("span", { class: "mini-title" }, n.title), " ", n.type, " ",
            HL.h("span", { class: act }, n.action ? ACTION[n.action] : "未处理")),
          HL.h("span", { class: "mini-suggestion" }, n.suggestion),
          HL.h("span", { class: "muted mini-reason" }, n.reason)));
      });
      var lines = $("d-transcript");
      clear(lines);
      c.transcript.forEach(function (u) {
        var text = HL.h("span");
        HL.renderRedacted(text, u.text);
        lines.appendChild(HL.h("li", { class: "review-line", "data-speaker": u.speaker },
          HL.h("span", { class: "meta" }, (u.speaker === "agent" ? "坐席" : "客户") + " · " + HL.fmtDuration(u.start_ms) +
            (u.speaker === "customer" ? " · " + HL.emotionLabel(u.emotion) : "")), text));
      });
    }).catch(function () {});
  }

  function showSignIn(message) {
    $("review").hidden = true;
    $("signin").hidden = false;
    $("signout").hidden = true;
    $("who").hidden = true;
    HL.renderSignIn($("signin"), auth, startReview, message);
  }

  function startReview() {
    $("signin").hidden = true;
    $("review").hidden = false;
    $("signout").hidden = false;
    var who = auth.who();
    $("who").hidden = !who.name;
    HL.setText($("who"), who.name);
    loadCalls();
  }

  $("filters").addEventListener("submit", function (ev) {
    ev.preventDefault();
    selected = null;
    loadCalls();
  });
  $("signout").addEventListener("click", function () {
    auth.clear();
    showSignIn(null);
  });
  if (HL.i18n && HL.i18n.apply) HL.i18n.apply(document);
  if (auth.token()) startReview();
  else showSignIn(null);
})();
