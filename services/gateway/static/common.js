/* Heartline pages: what the agent desktop and the supervisor wall share.
 *
 *   HL.h(...)              build DOM; every string becomes a text node (no innerHTML with data)
 *   HL.auth                the token the sign-in form saved (localStorage); the demo picker; sign-out
 *   HL.Socket              the websocket with reconnect (exponential backoff, cap 10 s, jitter)
 *   HL.ConnBadge           the calm connection indicator
 *   HL.TranscriptView      live transcript: partials replaced in place by finals, sticky scroll
 *   HL.sparkline(...)      small SVG line of sentiment_trend (0..1)
 *   HL.copyText(...)       clipboard with a fallback for insecure contexts
 */
(function () {
  "use strict";
  var HL = (window.HL = window.HL || {});
  var SVG_NS = "http://www.w3.org/2000/svg";

  var RECONNECT_BASE_MS = 500;
  var RECONNECT_CAP_MS = 10000;
  var PING_EVERY_MS = 20000;
  var SILENCE_LIMIT_MS = 45000; // no message at all for this long: the socket is dead, reconnect

  // ---------------------------------------------------------------- DOM helpers

  /** h("div", {class: "x", dataset: {seq: 3}, onclick: fn}, "text", child, ...) */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "dataset") {
          for (var d in v) if (v[d] !== null && v[d] !== undefined) el.dataset[d] = String(v[d]);
        } else if (k === "text") el.textContent = String(v);
        else if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      for (var i = 0; i < child.length; i++) append(el, child[i]);
    } else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }

  function setText(el, text) {
    text = text === null || text === undefined ? "" : String(text);
    if (el.textContent !== text) el.textContent = text;
  }

  // ---------------------------------------------------------------- formatting

  function parseTs(ts) {
    if (!ts) return null;
    var n = Date.parse(ts);
    return isNaN(n) ? null : n;
  }

  function fmtDuration(ms) {
    if (!(ms > 0)) ms = 0;
    var s = Math.floor(ms / 1000);
    var hh = Math.floor(s / 3600);
    var mm = Math.floor((s % 3600) / 60);
    var ss = s % 60;
    var two = function (n) {
      return n < 10 ? "0" + n : String(n);
    };
    return hh > 0 ? hh + ":" + two(mm) + ":" + two(ss) : mm + ":" + two(ss);
  }

  function fmtClock(ts) {
    var n = typeof ts === "number" ? ts : parseTs(ts);
    if (n === null) return "";
    var d = new Date(n);
    var two = function (x) {
      return x < 10 ? "0" + x : String(x);
    };
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  var EMOTIONS = ["anger", "anxiety", "confusion", "sadness", "satisfaction", "neutral"];

  function emotionLabel(emotion) {
    return HL.t("emotion." + (EMOTIONS.indexOf(emotion) >= 0 ? emotion : "neutral"));
  }

  /** The customer segment as a badge label, or null for an ordinary customer. */
  function segmentLabel(segment) {
    if (!segment) return null;
    var key = "segment." + String(segment).toLowerCase();
    var label = HL.t(key);
    if (label !== key) return label;
    if (/^(standard|normal|regular|default)$/i.test(segment)) return null;
    return String(segment);
  }

  /** Mood bucket for colour: good | neutral | low | bad (sentiment 0..1, 1 = positive). */
  function mood(sentiment) {
    if (typeof sentiment !== "number" || isNaN(sentiment)) return "neutral";
    if (sentiment >= 0.6) return "good";
    if (sentiment >= 0.4) return "neutral";
    if (sentiment >= 0.25) return "low";
    return "bad";
  }

  /**
   * Put redacted text into `el`: placeholders such as [身份证号] become chips.
   * Everything goes in as text nodes.
   */
  var REDACTION = /\[[^\[\]\s]{1,16}\]/g;
  function renderRedacted(el, text) {
    text = text === null || text === undefined ? "" : String(text);
    if (el._hlText === text) return;
    el._hlText = text;
    while (el.firstChild) el.removeChild(el.firstChild);
    var last = 0;
    var m;
    REDACTION.lastIndex = 0;
    while ((m = REDACTION.exec(text)) !== null) {
      if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
      el.appendChild(h("span", { class: "pii", title: m[0] }, m[0].slice(1, -1)));
      last = m.index + m[0].length;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------- sparkline

  /** An <svg> whose line is updated by HL.sparkline(svg, values). */
  function sparklineSvg(width, height, testid) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("class", "spark");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    if (testid) svg.setAttribute("data-testid", testid);
    var mid = document.createElementNS(SVG_NS, "line");
    mid.setAttribute("x1", 0);
    mid.setAttribute("x2", width);
    mid.setAttribute("y1", height / 2);
    mid.setAttribute("y2", height / 2);
    mid.setAttribute("class", "spark-mid");
    var line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("class", "spark-line");
    line.setAttribute("fill", "none");
    var dot = document.createElementNS(SVG_NS, "circle");
    dot.setAttribute("r", 2.5);
    dot.setAttribute("class", "spark-dot");
    dot.setAttribute("visibility", "hidden");
    svg.appendChild(mid);
    svg.appendChild(line);
    svg.appendChild(dot);
    svg._hl = { w: width, h: height, line: line, dot: dot, key: "" };
    return svg;
  }

  function sparkline(svg, values) {
    var s = svg._hl;
    values = Array.isArray(values) ? values.filter(function (v) { return typeof v === "number" && !isNaN(v); }) : [];
    var key = values.join(",");
    if (key === s.key) return;
    s.key = key;
    svg.setAttribute("data-points", values.length);
    if (values.length === 0) {
      s.line.setAttribute("points", "");
      s.dot.setAttribute("visibility", "hidden");
      return;
    }
    var pad = 3;
    var n = values.length;
    var step = n > 1 ? (s.w - 2 * pad) / (n - 1) : 0;
    var pts = [];
    var x = 0;
    var y = 0;
    for (var i = 0; i < n; i++) {
      var v = Math.max(0, Math.min(1, values[i]));
      x = n > 1 ? pad + i * step : s.w - pad;
      y = pad + (1 - v) * (s.h - 2 * pad);
      pts.push(x.toFixed(1) + "," + y.toFixed(1));
    }
    s.line.setAttribute("points", pts.join(" "));
    s.dot.setAttribute("cx", x.toFixed(1));
    s.dot.setAttribute("cy", y.toFixed(1));
    s.dot.setAttribute("visibility", "visible");
    svg.setAttribute("data-mood", mood(values[n - 1]));
  }

  // ---------------------------------------------------------------- clipboard

  /** Resolves "copied" or "manual" (then `selectEl`'s text is selected for Ctrl+C). */
  function copyText(text, selectEl) {
    function legacy() {
      var ok = false;
      var ta = h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
      ta.value = text;
      document.body.appendChild(ta);
      try {
        ta.select();
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(ta);
      if (ok) return "copied";
      if (selectEl) {
        var range = document.createRange();
        range.selectNodeContents(selectEl);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      return "manual";
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return "copied";
        },
        function () {
          return legacy();
        }
      );
    }
    return Promise.resolve(legacy());
  }

  var toastTimer = null;
  function toast(message) {
    var el = document.getElementById("toast");
    if (!el) {
      el = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
      document.body.appendChild(el);
    }
    el.textContent = message;
    el.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      el.classList.remove("show");
    }, 2600);
  }

  // ---------------------------------------------------------------- auth

  function b64urlJson(part) {
    try {
      var s = part.replace(/-/g, "+").replace(/_/g, "/");
      while (s.length % 4) s += "=";
      var bin = atob(s);
      var bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return null;
    }
  }

  /** The JWT's claims, for display only (the gateway verifies the token). */
  function claims(token) {
    var parts = String(token || "").split(".");
    return parts.length === 3 ? b64urlJson(parts[1]) || {} : {};
  }

  function storageGet(store, key) {
    try {
      return window[store].getItem(key);
    } catch (e) {
      return null;
    }
  }
  function storageSet(store, key, value) {
    try {
      if (value === null) window[store].removeItem(key);
      else window[store].setItem(key, value);
    } catch (e) {
      /* storage full or blocked: the page still works, it only forgets */
    }
  }

  /**
   * role: "agent" | "supervisor". Keeps the token in localStorage under
   * heartline.token.<role>, saved only by the sign-in form (or the demo picker).
   * A ?token= in the address is never used: a crafted link would sign this desk
   * in as someone else. It is dropped from the address bar unread.
   */
  function Auth(role) {
    this.role = role;
    this.key = "heartline.token." + role;
    this.nameKey = "heartline.name." + role;
    var url = new URL(window.location.href);
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      try {
        window.history.replaceState(null, "", url.pathname + url.search + url.hash);
      } catch (e) {
        /* ignore */
      }
    }
  }
  Auth.prototype.token = function () {
    return storageGet("localStorage", this.key);
  };
  Auth.prototype.who = function () {
    var token = this.token();
    var c = claims(token);
    return { id: c.sub || "", name: storageGet("localStorage", this.nameKey) || c.name || c.sub || "" };
  };
  Auth.prototype.save = function (token, name) {
    storageSet("localStorage", this.key, token);
    storageSet("localStorage", this.nameKey, name || null);
  };
  Auth.prototype.clear = function () {
    storageSet("localStorage", this.key, null);
    storageSet("localStorage", this.nameKey, null);
  };

  /** The demo accounts of this role (GET /api/demo/agents), or [] outside local mode. */
  function demoAccounts(role) {
    return fetch("/api/demo/agents", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (list) {
        if (list && !Array.isArray(list)) list = list.agents || list.items || [];
        return (list || []).filter(function (a) {
          return a && a.id && (!a.role || a.role === role);
        });
      });
  }

  function mintToken(sub, role) {
    return fetch("/api/token", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ sub: sub, role: role }),
    })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        var type = r.headers.get("content-type") || "";
        return type.indexOf("json") >= 0 ? r.json() : r.text();
      })
      .then(function (body) {
        var token = typeof body === "string" ? body.trim() : body && (body.token || body.access_token || body.jwt);
        if (!token) throw new Error("no token in answer");
        return String(token);
      });
  }

  /**
   * Fill `root` with the sign-in card. onSignedIn() is called once a token is saved.
   * message: an i18n key to show (e.g. after a 4401 close).
   */
  function renderSignIn(root, auth, onSignedIn, message) {
    var role = auth.role;
    var status = h("p", { class: "signin-msg", role: "alert" });
    if (message) status.textContent = HL.t(message);
    var list = h("div", { class: "picker", "data-testid": "agent-picker", role: "list" },
      h("p", { class: "muted", "data-i18n": "signin.loading" }, HL.t("signin.loading")));
    var input = h("input", {
      type: "text",
      class: "token-input",
      "data-testid": "token-input",
      autocomplete: "off",
      spellcheck: "false",
      "data-i18n-placeholder": "signin.token.placeholder",
      placeholder: HL.t("signin.token.placeholder"),
    });
    function useToken(token, name) {
      auth.save(token, name);
      onSignedIn();
    }
    var form = h(
      "form",
      {
        class: "token-form",
        onsubmit: function (ev) {
          ev.preventDefault();
          var v = input.value.trim();
          if (!v) {
            status.textContent = HL.t("signin.empty");
            return;
          }
          useToken(v, null);
        },
      },
      input,
      h("button", { type: "submit", class: "btn btn-primary", "data-testid": "btn-token-signin", "data-i18n": "signin.submit" }, HL.t("signin.submit"))
    );
    var card = h(
      "section",
      { class: "signin-card", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title", "data-i18n": "signin.title." + role }, HL.t("signin.title." + role)),
      status,
      h("h2", { "data-i18n": "signin.pick." + role }, HL.t("signin.pick." + role)),
      list,
      h("div", { class: "or", "data-i18n": "signin.or" }, HL.t("signin.or")),
      form
    );
    while (root.firstChild) root.removeChild(root.firstChild);
    root.appendChild(card);

    demoAccounts(role)
      .then(function (accounts) {
        while (list.firstChild) list.removeChild(list.firstChild);
        if (!accounts.length) {
          list.appendChild(h("p", { class: "muted", "data-i18n": "signin.none" }, HL.t("signin.none")));
          return;
        }
        accounts.forEach(function (a) {
          list.appendChild(
            h(
              "button",
              {
                type: "button",
                class: "pick",
                role: "listitem",
                "data-testid": "agent-option",
                dataset: { id: a.id },
                onclick: function () {
                  status.textContent = "";
                  mintToken(a.id, role).then(
                    function (token) {
                      useToken(token, a.name || a.id);
                    },
                    function () {
                      status.textContent = HL.t("signin.failed");
                    }
                  );
                },
              },
              h("span", { class: "pick-name" }, a.name || a.id),
              h("span", { class: "pick-id" }, a.id)
            )
          );
        });
      })
      .catch(function () {
        while (list.firstChild) list.removeChild(list.firstChild);
        list.appendChild(h("p", { class: "muted", "data-i18n": "signin.none" }, HL.t("signin.none")));
      });
  }

  // ---------------------------------------------------------------- websocket

  /**
   * One logical connection that outlives sockets. Callbacks:
   *   onOpen(socket)        after every (re)connect: send resume/watch here
   *   onMessage(msg)        every JSON message with a kind
   *   onAuthFailed(code)    4401 / 4403: the token is no good; no reconnect
   *   onStatus(state, info) "connecting" | "open" | "waiting" | "offline" | "stopped"
   */
  function Socket(path, getToken, handlers) {
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
    var self = this;
    window.addEventListener("online", function () {
      if (!self.stopped && !self.ws) self.connectNow();
    });
    window.addEventListener("offline", function () {
      if (!self.stopped && !self.ws) self.status("offline");
    });
  }

  Socket.prototype.status = function (state, info) {
    if (this.handlers.onStatus) this.handlers.onStatus(state, info || {});
  };

  Socket.prototype.start = function () {
    this.stopped = false;
    this.attempt = 0;
    this.connectNow();
  };

  Socket.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      var ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000, "bye");
      } catch (e) {
        /* ignore */
      }
    }
    this.status("stopped");
  };

  Socket.prototype.connectNow = function () {
    clearTimeout(this.timer);
    if (this.stopped) return;
    var token = this.getToken();
    if (!token || !/^[A-Za-z0-9._~-]+$/.test(token)) {
      // none, or not a JWT (a subprotocol cannot carry it): back to sign-in
      if (this.handlers.onAuthFailed) this.handlers.onAuthFailed(4401);
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    // The token travels as a subprotocol, not in the URL: URLs end up in access logs.
    var url = scheme + "//" + window.location.host + this.path;
    var self = this;
    var ws;
    this.status("connecting");
    try {
      ws = new WebSocket(url, ["heartline", "heartline.bearer." + token]);
    } catch (e) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      self.lastMessageAt = Date.now();
      self.note = null;
      self.status("open");
      clearInterval(self.pingTimer);
      self.pingTimer = setInterval(function () {
        if (self.ws !== ws) return;
        if (Date.now() - self.lastMessageAt > SILENCE_LIMIT_MS) {
          // Half-open socket (laptop slept, NAT dropped us): start over.
          try {
            ws.close(4000, "silent");
          } catch (e) {
            /* ignore */
          }
          self.onClosed(ws, 4000);
          return;
        }
        self.send({ kind: "ping", t: Date.now() });
      }, PING_EVERY_MS);
      if (self.handlers.onOpen) self.handlers.onOpen(self);
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      self.lastMessageAt = Date.now();
      // A connection that delivers is a good one: the next drop starts from a short wait.
      self.attempt = 0;
      var msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!msg || typeof msg !== "object" || !msg.kind) return;
      if (msg.kind === "pong") return;
      self.handlers.onMessage(msg);
    };
    ws.onclose = function (ev) {
      self.onClosed(ws, ev.code);
    };
    ws.onerror = function () {
      /* onclose follows */
    };
  };

  Socket.prototype.onClosed = function (ws, code) {
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
    if (code === 1008) this.note = "conn.origin";
    else if (code === 4408) this.note = "conn.slow";
    else this.note = null;
    if (code === 4408 && this.attempt > 1) this.attempt = 1; // we fell behind: come back soon, then resume
    this.schedule();
  };

  Socket.prototype.schedule = function () {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.status("offline");
      // Still try now and then: navigator.onLine is not always right.
    }
    var ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * Math.pow(2, this.attempt));
    var delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
    this.attempt++;
    var self = this;
    var until = Date.now() + delay;
    this.status("waiting", { until: until, note: this.note });
    this.timer = setTimeout(function () {
      self.connectNow();
    }, delay);
  };

  Socket.prototype.send = function (obj) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  };

  Socket.prototype.isOpen = function () {
    return !!(this.ws && this.ws.readyState === 1);
  };

  // ---------------------------------------------------------------- connection badge

  function ConnBadge(el) {
    this.el = el;
    this.state = "connecting";
    this.info = {};
    this.timer = null;
    var self = this;
    HL.i18n.onChange(function () {
      self.render();
    });
    this.render();
  }
  ConnBadge.prototype.set = function (state, info) {
    this.state = state;
    this.info = info || {};
    clearInterval(this.timer);
    if (state === "waiting") {
      var self = this;
      this.timer = setInterval(function () {
        self.render();
      }, 1000);
    }
    this.render();
  };
  ConnBadge.prototype.render = function () {
    var s = this.state;
    var text;
    var shown = s;
    if (s === "open") text = HL.t("conn.open");
    else if (s === "offline") text = HL.t("conn.offline");
    else if (s === "waiting") {
      var left = Math.ceil(((this.info.until || 0) - Date.now()) / 1000);
      if (this.info.note) text = HL.t(this.info.note);
      else text = left > 0 ? HL.t("conn.retry", { s: left }) : HL.t("conn.retrying");
      shown = "reconnecting";
    } else if (s === "stopped") {
      text = "";
    } else text = HL.t("conn.connecting");
    this.el.dataset.state = shown;
    var label = this.el.querySelector(".conn-text");
    if (label) setText(label, text);
    this.el.title = text;
  };

  // ---------------------------------------------------------------- transcript

  /**
   * A live transcript in `scroller`. Lines are keyed by seq+speaker (one view
   * per call, so the call is implied). A final replaces the partial of the same
   * key in place; a late partial never overwrites a final. Lines are kept in
   * seq order. Auto-scroll follows the newest line unless the reader has
   * scrolled up; then a "back to latest" button appears.
   */
  function TranscriptView(scroller, jumpButton) {
    this.scroller = scroller;
    this.list = h("ol", { class: "lines" });
    this.empty = h("p", { class: "empty muted", "data-i18n": "transcript.empty" }, HL.t("transcript.empty"));
    scroller.appendChild(this.empty);
    scroller.appendChild(this.list);
    this.lines = new Map(); // key -> {el, seq, speaker, final}
    this.maxFinalSeq = -1;
    this.stick = true;
    this.unseen = 0;
    this.jump = jumpButton;
    var self = this;
    scroller.addEventListener("scroll", function () {
      var near = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
      if (near !== self.stick) {
        self.stick = near;
        if (near) self.unseen = 0;
        self.renderJump();
      }
    }, { passive: true });
    if (jumpButton) {
      jumpButton.addEventListener("click", function () {
        self.stick = true;
        self.unseen = 0;
        self.scrollToEnd();
        self.renderJump();
      });
    }
    this.renderJump();
  }

  TranscriptView.prototype.renderJump = function () {
    if (!this.jump) return;
    this.jump.hidden = this.stick;
    setText(this.jump, this.unseen > 0 ? HL.t("transcript.latest.n", { n: this.unseen }) : HL.t("transcript.latest"));
  };

  TranscriptView.prototype.scrollToEnd = function () {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  };

  /** Highest seq such that no earlier line we know of is still a partial. */
  TranscriptView.prototype.afterSeq = function () {
    var after = this.maxFinalSeq;
    this.lines.forEach(function (line) {
      if (!line.final && line.seq <= after) after = Math.min(after, line.seq - 1);
    });
    return after;
  };

  TranscriptView.prototype.upsert = function (msg) {
    if (typeof msg.seq !== "number" || (msg.speaker !== "agent" && msg.speaker !== "customer")) return;
    var isFinal = msg.is_final !== false;
    var key = msg.seq + "|" + msg.speaker;
    var line = this.lines.get(key);
    if (line && line.final && !isFinal) return; // a late partial never overwrites a final
    if (!line) {
      line = this.makeLine(msg);
      this.lines.set(key, line);
      this.insertOrdered(line);
      if (!this.stick) this.unseen++;
    }
    line.final = isFinal;
    line.el.dataset.final = isFinal ? "true" : "false";
    line.el.classList.toggle("partial", !isFinal);
    renderRedacted(line.text, msg.text);
    var showEmotion = isFinal && msg.speaker === "customer" && msg.emotion && msg.emotion !== "neutral" && (msg.emotion_score || 0) >= 0.5;
    line.emo.hidden = !showEmotion;
    line.emo.dataset.emotion = showEmotion ? msg.emotion : "";
    line.emotion = msg.emotion;
    setText(line.emo, showEmotion ? emotionLabel(msg.emotion) : "");
    if (isFinal && msg.seq > this.maxFinalSeq) this.maxFinalSeq = msg.seq;
    this.empty.hidden = true;
    if (this.stick) this.scrollToEnd();
    this.renderJump();
  };

  TranscriptView.prototype.makeLine = function (msg) {
    var who = msg.speaker;
    var label = h("span", { class: "who", "data-i18n": "speaker." + who }, HL.t("speaker." + who));
    var at = h("span", { class: "at" }, msg.start_ms ? fmtDuration(msg.start_ms) : "");
    var emo = h("span", { class: "emo", hidden: true });
    var text = h("div", { class: "text" });
    var el = h(
      "li",
      {
        class: "line " + who,
        "data-testid": "transcript-line",
        dataset: { seq: msg.seq, speaker: who, final: msg.is_final !== false ? "true" : "false" },
      },
      h("div", { class: "meta" }, label, at, emo),
      text
    );
    return { el: el, text: text, emo: emo, seq: msg.seq, speaker: who, final: false };
  };

  TranscriptView.prototype.insertOrdered = function (line) {
    // Usually the newest: compare with the tail first, walk back only when out of order.
    var node = this.list.lastElementChild;
    while (node && Number(node.dataset.seq) > line.seq) node = node.previousElementSibling;
    if (node && Number(node.dataset.seq) === line.seq && node.dataset.speaker === "agent" && line.speaker === "customer") {
      node = node.previousElementSibling; // same seq: customer before agent
    }
    this.list.insertBefore(line.el, node ? node.nextElementSibling : this.list.firstElementChild);
  };

  TranscriptView.prototype.relabel = function () {
    this.lines.forEach(function (line) {
      if (!line.emo.hidden) setText(line.emo, emotionLabel(line.emotion));
    });
    this.renderJump();
  };

  HL.h = h;
  HL.setText = setText;
  HL.parseTs = parseTs;
  HL.fmtDuration = fmtDuration;
  HL.fmtClock = fmtClock;
  HL.emotionLabel = emotionLabel;
  HL.segmentLabel = segmentLabel;
  HL.mood = mood;
  HL.renderRedacted = renderRedacted;
  HL.sparklineSvg = sparklineSvg;
  HL.sparkline = sparkline;
  HL.copyText = copyText;
  HL.toast = toast;
  HL.claims = claims;
  HL.Auth = Auth;
  HL.renderSignIn = renderSignIn;

  // The page chrome around sign-in, shared by the desk and the wall: `main` is
  // the page's own section, `conn` its connection indicator.
  function showSignInChrome(main, conn) {
    main.hidden = true;
    document.getElementById("signin").hidden = false;
    document.getElementById("signout").hidden = true;
    document.getElementById("who").hidden = true;
    conn.el.hidden = true;
  }

  function showSignedInChrome(main, conn, auth) {
    document.getElementById("signin").hidden = true;
    main.hidden = false;
    document.getElementById("signout").hidden = false;
    conn.el.hidden = false;
    var who = auth.who();
    var el = document.getElementById("who");
    el.hidden = !who.name;
    setText(el, who.name && who.id && who.name !== who.id ? who.name + " · " + who.id : who.name);
  }

  HL.showSignInChrome = showSignInChrome;
  HL.showSignedInChrome = showSignedInChrome;
  HL.demoAccounts = demoAccounts;
  HL.Socket = Socket;
  HL.ConnBadge = ConnBadge;
  HL.TranscriptView = TranscriptView;
  HL.storageGet = storageGet;
  HL.storageSet = storageSet;
})();
