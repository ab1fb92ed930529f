/* Responso Chat's embed loader: read widget.js's header first. */
(function (w, d) {
  "use strict";
  if (w.ResponsoChat) return;
  const me = d.currentScript;
  const src = me ? me.src.split(/[?#]/)[0] : "";
  const parts = /^(.*)\/widget\/([^/]+)\/loader\.js$/.exec(src);
  const root = parts ? parts[1] : src.replace(/\/static\/widget\/loader\.js$/, "");
  const key = parts ? decodeURIComponent(parts[2]) : "";
  const TEXT = {
    en: ["Chat", "Close", "unread"],
    fr: ["Chat", "Fermer", "non lus"],
    pl: ["Czat", "Zamknij", "nieprzeczytane"]
  };
  const ICONS = ["M6 4h12a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4V6a2 2 0 0 1 1-2z",
    "M6 6l12 12M18 6 6 18"];
  const CSS = ":host{all:initial}*{box-sizing:border-box}[hidden]{display:none!important}" +
    ".l{position:fixed;right:20px;bottom:var(--b);width:56px;height:56px;border:0;" +
    "border-radius:50%;background:var(--c);color:var(--t);box-shadow:0 4px 14px #0004;" +
    "cursor:pointer;display:grid;place-items:center}.l svg,.x svg{width:26px}" +
    ":focus-visible{outline:3px solid #111;outline-offset:2px}" +
    ".b{position:absolute;top:-4px;right:-4px;padding:0 6px;border-radius:9px;" +
    "background:#dc2626;color:#fff;font:700 12px/18px sans-serif}" +
    ".left .l{left:20px;right:auto}.v{position:relative;height:100%}.v .l{position:absolute}";

  const handlers = {};
  let config, lang = "en", ui, widget, waiting, unread = 0, isOpen = false, timer, customer;
  let local, session;
  try { local = w.localStorage; session = w.sessionStorage; } catch (e) {}
  const openKey = "rc:open:" + key, configKey = "rc:cfg:" + key, queueKey = "rc:q:" + key;
  let queue = [];
  try { queue = JSON.parse(local[queueKey]) || []; } catch (e) {}
  const visited = () => {
    try {
      const list = JSON.parse(local["rc:trail:" + key] || "[]").slice(-19);
      list.push([location.pathname.slice(0, 300), d.title.slice(0, 200), Date.now()]);
      local["rc:trail:" + key] = JSON.stringify(list);
    } catch (e) {}
  };
  const sheet = () => el("link", "", { rel: "stylesheet", href: root + "/static/widget/widget.css" });

  const emit = (name, data) => (handlers[name] || []).forEach((fn) => {
    try { fn(data); } catch (e) { console.error(e); }
  });
  const pickLanguage = (cfg) => {
    const code = TEXT[cfg.language] ? cfg.language : (navigator.language || "").slice(0, 2);
    return TEXT[code] ? code : "en";
  };
  const ink = (hex) => {
    const n = parseInt(hex.slice(1), 16);
    return (n >> 16) * 0.3 + ((n >> 8) & 255) * 0.59 + (n & 255) * 0.11 > 160 ? "#111" : "#fff";
  };
  const el = (tag, cls, attrs) => {
    const node = d.createElement(tag);
    node.className = cls || "";
    for (const name in attrs) node.setAttribute(name, attrs[name]);
    return node;
  };
  const icon = (i) => '<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor" ' +
    'stroke="currentColor" stroke-width="2.4" stroke-linejoin="round"><path d="' + ICONS[i] +
    '"/></svg>';

  function styled(shadow) {
    try {
      const css = new CSSStyleSheet();
      css.replaceSync(CSS);
      shadow.adoptedStyleSheets = [css];
    } catch (e) {
      shadow.append(el("style")).textContent = CSS;
    }
  }

  function draw(shadow, cfg, preview) {
    const color = /^#[0-9a-f]{6}$/i.test(cfg.color) ? cfg.color : "#2563eb";
    const box = el("div", (preview ? "v " : "") + cfg.alignment);
    box.style.cssText = "--c:" + color + ";--t:" + ink(color) + ";--b:" +
      Math.max(0, parseInt(cfg.vertical_spacing, 10) || 0) + "px";
    const view = {
      shadow,
      ready: preview,
      launcher: el("button", "l", { type: "button" }),
      panel: el("div", "p", { role: "dialog", "aria-modal": true, "aria-labelledby": "rc-t" }),
      close: el("button", "x", { type: "button", "aria-label": TEXT[lang][1] }),
      badge: el("span", "b"),
      notice: el("p", "o"),
      body: el("div", "y")
    };
    const head = el("div", "h"), title = el("h2", "", { id: "rc-t" });
    title.textContent = cfg.welcome_message || cfg.name || "";
    view.close.innerHTML = icon(1);
    head.append(title, view.close);
    view.panel.append(head, view.notice, view.body);
    box.append(view.launcher, view.panel);
    shadow.append(box);
    look(view, preview, cfg);
    return view;
  }
  function look(view, opened, cfg) {
    const t = TEXT[lang];
    view.panel.hidden = !(opened && view.ready);
    view.launcher.innerHTML = icon(opened ? 1 : 0);
    view.launcher.setAttribute("aria-expanded", opened);
    view.launcher.setAttribute("aria-label", t[0] + (unread ? ` (${unread} ${t[2]})` : ""));
    view.badge.textContent = unread;
    view.badge.hidden = opened || !unread;
    view.launcher.append(view.badge);
    view.notice.textContent = cfg.out_of_hours_message || "";
    view.notice.hidden = cfg.open_now || !cfg.out_of_hours_message;
  }

  /* visibility.path_matches */
  const segments = (path) => {
    path = String(path || "").split(/[?#]/)[0];
    try { path = decodeURIComponent(path); } catch (e) {}
    return path.split("/").filter(Boolean);
  };
  const covers = (rule, path) => new RegExp("^" + segments(rule).map((s) => "/" + s.split("*")
    .map((t) => t.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")).join("") + "(/|$)")
    .test("/" + segments(path).join("/"));
  const shown = () => {
    const listed = (config.paths || []).some((rule) => covers(rule, location.pathname));
    return (config.path_rule_type === "whitelist" ? listed : !listed) &&
      (config.open_now || config.out_of_hours_behaviour === "show_message");
  };

  function check() {
    const show = config && shown();
    if (show && !ui) {
      const host = el("responso-chat");
      host.style.cssText = "position:fixed;top:0;left:0;width:0;height:0;z-index:2147483000";
      d.body.append(host);
      const shadow = host.attachShadow({ mode: "open" });
      styled(shadow);
      ui = draw(shadow, config, false);
      ui.host = host;
      ui.launcher.onclick = () => (isOpen ? close() : open());
      ui.launcher.onpointerenter = ui.launcher.onfocus = () => load();
      ui.close.onclick = close;
      ui.panel.addEventListener("keydown", (event) => event.key === "Escape" && close());
      if (local && local["rc:" + key] || /rc-continue-/.test(location.hash) || config.proactive
        || queue.length) load();
      if (session && session[openKey]) open();
    }
    if (!ui) return;
    ui.host.style.display = show ? "" : "none";
    if (!show) close();
    look(ui, isOpen, config);
  }

  function load(then) {
    if (widget) return then && then();
    if (waiting) return then && waiting.push(then);
    waiting = then ? [then] : [];
    let mount, count = 2;
    const link = sheet(), script = el("script", "", { src: root + "/static/widget/widget.js" });
    const done = () => --count || ready(mount);
    link.onload = link.onerror = done;
    ui.shadow.append(link);
    script.addEventListener("rc-widget", (event) => { mount = event.detail; done(); });
    d.head.append(script);
  }
  function ready(mount) {
    ui.ready = true;
    widget = mount({
      root, key, local, session, emit, open, queue, queueKey, covers, shown,
      body: ui.body, panel: ui.panel, shadow: ui.shadow,
      language: () => lang,
      config: () => config,
      customer: () => customer,
      isOpen: () => isOpen,
      unread: (count) => { unread = count; look(ui, isOpen, config); }
    });
    look(ui, isOpen, config);
    waiting.forEach((fn) => fn());
    waiting = null;
  }

  function open() {
    if (!ui || ui.host.style.display) return;
    isOpen = true;
    unread = 0;
    look(ui, true, config);
    if (session) session[openKey] = 1;
    load(() => isOpen && widget.opened());
    emit("open");
  }
  function close() {
    if (!isOpen) return;
    isOpen = false;
    look(ui, false, config);
    if (session) session.removeItem(openKey);
    ui.launcher.focus();
    emit("close");
  }

  function use(cfg) {
    config = cfg;
    if (cfg) lang = pickLanguage(cfg);
    check();
  }
  function fetchConfig() {
    fetch(root + "/widget/" + encodeURIComponent(key) + "/config")
      .then((r) => (r.ok ? r.json() : null))
      .then((cfg) => {
        try { local[configKey] = JSON.stringify(cfg); } catch (e) {}
        use(cfg);
        clearTimeout(timer); /* ask again when it opens or closes */
        if (cfg && cfg.next_change_at) timer = setTimeout(fetchConfig, Math.min(864e5,
          Math.max(0, Date.parse(cfg.next_change_at) - Date.now()) + 1500));
      })
      .catch(() => {});
  }
  function start() {
    let drawn;
    try {
      const kept = JSON.parse(local[configKey]);
      if (!(Date.parse(kept.next_change_at) <= Date.now())) { use(kept); drawn = 1; }
    } catch (e) {}
    /* drawn from the kept config: revalidate after the frame that shows the launcher */
    if (drawn) requestAnimationFrame(() => setTimeout(fetchConfig)); else fetchConfig();
  }

  const api = {
    open,
    close,
    on: (name, fn) => { (handlers[name] = handlers[name] || []).push(fn); return api; },
    setCustomer: (who) => { customer = who; if (widget) widget.customer(); },
    track: (name, data) => { /* kept until widget.js checks and sends them */
      if (queue.length < 50) queue.push([name, data, Date.now()]);
      try { local[queueKey] = JSON.stringify(queue); } catch (e) {}
      if (widget) widget.track(); else if (ui) load();
    }
  };
  w.ResponsoChat = api;
  if (me && me.dataset.preview === "1") {
    api.preview = (cfg, container) => {
      lang = pickLanguage(cfg);
      let shadow = container.shadowRoot, old;
      if (!shadow) {
        styled(shadow = container.attachShadow({ mode: "open" }));
        shadow.append(sheet());
      }
      if ((old = shadow.querySelector("div"))) old.remove();
      if (cfg.open_now || cfg.out_of_hours_behaviour === "show_message") draw(shadow, cfg, true);
    };
    return;
  }
  const navigated = () => { visited(); check(); if (widget) widget.page(); };
  ["pushState", "replaceState"].forEach((name) => {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      navigated();
      return result;
    };
  });
  w.addEventListener("popstate", navigated);
  visited();
  if (d.body) start();
  else d.addEventListener("DOMContentLoaded", start);
})(window, document);
