/* Heartline agent desktop: the agent's live calls, their transcript, and nudges.
 *
 * Consumes WS /ws/agent (docs/websocket.md): call, transcript, call_state, nudge,
 * feedback_ack, resumed, error. Sends feedback, resume (after every reconnect),
 * ping (common.js).
 *
 * What it keeps, per call, in sessionStorage (so a reload shows each nudge once
 * and remembers what the agent did with it): every nudge id seen, when it was
 * first shown, accepted/dismissed/expired, and whether the gateway acknowledged
 * the feedback (unacknowledged feedback is sent again after a reconnect).
 */
(function () {
  "use strict";
  var h = HL.h;
  var t = HL.t;

  var params = new URLSearchParams(window.location.search);
  function secondsParam(name, fallbackMs) {
    var v = Number(params.get(name));
    return v > 0 ? v * 1000 : fallbackMs;
  }
  // How long an untouched card stays (?nudge_ttl=SECONDS overrides, e.g. for tests).
  var NUDGE_TTL_MS = secondsParam("nudge_ttl", 90000);
  var ACCEPTED_LINGER_MS = 15000; // an accepted card stays this long, marked used, then fades
  var ENDED_KEEP_MS = secondsParam("ended_keep", 120000); // an ended call's tab stays this long
  var FADE_MS = 600;
  var STORE_PREFIX = "heartline.agent.v1.";
  var STORE_MAX_AGE_MS = 12 * 3600 * 1000;

  var auth = new HL.Auth("agent");
  var $ = function (id) {
    return document.getElementById(id);
  };
  var conn = new HL.ConnBadge(document.querySelector("[data-testid=conn-status]"));
  var sparkSvg = HL.sparklineSvg(150, 34, "sentiment-line");
  $("sentiment-slot").appendChild(sparkSvg);

  var calls = new Map(); // call_id -> Call
  var activeId = null;
  var socket = null;

  // ------------------------------------------------------------ storage per call

  function storeKey(callId) {
    return STORE_PREFIX + (auth.who().id || "anon") + "." + callId;
  }

  function loadStore(callId) {
    var raw = HL.storageGet("sessionStorage", storeKey(callId));
    if (!raw) return { n: {} };
    try {
      var s = JSON.parse(raw);
      return s && s.n ? s : { n: {} };
    } catch (e) {
      return { n: {} };
    }
  }

  function saveStore(call) {
    if (call.saveTimer) return;
    call.saveTimer = setTimeout(function () {
      call.saveTimer = null;
      var n = {};
      call.nudges.forEach(function (rec, id) {
        // Data only while the card can still be shown; afterwards the id and outcome suffice.
        n[id] = { at: rec.at, st: rec.st, ack: rec.ack, dt: rec.dt, d: rec.gone ? undefined : rec.d };
      });
      HL.storageSet("sessionStorage", storeKey(call.id), JSON.stringify({ t: Date.now(), n: n }));
    }, 150);
  }

  function pruneStores() {
    try {
      var now = Date.now();
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var k = sessionStorage.key(i);
        if (!k || k.indexOf(STORE_PREFIX) !== 0) continue;
        var s = JSON.parse(sessionStorage.getItem(k) || "{}");
        if (!s.t || now - s.t > STORE_MAX_AGE_MS) sessionStorage.removeItem(k);
      }
    } catch (e) {
      /* ignore */
    }
  }

  // ------------------------------------------------------------ calls

  function ensureCall(callId) {
    var call = calls.get(callId);
    if (call) return call;
    var scroller = h("div", { class: "transcript", tabindex: "0", dataset: { callId: callId } });
    var jump = h("button", { type: "button", class: "btn jump", "data-testid": "btn-latest", hidden: true });
    var pane = h("div", { class: "transcript-box", dataset: { callId: callId }, hidden: true }, scroller, jump);
    var list = h("div", { class: "nudge-list", dataset: { callId: callId }, hidden: true });
    $("transcripts").appendChild(pane);
    $("nudge-lists").appendChild(list);
    call = {
      id: callId,
      info: { call_id: callId },
      firstSeen: Date.now(),
      pane: pane,
      view: new HL.TranscriptView(scroller, jump),
      list: list,
      nudges: new Map(),
      tab: null,
      endedAt: null,
      holdSince: null,
      saveTimer: null,
    };
    calls.set(callId, call);
    restoreNudges(call);
    if (!activeId || (calls.get(activeId) && calls.get(activeId).endedAt)) activeId = callId;
    renderTabs();
    renderActive();
    return call;
  }

  function startedAt(call) {
    return HL.parseTs(call.info.started_ts) || call.firstSeen;
  }

  function mergeCall(call, msg) {
    var wasHold = !!call.info.on_hold;
    for (var k in msg) if (k !== "kind" && Object.prototype.hasOwnProperty.call(msg, k)) call.info[k] = msg[k];
    if (call.info.on_hold && !wasHold) call.holdSince = Date.now();
    if (!call.info.on_hold) call.holdSince = null;
    if (call.info.ended_ts && !call.endedAt) {
      call.endedAt = Date.now();
      setTimeout(function () {
        removeCall(call.id);
      }, ENDED_KEEP_MS);
    }
  }

  function removeCall(callId) {
    var call = calls.get(callId);
    if (!call) return;
    calls.delete(callId);
    call.pane.remove();
    call.list.remove();
    if (call.tab) call.tab.remove();
    clearTimeout(call.saveTimer);
    if (call.endedAt) HL.storageSet("sessionStorage", storeKey(callId), null); // the gateway will not send it again
    if (activeId === callId) {
      var order = sortedCalls();
      activeId = order.length ? order[0].id : null;
    }
    renderTabs();
    renderActive();
  }

  function sortedCalls() {
    return Array.from(calls.values()).sort(function (a, b) {
      return startedAt(b) - startedAt(a); // newest first
    });
  }

  function customerName(call) {
    var c = call.info.customer || {};
    return c.name || t("call.customer.unknown");
  }

  function openCount(call) {
    var n = 0;
    call.nudges.forEach(function (rec) {
      if (rec.el && !rec.st) n++;
    });
    return n;
  }

  function renderTabs() {
    var tabs = $("tabs");
    var order = sortedCalls();
    tabs.hidden = order.length === 0;
    order.forEach(function (call, i) {
      if (!call.tab) {
        call.tab = h(
          "button",
          {
            type: "button",
            role: "tab",
            class: "tab",
            "data-testid": "call-tab",
            dataset: { callId: call.id },
            onclick: function () {
              activeId = call.id;
              renderTabs();
              renderActive();
            },
          },
          h("span", { class: "tab-name" }),
          h("span", { class: "tab-seg" }),
          h("span", { class: "tab-time mono" }),
          h("span", { class: "tab-count" })
        );
      }
      var tab = call.tab;
      if (tabs.children[i] !== tab) tabs.insertBefore(tab, tabs.children[i] || null);
      var active = call.id === activeId;
      tab.setAttribute("aria-selected", active ? "true" : "false");
      tab.classList.toggle("active", active);
      tab.classList.toggle("ended", !!call.endedAt);
      tab.classList.toggle("on-hold", !!call.info.on_hold);
      HL.setText(tab.querySelector(".tab-name"), customerName(call));
      var seg = HL.segmentLabel((call.info.customer || {}).segment);
      var segEl = tab.querySelector(".tab-seg");
      segEl.hidden = !seg;
      HL.setText(segEl, seg || "");
      var count = active ? 0 : openCount(call);
      var countEl = tab.querySelector(".tab-count");
      countEl.hidden = count === 0;
      HL.setText(countEl, count);
    });
    tickClocks();
  }

  function renderActive() {
    var call = activeId ? calls.get(activeId) : null;
    calls.forEach(function (c) {
      var on = c === call;
      if (c.pane.hidden === on) {
        c.pane.hidden = !on;
        c.list.hidden = !on;
        if (on && c.view.stick) c.view.scrollToEnd();
      }
    });
    $("no-call").hidden = !!call;
    $("call-head").hidden = !call;
    if (!call) {
      $("nudges-empty").hidden = false;
      return;
    }
    var info = call.info;
    $("call-head").dataset.callId = call.id;
    HL.setText($("customer-name"), customerName(call));
    var segment = (info.customer || {}).segment;
    var seg = HL.segmentLabel(segment);
    $("segment").hidden = !seg;
    $("segment").dataset.segment = segment || "";
    HL.setText($("segment"), seg || "");
    $("hold").hidden = !info.on_hold || !!call.endedAt;
    $("ended").hidden = !call.endedAt;
    var emotion = info.emotion || "neutral";
    $("emotion").dataset.emotion = emotion;
    HL.setText($("emotion"), HL.emotionLabel(emotion));
    HL.sparkline(sparkSvg, info.sentiment_trend || []);
    sparkSvg.setAttribute("aria-label", t("call.sentiment"));
    $("nudges-empty").hidden = openCount(call) > 0 || call.list.children.length > 0;
    tickClocks();
  }

  function tickClocks() {
    var now = Date.now();
    calls.forEach(function (call) {
      var end = HL.parseTs(call.info.ended_ts) || call.endedAt || now;
      var text = HL.fmtDuration(Math.max(0, end - startedAt(call)));
      if (call.tab) HL.setText(call.tab.querySelector(".tab-time"), text);
      if (call.id === activeId) {
        HL.setText($("duration"), text);
        HL.setText($("hold-time"), call.holdSince ? HL.fmtDuration(now - call.holdSince) : "");
      }
    });
  }

  // ------------------------------------------------------------ nudges

  function restoreNudges(call) {
    var stored = loadStore(call.id).n;
    var now = Date.now();
    var ids = Object.keys(stored).sort(function (a, b) {
      return stored[a].at - stored[b].at;
    });
    ids.forEach(function (id) {
      var s = stored[id];
      var rec = { d: s.d, at: s.at, st: s.st || null, ack: !!s.ack, dt: s.dt || null, el: null, gone: true };
      call.nudges.set(id, rec);
      var showable = s.d && ((!rec.st && now - rec.at < NUDGE_TTL_MS) || (rec.st === "accepted" && now - (rec.dt || 0) < ACCEPTED_LINGER_MS));
      if (showable) {
        rec.gone = false;
        renderCard(call, id, rec);
      }
    });
  }

  function addNudge(msg) {
    if (!msg.nudge_id || !msg.call_id) return;
    if (msg.audience === "supervisor") return; // wall alerts are not for the agent
    var call = ensureCall(msg.call_id);
    if (call.nudges.has(msg.nudge_id)) return; // never twice, even across reloads
    var d = {
      nudge_id: msg.nudge_id,
      call_id: msg.call_id,
      type: msg.type,
      priority: msg.priority,
      title: msg.title,
      suggestion: msg.suggestion,
      reason: msg.reason,
      created_ts: msg.created_ts,
      sender: msg.sender || null,
      source: msg.source || null,
    };
    var rec = { d: d, at: Date.now(), st: null, ack: false, dt: null, el: null, gone: false };
    call.nudges.set(msg.nudge_id, rec);
    renderCard(call, msg.nudge_id, rec);
    saveStore(call);
    renderTabs();
    if (call.id === activeId) renderActive();
  }

  function renderCard(call, id, rec) {
    var d = rec.d;
    var high = d.priority === "high";
    var whisper = d.type === "supervisor_whisper"; // a supervisor's own words: a distinct card, "from" line
    var knowledge = d.type === "knowledge_answer"; // what to answer: the knowledge base's entry, with its source
    var suggestion = h("p", { class: "suggestion" });
    HL.renderRedacted(suggestion, d.suggestion);
    var acceptKey = whisper ? "whisper.ack" : "nudge.accept";
    var accept = h("button", { type: "button", class: "btn btn-accept", "data-testid": "btn-accept", "data-i18n": acceptKey }, t(acceptKey));
    var dismiss = h("button", { type: "button", class: "btn btn-dismiss", "data-testid": "btn-dismiss", "data-i18n": "nudge.dismiss" }, t("nudge.dismiss"));
    var used = h("span", { class: "used", "data-i18n": "nudge.accepted" }, t("nudge.accepted"));
    var card = h(
      "article",
      {
        class: "nudge" + (high ? " prio-high" : "") + (d.priority === "low" ? " prio-low" : "") + (whisper ? " whisper" : "") + (knowledge ? " knowledge" : ""),
        "data-testid": "nudge-card",
        dataset: { nudgeId: id, type: d.type || "", priority: d.priority || "normal", state: rec.st || "open", callId: call.id },
      },
      h(
        "header",
        { class: "nudge-head" },
        high ? h("span", { class: "prio-icon", "aria-hidden": "true" }, "!") : null,
        knowledge ? h("span", { class: "badge badge-knowledge", "data-i18n": "nudge.knowledge" }, t("nudge.knowledge")) : null,
        h("span", { class: "nudge-title" }, d.title || d.type || ""),
        high ? h("span", { class: "badge badge-high", "data-i18n": "nudge.high" }, t("nudge.high")) : null,
        h("time", { class: "nudge-time mono" }, HL.fmtClock(d.created_ts || rec.at))
      ),
      suggestion,
      whisper ? h("p", { class: "whisper-from", "data-testid": "whisper-from", dataset: { sender: d.sender || "" } }, d.reason || d.sender || "") : null,
      d.reason && !whisper ? h("p", { class: "reason" }, d.reason) : null,
      knowledge
        ? h("p", { class: "knowledge-source", "data-testid": "knowledge-source", dataset: { source: d.source || "" } },
            h("span", { "data-i18n": "nudge.source" }, t("nudge.source")), " ",
            h("span", { class: "mono" }, d.source || ""), " · ", d.title || "")
        : null,
      h("div", { class: "nudge-actions" }, accept, dismiss, used)
    );
    accept.addEventListener("click", function () {
      decide(call, id, "accepted");
      if (whisper) return; // nothing to say to the customer: no copy
      HL.copyText(d.suggestion || "", suggestion).then(function (how) {
        HL.toast(t(how === "copied" ? "nudge.copied" : "nudge.copy.manual"));
      });
    });
    dismiss.addEventListener("click", function () {
      decide(call, id, "dismissed");
    });
    rec.el = card;
    applyCardState(rec);
    // Newest on top: cards are shown in the order they were first seen.
    var before = null;
    var children = call.list.children;
    for (var i = 0; i < children.length; i++) {
      var other = call.nudges.get(children[i].dataset.nudgeId);
      if (other && other.at <= rec.at) {
        before = children[i];
        break;
      }
    }
    call.list.insertBefore(card, before);
    if (rec.st === "accepted") scheduleGone(call, id, rec, ACCEPTED_LINGER_MS - (Date.now() - (rec.dt || Date.now())));
  }

  function applyCardState(rec) {
    if (!rec.el) return;
    rec.el.dataset.state = rec.st || "open";
    rec.el.classList.toggle("is-used", rec.st === "accepted");
    var buttons = rec.el.querySelectorAll(".btn-accept,.btn-dismiss");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = !!rec.st;
  }

  function decide(call, id, action) {
    var rec = call.nudges.get(id);
    if (!rec || rec.st) return;
    rec.st = action;
    rec.dt = Date.now();
    rec.ack = false;
    applyCardState(rec);
    sendFeedback(id, action);
    saveStore(call);
    if (action === "dismissed") fadeOut(call, id, rec);
    else scheduleGone(call, id, rec, ACCEPTED_LINGER_MS);
    renderTabs();
  }

  function sendFeedback(id, action) {
    if (socket) socket.send({ kind: "feedback", nudge_id: id, action: action });
  }

  function scheduleGone(call, id, rec, ms) {
    setTimeout(function () {
      fadeOut(call, id, rec);
    }, Math.max(0, ms));
  }

  function fadeOut(call, id, rec) {
    if (!rec.el || rec.el.classList.contains("leaving")) return;
    var el = rec.el;
    el.classList.add("leaving");
    setTimeout(function () {
      el.remove();
      rec.el = null;
      rec.gone = true;
      saveStore(call);
      renderTabs();
      if (call.id === activeId) renderActive();
    }, FADE_MS);
  }

  function expireNudges() {
    var now = Date.now();
    calls.forEach(function (call) {
      call.nudges.forEach(function (rec, id) {
        if (rec.el && !rec.st && now - rec.at >= NUDGE_TTL_MS) {
          rec.st = "expired";
          rec.dt = now;
          applyCardState(rec);
          fadeOut(call, id, rec);
        }
      });
    });
  }

  // ------------------------------------------------------------ socket

  function onMessage(msg) {
    switch (msg.kind) {
      case "call": {
        if (!msg.call_id) return;
        document.dispatchEvent(new CustomEvent("heartline:call", { detail: msg })); // history.js
        var call = ensureCall(msg.call_id);
        mergeCall(call, msg);
        renderTabs();
        if (call.id === activeId) renderActive();
        break;
      }
      case "call_state": {
        if (!msg.call_id) return;
        var c2 = ensureCall(msg.call_id);
        mergeCall(c2, msg);
        renderTabs();
        if (c2.id === activeId) renderActive();
        break;
      }
      case "transcript": {
        if (!msg.call_id) return;
        ensureCall(msg.call_id).view.upsert(msg);
        break;
      }
      case "nudge":
        addNudge(msg);
        break;
      case "feedback_ack": {
        calls.forEach(function (c) {
          var rec = c.nudges.get(msg.nudge_id);
          if (rec) {
            rec.ack = true;
            saveStore(c);
          }
        });
        break;
      }
      case "resumed":
      case "pong":
        break;
      case "error":
        if (window.console) console.warn("heartline gateway:", msg.error);
        break;
      default:
        break;
    }
  }

  function onOpen(sock) {
    calls.forEach(function (call) {
      if (call.endedAt) return;
      sock.send({
        kind: "resume",
        call_id: call.id,
        after_seq: call.view.afterSeq(),
        seen_nudges: Array.from(call.nudges.keys()),
      });
      // Feedback the gateway never acknowledged (sent while the link was down): again.
      call.nudges.forEach(function (rec, id) {
        if ((rec.st === "accepted" || rec.st === "dismissed") && !rec.ack) sendFeedback(id, rec.st);
      });
    });
  }

  // ------------------------------------------------------------ sign-in / out

  function showSignIn(message) {
    if (socket) socket.stop();
    HL.showSignInChrome($("desk"), conn);
    HL.renderSignIn($("signin"), auth, startDesk, message);
  }

  function startDesk() {
    HL.showSignedInChrome($("desk"), conn, auth);
    // Fresh desk state for this sign-in (sessionStorage keeps what a reload needs).
    Array.from(calls.keys()).forEach(removeCall);
    socket = new HL.Socket("/ws/agent", function () {
      return auth.token();
    }, {
      onOpen: onOpen,
      onMessage: onMessage,
      onStatus: function (state, info) {
        conn.set(state, info);
      },
      onAuthFailed: function (code) {
        auth.clear();
        showSignIn(code === 4403 ? "signin.forbidden" : "signin.expired");
      },
    });
    socket.start();
    renderTabs();
    renderActive();
  }

  $("signout").addEventListener("click", function () {
    auth.clear();
    showSignIn(null);
  });
  $("lang").addEventListener("click", function () {
    HL.i18n.toggle();
  });
  HL.i18n.onChange(function () {
    renderTabs();
    renderActive();
    calls.forEach(function (c) {
      c.view.relabel();
    });
  });

  HL.i18n.apply(document);
  pruneStores();
  setInterval(function () {
    tickClocks();
    expireNudges();
  }, 1000);
  if (auth.token()) startDesk();
  else showSignIn(null);
})();
