/* Heartline supervisor wall: every live call as a tile, worst first, and escalations.
 *
 * Consumes WS /ws/wall (docs/websocket.md): call_state, nudge, stats, and for the watched call
 * transcript and nudge; whisper_ack. Sends watch / unwatch (listen-in), whisper (a supervisor's
 * hint to the watched call's agent), ping.
 *
 * Built for hundreds of live calls: messages only update the tiles' state and mark them
 * (store.js); one requestAnimationFrame pass writes the changed fields of the marked tiles
 * (DOM nodes are reused), and the order is re-sorted at most every SORT_EVERY_MS so tiles do
 * not jump on every update.
 */
import { Auth, demoAccounts, signInFlow } from "./auth.js";
import { sparkline, sparklineSvg } from "./charts.js";
import { $, clear, h, setText } from "./dom.js";
import { emotionLabel, fmtClock, fmtDuration, mood, parseTs, segmentLabel } from "./format.js";
import { onChange, setUp, t } from "./i18n.js";
import { nudgeCard } from "./nudgecard.js";
import { ConnBadge, pageSocket } from "./socket.js";
import { Store } from "./store.js";
import { transcriptBox } from "./transcript.js";

const SORT_EVERY_MS = 500;
// A tile moves only when its risk has changed by at least this much since it was last placed:
// with hundreds of calls drifting a little every second, an exact sort would shuffle most tiles
// twice a second, which is hard to watch and costs a relayout each time. Order is exact up to
// this margin.
const RISK_HYSTERESIS = 0.05;
const MAX_ALERTS = 200;
const RISK_HIGH = 0.6;
const CLOCK = "clock"; // marks besides call ids: the clocks are due, the order may have changed
const ORDER = "order";

const auth = new Auth("supervisor");
const conn = new ConnBadge(document.querySelector("[data-testid=conn-status]"));
const tilesEl = $("tiles");
const agentNames = new Map();
const alertIds = new Set();
let socket = null;

// tiles: call_id -> {s: CallState, el, top, parts, shown: {...}, sortRisk}
const store = new Store({ tiles: new Map(), lastSort: 0 }, render);
const tiles = store.state.tiles;
const removed = new Set(); // ended call ids (a late, coalesced update must not bring a tile back)
let sortTimer = 0;

// Counters for tests and tuning (window.HL.wallPerf): frame work and sort cost in ms.
const perf = { flushes: 0, flushMaxMs: 0, sorts: 0, sortMaxMs: 0, moved: 0, messages: 0 };
window.HL = Object.assign(window.HL || {}, { wallPerf: perf });

// ------------------------------------------------------------ tiles

function newTile(callId) {
  const parts = {
    customer: h("span", { class: "tile-customer" }),
    segment: h("span", { class: "badge badge-segment", hidden: true }),
    hold: h("span", { class: "badge badge-hold", "data-i18n": "call.hold", hidden: true }, t("call.hold")),
    escalated: h("span", { class: "badge badge-escalated", "data-testid": "badge-escalated", "data-i18n": "wall.escalated" }, t("wall.escalated")),
    agent: h("span", { class: "tile-agent" }),
    duration: h("span", { class: "tile-duration mono" }),
    spark: sparklineSvg(200, 30, "tile-sparkline"),
    emotion: h("span", { class: "emotion", "data-testid": "tile-emotion" }),
    nudges: h("span", { class: "tile-nudges" }),
    riskBar: h("span", { class: "risk-fill" }),
  };
  const top = h("div", { class: "tile-top" }, parts.customer, parts.segment, parts.hold);
  const el = h("div", {
    class: "tile", role: "button", tabindex: "0", "data-testid": "tile", dataset: { callId, risk: "0.00", mood: "neutral" },
  },
  top,
  h("div", { class: "tile-mid" }, parts.agent, parts.duration),
  parts.spark,
  h("div", { class: "tile-bottom" }, parts.emotion, parts.nudges,
    h("span", { class: "risk", "data-i18n-title": "wall.risk", title: t("wall.risk") }, parts.riskBar)));
  return { s: { call_id: callId }, el, top, parts, shown: {}, sortRisk: null };
}

function agentLabel(id) {
  if (!id) return "—";
  const name = agentNames.get(id);
  return name && name !== id ? name + " · " + id : id;
}

const startedAt = (s) => parseTs(s.started_ts) || 0;
const riskOf = (s) => (typeof s.risk === "number" ? s.risk : 0);

function writeTile(tile, now) {
  const { s, parts: p, shown } = tile;
  const c = s.customer || {};
  const risk = riskOf(s);
  const riskText = risk.toFixed(2);
  if (shown.risk !== riskText) {
    shown.risk = riskText;
    tile.el.dataset.risk = riskText;
    tile.el.classList.toggle("at-risk", risk >= RISK_HIGH);
    p.riskBar.style.width = Math.round(risk * 100) + "%";
  }
  const m = mood(s.sentiment);
  if (shown.mood !== m) {
    shown.mood = m;
    tile.el.dataset.mood = m;
  }
  setText(p.customer, c.name || t("call.customer.unknown"));
  const seg = segmentLabel(c.segment);
  p.segment.hidden = !seg;
  setText(p.segment, seg || "");
  p.hold.hidden = !s.on_hold;
  setText(p.agent, t("wall.agent") + " " + agentLabel(s.agent_id));
  const esc = !!s.escalated;
  if (shown.esc !== esc) {
    shown.esc = esc;
    if (esc) tile.top.appendChild(p.escalated);
    else p.escalated.remove();
  }
  sparkline(p.spark, s.sentiment_trend || []);
  const emotion = s.emotion || "neutral";
  p.emotion.dataset.emotion = emotion;
  setText(p.emotion, emotionLabel(emotion));
  setText(p.nudges, t("wall.nudges", { n: s.nudges_sent || 0 }));
  writeClock(tile, now);
}

function writeClock(tile, now) {
  const start = startedAt(tile.s);
  setText(tile.parts.duration, start ? fmtDuration(now - start) : "");
}

function compare(a, b) {
  if (b.sortRisk !== a.sortRisk) return b.sortRisk - a.sortRisk; // worst first
  const sa = startedAt(a.s);
  const sb = startedAt(b.s);
  if (sa !== sb) return sa - sb; // then the longest-running
  return a.s.call_id < b.s.call_id ? -1 : 1;
}

function render(st, changed) {
  const t0 = performance.now();
  const now = Date.now();
  changed.forEach((id) => {
    const tile = tiles.get(id);
    if (tile) writeTile(tile, now);
  });
  if (changed.has(CLOCK)) {
    tiles.forEach((tile) => writeClock(tile, now));
    if (listen.callId) writeListenHead();
  }
  if (changed.has(ORDER)) {
    const wait = SORT_EVERY_MS - (now - st.lastSort);
    if (wait <= 0) {
      st.lastSort = now;
      const t1 = performance.now();
      reorder();
      perf.sorts++;
      perf.sortMaxMs = Math.max(perf.sortMaxMs, performance.now() - t1);
    } else if (!sortTimer) {
      sortTimer = setTimeout(() => {
        sortTimer = 0;
        store.mark(ORDER);
      }, wait);
    }
  }
  perf.flushes++;
  perf.flushMaxMs = Math.max(perf.flushMaxMs, performance.now() - t0);
}

function reorder() {
  const order = Array.from(tiles.values()).sort(compare);
  // Move as few nodes as possible: tiles on the longest run already in the wanted relative
  // order stay put, the others are inserted around them.
  const pos = new Map(Array.from(tilesEl.children, (el, i) => [el, i]));
  const keep = stableIndexes(order.map((tile) => (pos.has(tile.el) ? pos.get(tile.el) : -1)));
  let ref = null;
  for (let i = order.length - 1; i >= 0; i--) {
    const el = order[i].el;
    if (!keep[i]) {
      tilesEl.insertBefore(el, ref);
      perf.moved++;
    }
    ref = el;
  }
  $("tiles-empty").hidden = tiles.size > 0;
  setText($("tile-count"), tiles.size ? String(tiles.size) : "");
}

/** Flags the members of one longest increasing subsequence of `seq` (O(n log n)). */
function stableIndexes(seq) {
  const tails = []; // tails[k] = index in seq of the smallest tail of a run of length k+1
  const prev = new Array(seq.length);
  for (let i = 0; i < seq.length; i++) {
    if (seq[i] < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    prev[i] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = i;
  }
  const keep = new Array(seq.length);
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) keep[k] = true;
  return keep;
}

function dropTile(id) {
  const tile = tiles.get(id);
  if (!tile) return;
  tile.el.remove();
  tiles.delete(id);
  store.mark(ORDER);
}

function onCallState(msg) {
  const id = msg.call_id;
  if (!id) return;
  if (stale) stale.delete(id);
  if (msg.ended_ts) {
    removed.add(id);
    if (removed.size > 5000) removed.delete(removed.values().next().value);
    dropTile(id);
    if (listen.callId === id) {
      Object.assign(listen.s, msg);
      writeListenHead();
    }
    return;
  }
  if (removed.has(id)) return;
  let tile = tiles.get(id);
  if (!tile) {
    tile = newTile(id);
    tiles.set(id, tile);
    tilesEl.appendChild(tile.el);
    store.mark(ORDER);
  }
  for (const [k, v] of Object.entries(msg)) if (k !== "kind") tile.s[k] = v;
  const risk = riskOf(tile.s);
  if (tile.sortRisk === null || Math.abs(risk - tile.sortRisk) >= RISK_HYSTERESIS) {
    tile.sortRisk = risk;
    store.mark(ORDER);
  }
  store.mark(id);
  if (listen.callId === id) {
    listen.s = tile.s;
    writeListenHead();
  }
}

function relabelTiles() {
  tiles.forEach((tile) => {
    tile.shown = {};
    setText(tile.parts.escalated, t("wall.escalated")); // outside the document while not escalated
    store.mark(tile.s.call_id);
  });
}

// ------------------------------------------------------------ stats

const num = (v) => (typeof v === "number" ? String(v) : "—");

function onStats(msg) {
  setText($("stat-live"), num(msg.live_calls));
  setText($("stat-risk"), num(msg.at_risk));
  setText($("stat-npm"), typeof msg.nudges_per_min === "number" ? msg.nudges_per_min.toFixed(1) : "—");
  setText($("stat-accept"), typeof msg.acceptance_rate === "number" ? Math.round(msg.acceptance_rate * 100) + "%" : "—");
  $("stat-risk").parentNode.classList.toggle("has-risk", msg.at_risk > 0);
}

// ------------------------------------------------------------ alerts

function callLabel(callId) {
  const tile = tiles.get(callId);
  const s = tile ? tile.s : listen.callId === callId ? listen.s : null;
  const c = (s && s.customer) || {};
  return (c.name || callId) + (s && s.agent_id ? " · " + agentLabel(s.agent_id) : "");
}

function addAlert(msg) {
  if (alertIds.has(msg.nudge_id)) return;
  alertIds.add(msg.nudge_id);
  const list = $("alerts");
  list.insertBefore(h("li", {}, h("button", {
    type: "button", class: "alert" + (msg.priority === "high" ? " prio-high" : ""), "data-testid": "alert",
    dataset: { nudgeId: msg.nudge_id, callId: msg.call_id },
  },
  h("span", { class: "alert-top" }, h("time", { class: "mono" }, fmtClock(msg.created_ts || Date.now())),
    h("span", { class: "alert-call" }, callLabel(msg.call_id))),
  h("span", { class: "alert-title" }, msg.title || msg.type || ""),
  msg.reason ? h("span", { class: "alert-reason" }, msg.reason) : null)), list.firstChild);
  while (list.children.length > MAX_ALERTS) {
    const last = list.lastElementChild;
    alertIds.delete(last.firstChild.dataset.nudgeId);
    last.remove();
  }
  $("alerts-empty").hidden = true;
}

// ------------------------------------------------------------ listen-in

const listen = { callId: null, s: {}, view: null, nudgeIds: new Set(), spark: sparklineSvg(140, 28, "listen-sparkline") };
$("listen-spark").appendChild(listen.spark);

function openListen(callId) {
  if (!callId || listen.callId === callId) return;
  if (listen.callId && socket) socket.send({ kind: "unwatch" });
  listen.callId = callId;
  const tile = tiles.get(callId);
  listen.s = tile ? tile.s : { call_id: callId };
  listen.nudgeIds = new Set();
  listen.view = transcriptBox($("listen-transcript"));
  clear($("listen-nudges"));
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
  const prev = tilesEl.querySelector(".tile.watched");
  if (prev) prev.classList.remove("watched");
  const tile = listen.callId && tiles.get(listen.callId);
  if (tile) tile.el.classList.add("watched");
}

function writeListenHead() {
  const s = listen.s || {};
  const c = s.customer || {};
  setText($("listen-customer"), c.name || s.call_id || "");
  const seg = segmentLabel(c.segment);
  $("listen-segment").hidden = !seg;
  setText($("listen-segment"), seg || "");
  $("listen-hold").hidden = !s.on_hold || !!s.ended_ts;
  $("listen-ended").hidden = !s.ended_ts;
  setText($("listen-agent"), t("wall.agent") + " " + agentLabel(s.agent_id));
  const start = startedAt(s);
  setText($("listen-duration"), start ? fmtDuration((parseTs(s.ended_ts) || Date.now()) - start) : "");
  const emotion = s.emotion || "neutral";
  $("listen-emotion").dataset.emotion = emotion;
  setText($("listen-emotion"), emotionLabel(emotion));
  sparkline(listen.spark, s.sentiment_trend || []);
}

function addListenNudge(msg) {
  if (listen.nudgeIds.has(msg.nudge_id)) return;
  listen.nudgeIds.add(msg.nudge_id);
  const list = $("listen-nudges");
  list.insertBefore(nudgeCard(msg, { compact: true, testid: "listen-nudge" }), list.firstChild);
  $("listen-nudges-empty").hidden = true;
}

// ------------------------------------------------------------ whisper (listen-in panel)

function whisperStatus(text, state) {
  const el = $("whisper-status");
  setText(el, text);
  if (state) el.dataset.state = state;
  else delete el.dataset.state;
}

$("whisper-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("whisper-text").value.trim();
  if (!text || !listen.callId) return;
  if (!socket || !socket.send({ kind: "whisper", call_id: listen.callId, text })) {
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
        whisperStatus(t("whisper.failed", { error: String(msg.error).replace(/^whisper: /, "") }), "error");
      }
      if (window.console) console.warn("heartline gateway:", msg.error);
      break;
    default:
      break;
  }
}

let stale = null; // after a reconnect: tiles not yet confirmed by the new snapshot
let staleTimer = 0;

function sweepStale() {
  clearTimeout(staleTimer);
  if (!stale) return;
  stale.forEach(dropTile);
  stale = null;
}

function onOpen(sock) {
  // The gateway sends every live call again, then a stats message. Tiles keep their DOM nodes;
  // those the new snapshot does not mention (their call ended while we were away) are removed
  // when the snapshot's stats arrives.
  stale = new Set(tiles.keys());
  clearTimeout(staleTimer);
  staleTimer = setTimeout(sweepStale, 5000);
  if (listen.callId) sock.send({ kind: "watch", call_id: listen.callId });
}

// ------------------------------------------------------------ events

const tileFromEvent = (ev) => {
  const el = ev.target.closest ? ev.target.closest(".tile") : null;
  return el && el.dataset.callId;
};
tilesEl.addEventListener("click", (ev) => openListen(tileFromEvent(ev)));
tilesEl.addEventListener("keydown", (ev) => {
  if (ev.key !== "Enter" && ev.key !== " ") return;
  const id = tileFromEvent(ev);
  if (id) {
    ev.preventDefault();
    openListen(id);
  }
});
$("alerts").addEventListener("click", (ev) => {
  const el = ev.target.closest ? ev.target.closest(".alert") : null;
  if (el) openListen(el.dataset.callId);
});
$("listen-close").addEventListener("click", closeListen);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closeListen();
});

// ------------------------------------------------------------ start

const flow = signInFlow({
  auth, main: $("wall"), conn,
  stop: () => {
    if (socket) socket.stop();
    closeListen();
  },
  start: () => {
    demoAccounts("agent").then((list) => {
      list.forEach((a) => a.name && agentNames.set(a.id, a.name));
      relabelTiles();
    }, () => {
      /* production: agent ids only */
    });
    socket = pageSocket("/ws/wall", auth, conn, (code) => flow.authFailed(code), { onOpen, onMessage });
    socket.start();
  },
});

setUp($("lang"));
onChange(() => {
  relabelTiles();
  if (listen.callId) {
    writeListenHead();
    if (listen.view) listen.view.relabel();
  }
});
setInterval(() => store.mark(CLOCK), 1000);
flow.run();
