/* Heartline agent desktop: the agent's live calls, their transcript, and nudges.
 *
 * Consumes WS /ws/agent (docs/websocket.md): call, transcript, call_state, nudge, feedback_ack,
 * resumed, error. Sends feedback, resume (after every reconnect), ping (socket.js).
 *
 * Messages only change the state (calls, their queued transcript lines, their nudges) and mark
 * it; one render per animation frame (store.js) writes the DOM — tabs, the active call's head,
 * transcripts, cards — as the wall does for its tiles.
 *
 * What it keeps, per call, in sessionStorage (so a reload shows each nudge once and remembers
 * what the agent did with it): every nudge id seen, when it was first shown,
 * accepted/dismissed/expired, and whether the gateway acknowledged the feedback
 * (unacknowledged feedback is sent again after a reconnect).
 */
import { Auth, signInFlow } from "./auth.js";
import { sparkline, sparklineSvg } from "./charts.js";
import { $, copyText, h, setText, toast } from "./dom.js";
import { emotionLabel, fmtDuration, parseTs, segmentLabel } from "./format.js";
import { historyPanel } from "./history.js";
import { onChange, setUp, t } from "./i18n.js";
import { nudgeCard, setCardState, WHISPER } from "./nudgecard.js";
import { ConnBadge, pageSocket } from "./socket.js";
import { keys, load, save } from "./storage.js";
import { Store } from "./store.js";
import { transcriptBox } from "./transcript.js";

const params = new URLSearchParams(window.location.search);
const secondsParam = (name, fallbackMs) => (Number(params.get(name)) > 0 ? Number(params.get(name)) * 1000 : fallbackMs);
// How long an untouched card stays (?nudge_ttl=SECONDS overrides, e.g. for tests).
const NUDGE_TTL_MS = secondsParam("nudge_ttl", 90000);
const ACCEPTED_LINGER_MS = 15000; // an accepted card stays this long, marked used, then fades
const ENDED_KEEP_MS = secondsParam("ended_keep", 120000); // an ended call's tab stays this long
const FADE_MS = 600;
const STORE_PREFIX = "heartline.agent.v1.";
const STORE_MAX_AGE_MS = 12 * 3600 * 1000;
const CLOCK = "clock";

const auth = new Auth("agent");
const conn = new ConnBadge(document.querySelector("[data-testid=conn-status]"));
const sparkSvg = sparklineSvg(150, 34, "sentiment-line");
$("sentiment-slot").appendChild(sparkSvg);
const history = historyPanel($("history"), auth);
let socket = null;

// ------------------------------------------------------------ state

/**
 * calls: call_id -> {id, info (the call's CallState fields), firstSeen, endedAt, holdSince,
 *                    lines (transcript messages not drawn yet), nudges: nudge_id -> card record}
 * A card record: {d (the nudge), at (first shown), st (null | accepted | dismissed | expired),
 *                 dt (when decided), ack (feedback acknowledged), leaving, gone}
 */
const store = new Store({ calls: new Map(), activeId: null }, render);
const state = store.state;

function storeKey(callId) {
  return STORE_PREFIX + (auth.who().id || "anon") + "." + callId;
}

function ensureCall(callId) {
  let call = state.calls.get(callId);
  if (call) return call;
  call = { id: callId, info: { call_id: callId }, firstSeen: Date.now(), endedAt: null, holdSince: null,
    lines: [], nudges: new Map(), saveTimer: null };
  state.calls.set(callId, call);
  restoreNudges(call);
  const active = state.calls.get(state.activeId);
  if (!active || active.endedAt) state.activeId = callId;
  store.mark(callId);
  return call;
}

function mergeCall(call, msg) {
  const wasHold = !!call.info.on_hold;
  for (const [k, v] of Object.entries(msg)) if (k !== "kind") call.info[k] = v;
  if (call.info.on_hold && !wasHold) call.holdSince = Date.now();
  if (!call.info.on_hold) call.holdSince = null;
  if (call.info.ended_ts && !call.endedAt) {
    call.endedAt = Date.now();
    setTimeout(() => removeCall(call.id), ENDED_KEEP_MS);
  }
  store.mark(call.id);
}

function removeCall(callId) {
  const call = state.calls.get(callId);
  if (!call) return;
  state.calls.delete(callId);
  clearTimeout(call.saveTimer);
  if (call.endedAt) save("sessionStorage", storeKey(callId), null); // the gateway will not send it again
  if (state.activeId === callId) state.activeId = sortedCalls()[0]?.id ?? null;
  store.mark(callId);
}

const startedAt = (call) => parseTs(call.info.started_ts) || call.firstSeen;
const sortedCalls = () => Array.from(state.calls.values()).sort((a, b) => startedAt(b) - startedAt(a)); // newest first
const customerName = (call) => (call.info.customer || {}).name || t("call.customer.unknown");
const shown = (rec) => !rec.gone;
const openCount = (call) => Array.from(call.nudges.values()).filter((r) => shown(r) && !r.st).length;

// ------------------------------------------------------------ nudges

function saveStore(call) {
  if (call.saveTimer) return;
  call.saveTimer = setTimeout(() => {
    call.saveTimer = null;
    const n = {};
    call.nudges.forEach((rec, id) => {
      // Data only while the card can still be shown; afterwards the id and outcome suffice.
      n[id] = { at: rec.at, st: rec.st, ack: rec.ack, dt: rec.dt, d: rec.gone ? undefined : rec.d };
    });
    save("sessionStorage", storeKey(call.id), JSON.stringify({ t: Date.now(), n }));
  }, 150);
}

function restoreNudges(call) {
  let stored = {};
  try {
    stored = (JSON.parse(load("sessionStorage", storeKey(call.id)) || "{}") || {}).n || {};
  } catch (e) {
    stored = {};
  }
  const now = Date.now();
  Object.keys(stored).sort((a, b) => stored[a].at - stored[b].at).forEach((id) => {
    const s = stored[id];
    const rec = { d: s.d, at: s.at, st: s.st || null, ack: !!s.ack, dt: s.dt || null, leaving: false, gone: true };
    rec.gone = !(s.d && ((!rec.st && now - rec.at < NUDGE_TTL_MS) ||
      (rec.st === "accepted" && now - (rec.dt || 0) < ACCEPTED_LINGER_MS)));
    call.nudges.set(id, rec);
  });
}

function pruneStores() {
  const now = Date.now();
  for (const k of keys("sessionStorage", STORE_PREFIX)) {
    let s = {};
    try {
      s = JSON.parse(load("sessionStorage", k) || "{}") || {};
    } catch (e) {
      s = {};
    }
    if (!s.t || now - s.t > STORE_MAX_AGE_MS) save("sessionStorage", k, null);
  }
}

function addNudge(msg) {
  if (!msg.nudge_id || !msg.call_id || msg.audience === "supervisor") return; // wall alerts are not for the agent
  const call = ensureCall(msg.call_id);
  if (call.nudges.has(msg.nudge_id)) return; // never twice, even across reloads
  const d = {};
  for (const k of ["nudge_id", "call_id", "type", "priority", "title", "suggestion", "reason", "created_ts", "sender", "source"]) {
    d[k] = msg[k] === undefined ? null : msg[k];
  }
  call.nudges.set(msg.nudge_id, { d, at: Date.now(), st: null, ack: false, dt: null, leaving: false, gone: false });
  saveStore(call);
  store.mark(call.id);
}

function decide(call, id, action) {
  const rec = call.nudges.get(id);
  if (!rec || rec.st) return;
  rec.st = action;
  rec.dt = Date.now();
  rec.ack = false;
  if (socket) socket.send({ kind: "feedback", nudge_id: id, action });
  saveStore(call);
  if (action === "dismissed") leave(call, rec);
  store.mark(call.id);
}

/** Fade a card out, then forget it. */
function leave(call, rec) {
  if (rec.leaving || rec.gone) return;
  rec.leaving = true;
  store.mark(call.id);
  setTimeout(() => {
    rec.gone = true;
    saveStore(call);
    store.mark(call.id);
  }, FADE_MS);
}

/** Once a second: untouched cards expire, used ones fade after a while. */
function tick() {
  const now = Date.now();
  state.calls.forEach((call) => {
    call.nudges.forEach((rec) => {
      if (!shown(rec) || rec.leaving) return;
      if (!rec.st && now - rec.at >= NUDGE_TTL_MS) {
        rec.st = "expired";
        rec.dt = now;
        leave(call, rec);
      } else if (rec.st === "accepted" && now - (rec.dt || now) >= ACCEPTED_LINGER_MS) {
        leave(call, rec);
      }
    });
  });
  store.mark(CLOCK);
}

// ------------------------------------------------------------ render (once per frame)

const views = new Map(); // call_id -> {pane, view, list, tab, cards: nudge_id -> element}

function viewOf(call) {
  let v = views.get(call.id);
  if (v) return v;
  const pane = h("div", { class: "transcript-box", dataset: { callId: call.id }, hidden: true });
  const list = h("div", { class: "nudge-list", dataset: { callId: call.id }, hidden: true });
  const tab = h("button", {
    type: "button", role: "tab", class: "tab", "data-testid": "call-tab", dataset: { callId: call.id },
    onclick: () => {
      state.activeId = call.id;
      store.mark(call.id);
    },
  }, h("span", { class: "tab-name" }), h("span", { class: "tab-seg" }), h("span", { class: "tab-time mono" }),
  h("span", { class: "tab-count" }));
  v = { pane, list, tab, view: transcriptBox(pane, { dataset: { callId: call.id } }), cards: new Map() };
  $("transcripts").appendChild(pane);
  $("nudge-lists").appendChild(list);
  views.set(call.id, v);
  return v;
}

function renderCards(call, v) {
  call.nudges.forEach((rec, id) => {
    let el = v.cards.get(id);
    if (!shown(rec)) {
      if (el) el.remove();
      v.cards.delete(id);
      return;
    }
    if (!el) {
      el = nudgeCard(rec.d, {
        callId: call.id, testid: "nudge-card", shownAt: rec.at,
        onAccept: (suggestion) => {
          decide(call, id, "accepted");
          if (rec.d.type === WHISPER) return; // nothing to say to the customer: no copy
          copyText(rec.d.suggestion || "", suggestion).then((how) => toast(t(how === "copied" ? "nudge.copied" : "nudge.copy.manual")));
        },
        onDismiss: () => decide(call, id, "dismissed"),
      });
      v.cards.set(id, el);
      // Newest on top: cards stand in the order they were first seen.
      const before = Array.from(v.list.children).find((c) => (call.nudges.get(c.dataset.nudgeId) || {}).at <= rec.at);
      v.list.insertBefore(el, before || null);
    }
    setCardState(el, rec.st);
    if (rec.leaving) setCardState(el, "leaving");
  });
}

function renderTabs(order) {
  const tabs = $("tabs");
  tabs.hidden = order.length === 0;
  order.forEach((call, i) => {
    const tab = views.get(call.id).tab;
    if (tabs.children[i] !== tab) tabs.insertBefore(tab, tabs.children[i] || null);
    const active = call.id === state.activeId;
    tab.setAttribute("aria-selected", active ? "true" : "false");
    tab.classList.toggle("active", active);
    tab.classList.toggle("ended", !!call.endedAt);
    tab.classList.toggle("on-hold", !!call.info.on_hold);
    setText(tab.querySelector(".tab-name"), customerName(call));
    const seg = segmentLabel((call.info.customer || {}).segment);
    const segEl = tab.querySelector(".tab-seg");
    segEl.hidden = !seg;
    setText(segEl, seg || "");
    const count = active ? 0 : openCount(call);
    const countEl = tab.querySelector(".tab-count");
    countEl.hidden = count === 0;
    setText(countEl, count);
  });
}

function renderActive() {
  const call = state.calls.get(state.activeId) || null;
  views.forEach((v, id) => {
    const on = !!call && id === call.id;
    if (v.pane.hidden === on) {
      v.pane.hidden = !on;
      v.list.hidden = !on;
      if (on && v.view.stick) v.view.scrollToEnd();
    }
  });
  $("no-call").hidden = !!call;
  $("call-head").hidden = !call;
  if (!call) {
    $("nudges-empty").hidden = false;
    return;
  }
  const info = call.info;
  $("call-head").dataset.callId = call.id;
  setText($("customer-name"), customerName(call));
  const segment = (info.customer || {}).segment;
  const seg = segmentLabel(segment);
  $("segment").hidden = !seg;
  $("segment").dataset.segment = segment || "";
  setText($("segment"), seg || "");
  $("hold").hidden = !info.on_hold || !!call.endedAt;
  $("ended").hidden = !call.endedAt;
  const emotion = info.emotion || "neutral";
  $("emotion").dataset.emotion = emotion;
  setText($("emotion"), emotionLabel(emotion));
  sparkline(sparkSvg, info.sentiment_trend || []);
  sparkSvg.setAttribute("aria-label", t("call.sentiment"));
  $("nudges-empty").hidden = views.get(call.id).list.children.length > 0;
}

function renderClocks() {
  const now = Date.now();
  state.calls.forEach((call) => {
    const end = parseTs(call.info.ended_ts) || call.endedAt || now;
    const text = fmtDuration(Math.max(0, end - startedAt(call)));
    const v = views.get(call.id);
    if (v) setText(v.tab.querySelector(".tab-time"), text);
    if (call.id === state.activeId) {
      setText($("duration"), text);
      setText($("hold-time"), call.holdSince ? fmtDuration(now - call.holdSince) : "");
    }
  });
}

function render(st, changed) {
  if (changed.size > 1 || !changed.has(CLOCK)) {
    views.forEach((v, id) => {
      if (st.calls.has(id)) return;
      v.pane.remove();
      v.list.remove();
      v.tab.remove();
      views.delete(id);
    });
    st.calls.forEach((call) => {
      const v = viewOf(call);
      for (const msg of call.lines.splice(0)) v.view.upsert(msg);
      renderCards(call, v);
    });
    renderTabs(sortedCalls());
    renderActive();
  }
  renderClocks();
}

// ------------------------------------------------------------ socket

function onMessage(msg) {
  switch (msg.kind) {
    case "call":
      if (!msg.call_id) return;
      history.onCall(msg);
      mergeCall(ensureCall(msg.call_id), msg);
      break;
    case "call_state":
      if (msg.call_id) mergeCall(ensureCall(msg.call_id), msg);
      break;
    case "transcript":
      if (!msg.call_id) return;
      ensureCall(msg.call_id).lines.push(msg);
      store.mark(msg.call_id);
      break;
    case "nudge":
      addNudge(msg);
      break;
    case "feedback_ack":
      state.calls.forEach((call) => {
        const rec = call.nudges.get(msg.nudge_id);
        if (rec) {
          rec.ack = true;
          saveStore(call);
        }
      });
      break;
    case "error":
      if (msg.about === "feedback" && msg.nudge_id) {
        // The broker did not take it: still unacknowledged, so send it again (also after a reconnect).
        setTimeout(() => resendFeedback(msg.nudge_id), (msg.retry_after_s || 5) * 1000);
      } else if (window.console) console.warn("heartline gateway:", msg.error);
      break;
    default:
      break; // resumed, pong
  }
}

function resendFeedback(id) {
  state.calls.forEach((call) => {
    const rec = call.nudges.get(id);
    if (rec && (rec.st === "accepted" || rec.st === "dismissed") && !rec.ack && socket) {
      socket.send({ kind: "feedback", nudge_id: id, action: rec.st });
    }
  });
}

function onOpen(sock) {
  store.flush(); // every queued line drawn: afterSeq() is exact
  state.calls.forEach((call) => {
    if (call.endedAt) return;
    sock.send({ kind: "resume", call_id: call.id, after_seq: views.get(call.id).view.afterSeq(),
      seen_nudges: Array.from(call.nudges.keys()) });
    // Feedback the gateway never acknowledged (sent while the link was down): again.
    call.nudges.forEach((rec, id) => {
      if ((rec.st === "accepted" || rec.st === "dismissed") && !rec.ack) sock.send({ kind: "feedback", nudge_id: id, action: rec.st });
    });
  });
}

// ------------------------------------------------------------ start

const flow = signInFlow({
  auth, main: $("desk"), conn,
  stop: () => socket && socket.stop(),
  start: () => {
    Array.from(state.calls.keys()).forEach(removeCall); // a fresh desk for this sign-in
    socket = pageSocket("/ws/agent", auth, conn, (code) => flow.authFailed(code), { onOpen, onMessage });
    socket.start();
    store.mark(CLOCK, "tabs");
  },
});

setUp($("lang"));
onChange(() => {
  views.forEach((v) => v.view.relabel());
  history.relabel();
  store.mark("labels");
});
pruneStores();
setInterval(tick, 1000);
flow.run();
