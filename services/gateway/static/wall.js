/* Heartline supervisor wall: every live call as a tile, worst first, and escalations.
 *
 * Consumes WS /ws/wall (docs/websocket.md): call_state, nudge, stats, and for the
 * watched call transcript and nudge; whisper_ack. Sends watch / unwatch (listen-in),
 * whisper (a supervisor's hint to the watched call's agent), ping.
 *
 * Built for hundreds of live calls: messages only update a Map and mark tiles
 * dirty; one requestAnimationFrame pass writes the changed fields of the dirty
 * tiles (DOM nodes are reused), and the order is re-sorted at most every
 * SORT_EVERY_MS so tiles do not jump on every update.
 */
(function () {
  "use strict";
  var h = HL.h;
  var t = HL.t;

  var SORT_EVERY_MS = 500;
  // A tile moves only when its risk has changed by at least this much since it
  // was last placed: with hundreds of calls drifting a little every second, an
  // exact sort would shuffle most tiles twice a second, which is hard to watch
  // and costs a relayout each time. Order is exact up to this margin.
  var RISK_HYSTERESIS = 0.05;
  var MAX_ALERTS = 200;
  var RISK_HIGH = 0.6;

  var auth = new HL.Auth("supervisor");
  var $ = function (id) {
    return document.getElementById(id);
  };
  var conn = new HL.ConnBadge(document.querySelector("[data-testid=conn-status]"));
  var tilesEl = $("tiles");

  var tiles = new Map(); // call_id -> {s: CallState, el, parts, shown: {...}, dirty}
  var dirty = new Set();
  var removed = new Set(); // ended call ids (a late, coalesced update must not bring a tile back)
  var orderDirty = false;
  var lastSort = 0;
  var frame = 0;
  var clockDue = false;
  var sortTimer = 0;
  var agentNames = new Map();
  var alertIds = new Set();
  var socket = null;

  // ------------------------------------------------------------ tiles

  function newTile(callId) {
    var parts = {
      customer: h("span", { class: "tile-customer" }),
      segment: h("span", { class: "badge badge-segment", hidden: true }),
      hold: h("span", { class: "badge badge-hold", "data-i18n": "call.hold", hidden: true }, t("call.hold")),
      escalated: h("span", { class: "badge badge-escalated", "data-testid": "badge-escalated", "data-i18n": "wall.escalated" }, t("wall.escalated")),
      agent: h("span", { class: "tile-agent" }),
      duration: h("span", { class: "tile-duration mono" }),
      spark: HL.sparklineSvg(200, 30, "tile-sparkline"),
      emotion: h("span", { class: "emotion", "data-testid": "tile-emotion" }),
      nudges: h("span", { class: "tile-nudges" }),
      riskBar: h("span", { class: "risk-fill" }),
    };
    var top = h("div", { class: "tile-top" }, parts.customer, parts.segment, parts.hold);
    var el = h(
      "div",
      {
        class: "tile",
        role: "button",
        tabindex: "0",
        "data-testid": "tile",
        dataset: { callId: callId, risk: "0.00", mood: "neutral" },
      },
      top,
      h("div", { class: "tile-mid" }, parts.agent, parts.duration),
      parts.spark,
      h("div", { class: "tile-bottom" }, parts.emotion, parts.nudges, h("span", { class: "risk", title: t("wall.risk") }, parts.riskBar))
    );
    return { s: { call_id: callId }, el: el, top: top, parts: parts, shown: {}, sortRisk: null };
  }

  function agentLabel(id) {
    if (!id) return "—";
    var name = agentNames.get(id);
    return name && name !== id ? name + " · " + id : id;
  }

  function startedAt(s) {
    return HL.parseTs(s.started_ts) || 0;
  }

  function writeTile(tile, now) {
    var s = tile.s;
    var p = tile.parts;
    var shown = tile.shown;
    var c = s.customer || {};
    var risk = riskOf(s);
    var riskText = risk.toFixed(2);
    if (shown.risk !== riskText) {
      shown.risk = riskText;
      tile.el.dataset.risk = riskText;
      tile.el.classList.toggle("at-risk", risk >= RISK_HIGH);
      p.riskBar.style.width = Math.round(risk * 100) + "%";
    }
    var m = HL.mood(s.sentiment);
    if (shown.mood !== m) {
      shown.mood = m;
      tile.el.dataset.mood = m;
    }
    HL.setText(p.customer, c.name || t("call.customer.unknown"));
    var seg = HL.segmentLabel(c.segment);
    p.segment.hidden = !seg;
    HL.setText(p.segment, seg || "");
    p.hold.hidden = !s.on_hold;
    HL.setText(p.agent, t("wall.agent") + " " + agentLabel(s.agent_id));
    var esc = !!s.escalated;
    if (shown.esc !== esc) {
      shown.esc = esc;
      if (esc) tile.top.appendChild(p.escalated);
      else p.escalated.remove();
    }
    HL.sparkline(p.spark, s.sentiment_trend || []);
    var emotion = s.emotion || "neutral";
    p.emotion.dataset.emotion = emotion;
    HL.setText(p.emotion, HL.emotionLabel(emotion));
    HL.setText(p.nudges, t("wall.nudges", { n: s.nudges_sent || 0 }));
    writeClock(tile, now);
  }

  function writeClock(tile, now) {
    var start = startedAt(tile.s);
    HL.setText(tile.parts.duration, start ? HL.fmtDuration(now - start) : "");
  }

  function riskOf(s) {
    return typeof s.risk === "number" ? s.risk : 0;
  }

  function compare(a, b) {
    var ra = a.sortRisk;
    var rb = b.sortRisk;
    if (rb !== ra) return rb - ra; // worst first
    var sa = startedAt(a.s);
    var sb = startedAt(b.s);
    if (sa !== sb) return sa - sb; // then the longest-running
    return a.s.call_id < b.s.call_id ? -1 : 1;
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(flush);
  }

  // Counters for tests and tuning (window.HL.wallPerf): frame work and sort cost in ms.
  var perf = (HL.wallPerf = { flushes: 0, flushMaxMs: 0, sorts: 0, sortMaxMs: 0, moved: 0, messages: 0 });

  function flush() {
    frame = 0;
    var t0 = performance.now();
    var now = Date.now();
    dirty.forEach(function (id) {
      var tile = tiles.get(id);
      if (tile) writeTile(tile, now);
    });
    dirty.clear();
    if (clockDue) {
      clockDue = false;
      tiles.forEach(function (tile) {
        writeClock(tile, now);
      });
      if (listen.callId) writeListenHead();
    }
    if (orderDirty) {
      var wait = SORT_EVERY_MS - (now - lastSort);
      if (wait <= 0) {
        orderDirty = false;
        lastSort = now;
        var t1 = performance.now();
        reorder();
        perf.sorts++;
        perf.sortMaxMs = Math.max(perf.sortMaxMs, performance.now() - t1);
      } else if (!sortTimer) {
        sortTimer = setTimeout(function () {
          sortTimer = 0;
          schedule();
        }, wait);
      }
    }
    perf.flushes++;
    perf.flushMaxMs = Math.max(perf.flushMaxMs, performance.now() - t0);
  }

  function reorder() {
    var order = Array.from(tiles.values()).sort(compare);
    // Move as few nodes as possible: tiles on the longest run already in the
    // wanted relative order stay put, the others are inserted around them.
    var pos = new Map();
    var children = tilesEl.children;
    for (var c = 0; c < children.length; c++) pos.set(children[c], c);
    var keep = stableIndexes(order.map(function (tile) {
      return pos.has(tile.el) ? pos.get(tile.el) : -1;
    }));
    var ref = null;
    for (var i = order.length - 1; i >= 0; i--) {
      var el = order[i].el;
      if (!keep[i]) {
        tilesEl.insertBefore(el, ref);
        perf.moved++;
      }
      ref = el;
    }
    $("tiles-empty").hidden = tiles.size > 0;
    HL.setText($("tile-count"), tiles.size ? String(tiles.size) : "");
  }

  /** Flags the members of one longest increasing subsequence of `seq` (O(n log n)). */
  function stableIndexes(seq) {
    var tails = []; // tails[k] = index in seq of the smallest tail of a run of length k+1
    var prev = new Array(seq.length);
    for (var i = 0; i < seq.length; i++) {
      if (seq[i] < 0) continue;
      var lo = 0;
      var hi = tails.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (seq[tails[mid]] < seq[i]) lo = mid + 1;
        else hi = mid;
      }
      prev[i] = lo > 0 ? tails[lo - 1] : -1;
      tails[lo] = i;
    }
    var keep = new Array(seq.length);
    for (var k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) keep[k] = true;
    return keep;
  }

  function onCallState(msg) {
    var id = msg.call_id;
    if (!id) return;
    var tile = tiles.get(id);
    if (stale) stale.delete(id);
    if (msg.ended_ts) {
      removed.add(id);
      if (removed.size > 5000) removed.delete(removed.values().next().value);
      if (tile) {
        tile.el.remove();
        tiles.delete(id);
        dirty.delete(id);
        orderDirty = true;
      }
      if (listen.callId === id) {
        for (var k in msg) if (k !== "kind") listen.s[k] = msg[k];
        writeListenHead();
      }
      schedule();
      return;
    }
    if (removed.has(id)) return;
    if (!tile) {
      tile = newTile(id);
      tiles.set(id, tile);
      tilesEl.appendChild(tile.el);
      orderDirty = true;
    }
    for (var key in msg) if (key !== "kind") tile.s[key] = msg[key];
    var risk = riskOf(tile.s);
    if (tile.sortRisk === null || Math.abs(risk - tile.sortRisk) >= RISK_HYSTERESIS) {
      tile.sortRisk = risk;
      orderDirty = true;
    }
    dirty.add(id);
    if (listen.callId === id) {
      listen.s = tile.s;
      writeListenHead();
    }
    schedule();
  }

  function relabelTiles() {
    tiles.forEach(function (tile) {
      tile.shown = {};
      HL.setText(tile.parts.hold, t("call.hold"));
      HL.setText(tile.parts.escalated, t("wall.escalated"));
      dirty.add(tile.s.call_id);
    });
    schedule();
  }

  // ------------------------------------------------------------ stats

  function onStats(msg) {
    HL.setText($("stat-live"), num(msg.live_calls));
    HL.setText($("stat-risk"), num(msg.at_risk));
    HL.setText($("stat-npm"), typeof msg.nudges_per_min === "number" ? msg.nudges_per_min.toFixed(1) : "—");
    HL.setText($("stat-accept"), typeof msg.acceptance_rate === "number" ? Math.round(msg.acceptance_rate * 100) + "%" : "—");
    $("stat-risk").parentNode.classList.toggle("has-risk", msg.at_risk > 0);
  }

  function num(v) {
    return typeof v === "number" ? String(v) : "—";
  }

  // ------------------------------------------------------------ alerts

  function callLabel(callId) {
    var tile = tiles.get(callId);
    var s = tile ? tile.s : listen.callId === callId ? listen.s : null;
    var c = (s && s.customer) || {};
    return (c.name || callId) + (s && s.agent_id ? " · " + agentLabel(s.agent_id) : "");
  }

  function addAlert(msg) {
    if (alertIds.has(msg.nudge_id)) return;
    alertIds.add(msg.nudge_id);
    var list = $("alerts");
    var item = h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: "alert" + (msg.priority === "high" ? " prio-high" : ""),
          "data-testid": "alert",
          dataset: { nudgeId: msg.nudge_id, callId: msg.call_id },
        },
        h("span", { class: "alert-top" }, h("time", { class: "mono" }, HL.fmtClock(msg.created_ts || Date.now())), h("span", { class: "alert-call" }, callLabel(msg.call_id))),
        h("span", { class: "alert-title" }, msg.title || msg.type || ""),
        msg.reason ? h("span", { class: "alert-reason" }, msg.reason) : null
      )
    );
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_ALERTS) {
      var last = list.lastElementChild;
      alertIds.delete(last.firstChild.dataset.nudgeId);
      last.remove();
    }
    $("alerts-empty").hidden = true;
  }

  // ------------------------------------------------------------ listen-in

  var listen = { callId: null, s: {}, view: null, nudgeIds: new Set(), spark: HL.sparklineSvg(140, 28, "listen-sparkline") };
  $("listen-spark").appendChild(listen.spark);

  function openListen(callId) {
    if (!callId) return;
    if (listen.callId === callId) return;
    if (listen.callId && socket) socket.send({ kind: "unwatch" });
    listen.callId = callId;
    var tile = tiles.get(callId);
    listen.s = tile ? tile.s : { call_id: callId };
    listen.nudgeIds = new Set();
    var box = $("listen-transcript");
    while (box.firstChild) box.removeChild(box.firstChild);
    var scroller = h("div", { class: "transcript", tabindex: "0" });
    var jump = h("button", { type: "button", class: "btn jump", "data-testid": "btn-latest", hidden: true });
    box.appendChild(scroller);
    box.appendChild(jump);
    listen.view = new HL.TranscriptView(scroller, jump);
    var nudges = $("listen-nudges");
    while (nudges.firstChild) nudges.removeChild(nudges.firstChild);
    $("listen-nudges-empty").hidden = false;
    whisperStatus("", null);
    $("listen").dataset.callId = callId;
    $("listen").hidden = false;
    document.body.classList.add("listening");
    markWatched();
    writeListenHead();
    if (socket) socket.send({ kind: "watch", call_id: callId });
  }

  function closeListen() {
    if (!listen.callId) return;
    if (socket) socket.send({ kind: "unwatch" });
    listen.callId = null;
    listen.view = null;
    $("listen").hidden = true;
    document.body.classList.remove("listening");
    markWatched();
  }

  function markWatched() {
    var prev = tilesEl.querySelector(".tile.watched");
    if (prev) prev.classList.remove("watched");
    var tile = listen.callId && tiles.get(listen.callId);
    if (tile) tile.el.classList.add("watched");
  }

  function writeListenHead() {
    var s = listen.s || {};
    var c = s.customer || {};
    HL.setText($("listen-customer"), c.name || s.call_id || "");
    var seg = HL.segmentLabel(c.segment);
    $("listen-segment").hidden = !seg;
    HL.setText($("listen-segment"), seg || "");
    $("listen-hold").hidden = !s.on_hold || !!s.ended_ts;
    $("listen-ended").hidden = !s.ended_ts;
    HL.setText($("listen-agent"), t("wall.agent") + " " + agentLabel(s.agent_id));
    var start = startedAt(s);
    var end = HL.parseTs(s.ended_ts) || Date.now();
    HL.setText($("listen-duration"), start ? HL.fmtDuration(end - start) : "");
    var emotion = s.emotion || "neutral";
    $("listen-emotion").dataset.emotion = emotion;
    HL.setText($("listen-emotion"), HL.emotionLabel(emotion));
    HL.sparkline(listen.spark, s.sentiment_trend || []);
  }

  function addListenNudge(msg) {
    if (listen.nudgeIds.has(msg.nudge_id)) return;
    listen.nudgeIds.add(msg.nudge_id);
    var item = h(
      "li",
      {
        class: "mini-nudge" + (msg.priority === "high" ? " prio-high" : "") + (msg.audience === "supervisor" ? " to-supervisor" : "") +
          (msg.type === "supervisor_whisper" ? " whisper" : ""),
        "data-testid": "listen-nudge",
        dataset: { nudgeId: msg.nudge_id, type: msg.type || "" },
      },
      h("span", { class: "mini-top" }, h("time", { class: "mono" }, HL.fmtClock(msg.created_ts || Date.now())), h("span", { class: "nudge-title" }, msg.title || msg.type || "")),
      h("span", { class: "mini-suggestion" }, msg.suggestion || ""),
      msg.reason ? h("span", { class: "reason" }, msg.reason) : null
    );
    var list = $("listen-nudges");
    list.insertBefore(item, list.firstChild);
    $("listen-nudges-empty").hidden = true;
  }

  // ------------------------------------------------------------ whisper (listen-in panel)

  function whisperStatus(text, state) {
    var el = $("whisper-status");
    HL.setText(el, text);
    if (state) el.dataset.state = state;
    else delete el.dataset.state;
  }

  $("whisper-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("whisper-text");
    var text = input.value.trim();
    if (!text || !listen.callId) return;
    if (!socket || !socket.send({ kind: "whisper", call_id: listen.callId, text: text })) {
      whisperStatus(t("whisper.failed", { error: t("conn.offline") }), "error");
      return;
    }
    whisperStatus(t("whisper.sending"), "sending");
  });

  function onWhisperAck(msg) {
    if (msg.call_id !== listen.callId) return;
    $("whisper-text").value = "";
    whisperStatus(t("whisper.sent"), "sent");
  }

  // ------------------------------------------------------------ socket

  function onMessage(msg) {
    perf.messages++;
    switch (msg.kind) {
      case "call_state":
      case "call":
        onCallState(msg);
        break;
      case "stats":
        onStats(msg);
        if (stale) sweepStale();
        break;
      case "nudge":
        if (!msg.nudge_id) return;
        if (msg.audience === "supervisor") addAlert(msg);
        if (listen.callId && msg.call_id === listen.callId) addListenNudge(msg);
        break;
      case "transcript":
        if (listen.view && msg.call_id === listen.callId) listen.view.upsert(msg);
        break;
      case "whisper_ack":
        onWhisperAck(msg);
        break;
      case "error":
        if (msg.about === "whisper" && msg.call_id === listen.callId) {
          whisperStatus(t("whisper.failed", { error: msg.error.replace(/^whisper: /, "") }), "error");
        }
        if (window.console) console.warn("heartline gateway:", msg.error);
        break;
      default:
        break;
    }
  }

  var stale = null; // after a reconnect: tiles not yet confirmed by the new snapshot
  var staleTimer = 0;

  function sweepStale() {
    clearTimeout(staleTimer);
    if (!stale) return;
    stale.forEach(function (id) {
      var tile = tiles.get(id);
      if (tile) {
        tile.el.remove();
        tiles.delete(id);
        dirty.delete(id);
      }
    });
    stale = null;
    orderDirty = true;
    schedule();
  }

  function onOpen(sock) {
    // The gateway sends every live call again, then a stats message. Tiles keep
    // their DOM nodes; those the new snapshot does not mention (their call ended
    // while we were away) are removed when the snapshot's stats arrives.
    stale = new Set(tiles.keys());
    clearTimeout(staleTimer);
    staleTimer = setTimeout(sweepStale, 5000);
    if (listen.callId) sock.send({ kind: "watch", call_id: listen.callId });
  }

  // ------------------------------------------------------------ events

  function tileFromEvent(ev) {
    var el = ev.target.closest ? ev.target.closest(".tile") : null;
    return el && el.dataset.callId;
  }
  tilesEl.addEventListener("click", function (ev) {
    openListen(tileFromEvent(ev));
  });
  tilesEl.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" || ev.key === " ") {
      var id = tileFromEvent(ev);
      if (id) {
        ev.preventDefault();
        openListen(id);
      }
    }
  });
  $("alerts").addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest(".alert") : null;
    if (el) openListen(el.dataset.callId);
  });
  $("listen-close").addEventListener("click", closeListen);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") closeListen();
  });

  // ------------------------------------------------------------ sign-in / out

  function showSignIn(message) {
    if (socket) socket.stop();
    closeListen();
    HL.showSignInChrome($("wall"), conn);
    HL.renderSignIn($("signin"), auth, startWall, message);
  }

  function startWall() {
    HL.showSignedInChrome($("wall"), conn, auth);
    HL.demoAccounts("agent").then(
      function (list) {
        list.forEach(function (a) {
          if (a.name) agentNames.set(a.id, a.name);
        });
        relabelTiles();
      },
      function () {
        /* production: agent ids only */
      }
    );
    socket = new HL.Socket("/ws/wall", function () {
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
  }

  $("signout").addEventListener("click", function () {
    auth.clear();
    showSignIn(null);
  });
  $("lang").addEventListener("click", function () {
    HL.i18n.toggle();
  });
  HL.i18n.onChange(function () {
    relabelTiles();
    if (listen.callId) {
      writeListenHead();
      if (listen.view) listen.view.relabel();
    }
  });

  HL.i18n.apply(document);
  setInterval(function () {
    clockDue = true;
    schedule();
  }, 1000);
  if (auth.token()) startWall();
  else showSignIn(null);
})();
