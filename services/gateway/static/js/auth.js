/* Signing in: the token the sign-in form saved, the form itself, and the page chrome around it.
 *
 * A page signs in only through the form (a pasted token, or a demo account in local mode):
 * the token is kept in localStorage under heartline.token.<role>. A ?token= in the address is
 * never used — a crafted link would sign this desk in as someone else — and is dropped from
 * the address bar unread. Sockets send the token as a subprotocol (socket.js), HTTP calls
 * as a Bearer header (api below); it never appears in a URL.
 */
import { $, clear, h, setText } from "./dom.js";
import { t } from "./i18n.js";
import { load, save } from "./storage.js";

function b64urlJson(part) {
  try {
    let s = part.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return null;
  }
}

/** The JWT's claims, for display only (the gateway verifies the token). */
export function claims(token) {
  const parts = String(token || "").split(".");
  return parts.length === 3 ? b64urlJson(parts[1]) || {} : {};
}

/** role: "agent" | "supervisor". */
export class Auth {
  constructor(role) {
    this.role = role;
    this.key = "heartline.token." + role;
    this.nameKey = "heartline.name." + role;
    const url = new URL(window.location.href);
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      try {
        window.history.replaceState(null, "", url.pathname + url.search + url.hash);
      } catch (e) {
        /* ignore */
      }
    }
  }

  token() {
    return load("localStorage", this.key);
  }

  who() {
    const c = claims(this.token());
    return { id: c.sub || "", name: load("localStorage", this.nameKey) || c.name || c.sub || "" };
  }

  save(token, name) {
    save("localStorage", this.key, token);
    save("localStorage", this.nameKey, name || null);
  }

  clear() {
    save("localStorage", this.key, null);
    save("localStorage", this.nameKey, null);
  }
}

/** GET `path` with the token as a Bearer header (the Response; the caller reads its status). */
export function api(auth, path) {
  return fetch(path, {
    headers: { Authorization: "Bearer " + auth.token(), Accept: "application/json" },
    cache: "no-store",
  });
}

/** The demo accounts of this role (GET /api/demo/agents), or [] outside local mode. */
export function demoAccounts(role) {
  return fetch("/api/demo/agents", { headers: { Accept: "application/json" }, cache: "no-store" })
    .then((r) => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then((list) => (Array.isArray(list) ? list : []).filter((a) => a && a.id && (!a.role || a.role === role)));
}

function mintToken(sub, role) {
  return fetch("/api/token", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ sub, role }),
  })
    .then((r) => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then((body) => {
      if (!body || !body.token) throw new Error("no token in answer");
      return String(body.token);
    });
}

/**
 * Fill `root` with the sign-in card; onSignedIn() is called once a token is saved.
 * message: an i18n key to show (e.g. after a 4401 close).
 */
function renderSignIn(root, auth, onSignedIn, message) {
  const role = auth.role;
  const status = h("p", { class: "signin-msg", role: "alert" }, message ? t(message) : null);
  const list = h("div", { class: "picker", "data-testid": "agent-picker", role: "list" },
    h("p", { class: "muted", "data-i18n": "signin.loading" }, t("signin.loading")));
  const input = h("input", {
    type: "text", class: "token-input", "data-testid": "token-input", autocomplete: "off", spellcheck: "false",
    "data-i18n-placeholder": "signin.token.placeholder", placeholder: t("signin.token.placeholder"),
  });
  const useToken = (token, name) => {
    auth.save(token, name);
    onSignedIn();
  };
  const form = h("form", {
    class: "token-form",
    onsubmit: (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (!v) setText(status, t("signin.empty"));
      else useToken(v, null);
    },
  }, input, h("button", { type: "submit", class: "btn btn-primary", "data-testid": "btn-token-signin", "data-i18n": "signin.submit" }, t("signin.submit")));
  clear(root);
  root.appendChild(h("section", { class: "signin-card", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", "data-i18n": "signin.title." + role }, t("signin.title." + role)),
    status,
    h("h2", { "data-i18n": "signin.pick." + role }, t("signin.pick." + role)),
    list,
    h("div", { class: "or", "data-i18n": "signin.or" }, t("signin.or")),
    form));

  const none = () => fillList(h("p", { class: "muted", "data-i18n": "signin.none" }, t("signin.none")));
  const fillList = (...children) => {
    clear(list);
    children.forEach((c) => list.appendChild(c));
  };
  demoAccounts(role).then((accounts) => {
    if (!accounts.length) return none();
    fillList(...accounts.map((a) => h("button", {
      type: "button", class: "pick", role: "listitem", "data-testid": "agent-option", dataset: { id: a.id },
      onclick: () => {
        setText(status, "");
        mintToken(a.id, role).then((token) => useToken(token, a.name || a.id), () => setText(status, t("signin.failed")));
      },
    }, h("span", { class: "pick-name" }, a.name || a.id), h("span", { class: "pick-id" }, a.id))));
  }, none);
}

/**
 * The sign-in life of a page: the form while signed out, the page's own section (`main`) and
 * the top bar's who / sign-out (and connection badge `conn`, if any) while signed in.
 *   start()       called once signed in: open the socket, load the data
 *   stop()        called before the form is shown again
 * Returns {run, authFailed(code)}: run() starts the page; authFailed(4401|4403|401|403) forgets
 * the token and shows the form with the reason.
 */
export function signInFlow({ auth, main, conn, start, stop }) {
  function chrome(signedIn) {
    $("signin").hidden = signedIn;
    main.hidden = !signedIn;
    $("signout").hidden = !signedIn;
    if (conn) conn.el.hidden = !signedIn;
    const who = auth.who();
    const el = $("who");
    el.hidden = !signedIn || !who.name;
    setText(el, who.name && who.id && who.name !== who.id ? who.name + " · " + who.id : who.name);
  }
  function showSignIn(message) {
    if (stop) stop();
    chrome(false);
    renderSignIn($("signin"), auth, begin, message);
  }
  function begin() {
    chrome(true);
    start();
  }
  $("signout").addEventListener("click", () => {
    auth.clear();
    showSignIn(null);
  });
  return {
    run: () => (auth.token() ? begin() : showSignIn(null)),
    authFailed(code) {
      auth.clear();
      showSignIn(code === 4403 || code === 403 ? "signin.forbidden" : "signin.expired");
    },
  };
}
