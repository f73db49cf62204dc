/* The websocket with reconnect (exponential backoff, cap 10 s, jitter, a ping every 20 s, a
 * silent socket dropped after 45 s), and the calm connection badge in the top bar.
 *
 * The token travels as a subprotocol, ["heartline", "heartline.bearer.<JWT>"], never in the
 * URL (URLs end up in access logs). 4401 / 4403 closes are final: onAuthFailed, no reconnect.
 */
import { setText } from "./dom.js";
import { onChange, t } from "./i18n.js";

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 10000;
const PING_EVERY_MS = 20000;
const SILENCE_LIMIT_MS = 45000; // no message at all for this long: the socket is dead, reconnect

/**
 * One logical connection that outlives sockets. Handlers:
 *   onOpen(socket)        after every (re)connect: send resume/watch here
 *   onMessage(msg)        every JSON message with a kind (but pong)
 *   onAuthFailed(code)    4401 / 4403: the token is no good; no reconnect
 *   onStatus(state, info) "connecting" | "open" | "waiting" | "offline" | "stopped"
 */
export class Socket {
  constructor(path, getToken, handlers) {
    this.path = path;
    this.getToken = getToken;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
    this.stopped = true;
    this.note = null;
    window.addEventListener("online", () => {
      if (!this.stopped && !this.ws) this.connectNow();
    });
    window.addEventListener("offline", () => {
      if (!this.stopped && !this.ws) this.status("offline");
    });
  }

  status(state, info) {
    if (this.handlers.onStatus) this.handlers.onStatus(state, info || {});
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000, "bye");
      } catch (e) {
        /* ignore */
      }
    }
    this.status("stopped");
  }

  connectNow() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const token = this.getToken();
    if (!token || !/^[A-Za-z0-9._~-]+$/.test(token)) {
      // none, or not a JWT (a subprotocol cannot carry it): back to sign-in
      if (this.handlers.onAuthFailed) this.handlers.onAuthFailed(4401);
      return;
    }
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = scheme + "//" + window.location.host + this.path;
    let ws;
    this.status("connecting");
    try {
      ws = new WebSocket(url, ["heartline", "heartline.bearer." + token]);
    } catch (e) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      this.note = null;
      this.status("open");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (this.ws !== ws) return;
        if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS) {
          // Half-open socket (laptop slept, NAT dropped us): start over.
          try {
            ws.close(4000, "silent");
          } catch (e) {
            /* ignore */
          }
          this.onClosed(ws, 4000);
          return;
        }
        this.send({ kind: "ping", t: Date.now() });
      }, PING_EVERY_MS);
      if (this.handlers.onOpen) this.handlers.onOpen(this);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      this.attempt = 0; // a connection that delivers is a good one: the next drop starts from a short wait
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!msg || typeof msg !== "object" || !msg.kind || msg.kind === "pong") return;
      this.handlers.onMessage(msg);
    };
    ws.onclose = (ev) => this.onClosed(ws, ev.code);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  onClosed(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    if (code === 4401 || code === 4403) {
      this.stopped = true;
      this.status("stopped");
      if (this.handlers.onAuthFailed) this.handlers.onAuthFailed(code);
      return;
    }
    this.note = code === 1008 ? "conn.origin" : code === 4408 ? "conn.slow" : null;
    if (code === 4408 && this.attempt > 1) this.attempt = 1; // we fell behind: come back soon, then resume
    this.schedule();
  }

  schedule() {
    if (this.stopped) return;
    if (navigator.onLine === false) this.status("offline"); // still try now and then: onLine is not always right
    const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * Math.pow(2, this.attempt));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
    this.attempt++;
    this.status("waiting", { until: Date.now() + delay, note: this.note });
    this.timer = setTimeout(() => this.connectNow(), delay);
  }

  /** Send one message now; false when the socket is not open. */
  send(obj) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }
}

/** The connection indicator: `el` holds a .conn-text label; data-state drives its colour. */
export class ConnBadge {
  constructor(el) {
    this.el = el;
    this.state = "connecting";
    this.info = {};
    this.timer = null;
    onChange(() => this.render());
    this.render();
  }

  set(state, info) {
    this.state = state;
    this.info = info || {};
    clearInterval(this.timer);
    if (state === "waiting") this.timer = setInterval(() => this.render(), 1000);
    this.render();
  }

  render() {
    const s = this.state;
    let text = t("conn.connecting");
    let shown = s;
    if (s === "open") text = t("conn.open");
    else if (s === "offline") text = t("conn.offline");
    else if (s === "stopped") text = "";
    else if (s === "waiting") {
      const left = Math.ceil(((this.info.until || 0) - Date.now()) / 1000);
      text = this.info.note ? t(this.info.note) : left > 0 ? t("conn.retry", { s: left }) : t("conn.retrying");
      shown = "reconnecting";
    }
    this.el.dataset.state = shown;
    const label = this.el.querySelector(".conn-text");
    if (label) setText(label, text);
    this.el.title = text;
  }
}

/** A Socket whose status drives `badge` and whose 4401/4403 goes to `authFailed`. */
export function pageSocket(path, auth, badge, authFailed, handlers) {
  return new Socket(path, () => auth.token(), {
    onStatus: (state, info) => badge.set(state, info),
    onAuthFailed: authFailed,
    ...handlers,
  });
}
