/* Responso Chat widget, loaded by loader.js on the first click (or at once when a conversation
   is going on). It fills the panel's body: the pre-chat form, then the conversation over the
   visitor websocket. Messages are kept by sequence number: after a drop it resumes from the
   last one (HTTP, then the socket), and sends are idempotent by client message id, so nothing
   is lost or shown twice; messages typed offline wait in localStorage until the socket is back.
   All text from people goes in with textContent. */
(function (w, d) {
  "use strict";
  const STRINGS = {
    en: {
      intro: "Leave your details and we will reply right here.",
      name: "Name", email: "E-mail", subject: "Subject", message: "Message",
      start: "Start chat", required: "This field is required.",
      badEmail: "Enter a valid e-mail address.", tooLong: "Use at most {n} characters.",
      fix: "Please correct the marked fields.", waiting: "Waiting for an agent…",
      offHours: "Thank you! We will reply as soon as we are back.",
      chattingWith: "You are chatting with {name}", typing: "{name} is typing…", you: "You",
      sending: "Sending…", sent: "Sent", seen: "Seen", send: "Send",
      yourMessage: "Your message", ended: "This conversation has ended.",
      newChat: "Start a new chat", conversation: "Conversation",
      offline: "You are offline. Your messages will be sent when you are back online.",
      reconnecting: "Reconnecting…", network: "The chat could not be reached. Please try again.",
      tooMany: "Too many attempts. Try again in {n} s.", closed: "The chat is closed right now."
    },
    fr: {
      intro: "Laissez vos coordonnées, nous vous répondrons ici même.",
      name: "Nom", email: "E-mail", subject: "Objet", message: "Message",
      start: "Démarrer le chat", required: "Ce champ est obligatoire.",
      badEmail: "Saisissez une adresse e-mail valide.", tooLong: "{n} caractères au maximum.",
      fix: "Veuillez corriger les champs signalés.", waiting: "En attente d’un agent…",
      offHours: "Merci ! Nous vous répondrons dès notre retour.",
      chattingWith: "Vous discutez avec {name}", typing: "{name} écrit…", you: "Vous",
      sending: "Envoi…", sent: "Envoyé", seen: "Lu", send: "Envoyer",
      yourMessage: "Votre message", ended: "Cette conversation est terminée.",
      newChat: "Démarrer une nouvelle conversation", conversation: "Conversation",
      offline: "Vous êtes hors ligne. Vos messages partiront dès le retour de la connexion.",
      reconnecting: "Reconnexion…", network: "Le chat est injoignable. Veuillez réessayer.",
      tooMany: "Trop de tentatives. Réessayez dans {n} s.",
      closed: "Le chat est fermé pour le moment."
    },
    pl: {
      intro: "Zostaw swoje dane, odpowiemy właśnie tutaj.",
      name: "Imię i nazwisko", email: "E-mail", subject: "Temat", message: "Wiadomość",
      start: "Rozpocznij czat", required: "To pole jest wymagane.",
      badEmail: "Podaj poprawny adres e-mail.", tooLong: "Maksymalnie {n} znaków.",
      fix: "Popraw zaznaczone pola.", waiting: "Czekamy na konsultanta…",
      offHours: "Dziękujemy! Odpowiemy, gdy tylko wrócimy.",
      chattingWith: "Rozmawiasz z: {name}", typing: "{name} pisze…", you: "Ty",
      sending: "Wysyłanie…", sent: "Wysłano", seen: "Przeczytano", send: "Wyślij",
      yourMessage: "Twoja wiadomość", ended: "Ta rozmowa została zakończona.",
      newChat: "Rozpocznij nową rozmowę", conversation: "Rozmowa",
      offline: "Jesteś offline. Wiadomości zostaną wysłane po odzyskaniu połączenia.",
      reconnecting: "Ponowne łączenie…", network: "Nie udało się połączyć z czatem. Spróbuj ponownie.",
      tooMany: "Zbyt wiele prób. Spróbuj ponownie za {n} s.", closed: "Czat jest teraz nieczynny."
    }
  };
  /* The server's limits (schemas.StartChatSchema): checked here first, and there again. */
  const FIELDS = [["name", "text", 100, "name"], ["email", "email", 254, "email"],
    ["subject", "text", 200, "off"], ["message", "textarea", 5000, "off"]];
  const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
  const ENDED = ["solved", "closed", "spam"];
  const TYPING_IDLE = 3000, TYPING_SHOWN = 8000, MAX_RETRY_DELAY = 15000;

  const me = d.currentScript;
  me.dispatchEvent(new CustomEvent("rc-widget", { detail: mount }));

  /* h("p", {class: "x"}, "text", child): an element; strings become text nodes. */
  function h(tag, attrs, ...children) {
    const node = d.createElement(tag);
    for (const name in attrs || {}) {
      if (attrs[name] === false || attrs[name] == null) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), attrs[name]);
      else node.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
    }
    node.append(...children.filter((c) => c != null));
    return node;
  }
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k]);
  const newId = () => (w.crypto && crypto.randomUUID ? crypto.randomUUID()
    : Date.now().toString(36) + Math.random().toString(36).slice(2));

  function mount(ctx) {
    const t = STRINGS[ctx.language()] || STRINGS.en;
    const api = ctx.root + "/widget/";
    const socketUrl = ctx.root.replace(/^http/, "ws") + "/ws/visitor";
    const tokenKey = "rc:" + ctx.key, outboxKey = tokenKey + ":out", meKey = tokenKey + ":me";
    const read = (k, fallback) => {
      try { return JSON.parse(ctx.local.getItem(k)) || fallback; } catch (e) { return fallback; }
    };
    const write = (k, value) => {
      try {
        if (value == null) ctx.local.removeItem(k);
        else ctx.local.setItem(k, JSON.stringify(value));
      } catch (e) { /* storage full or blocked: the conversation still works in this page */ }
    };

    let token = null, ticket = null, socket = null, retries = 0, retryTimer = 0, live = false;
    let lastSeq = 0, lastAgentSeq = 0, seenSent = 0, unread = 0, agentName = null;
    let typingSent = false, typingTimer = 0, shownTypingTimer = 0, form = null, chat = null;
    let outbox = [];
    const bySeq = new Map(), pending = new Map();

    /* --- the pre-chat form ---------------------------------------------------------------- */
    function showForm() {
      const fields = {};
      const alert = h("p", { class: "rc-alert", role: "alert" });
      const button = h("button", { type: "submit", class: "rc-primary" }, t.start);
      const rows = FIELDS.map(([name, type, max, auto]) => {
        const id = "rc-f-" + name, error = h("p", { class: "rc-error", id: id + "-e" });
        const input = h(type === "textarea" ? "textarea" : "input", {
          id, name, type: type === "textarea" ? null : type, rows: type === "textarea" ? 4 : null,
          maxlength: max, autocomplete: auto, required: true, "aria-describedby": id + "-e",
          oninput: () => { if (input.getAttribute("aria-invalid")) check(name); }
        });
        fields[name] = { input, error, max };
        return h("div", { class: "rc-field" }, h("label", { for: id }, t[name]), input, error);
      });
      form = h("form", { class: "rc-form", novalidate: true, onsubmit: start },
        h("p", { class: "rc-intro" }, t.intro), ...rows, alert, button);
      form.fields = fields;
      form.alert = alert;
      form.button = button;
      prefill();
      chat = null;
      ctx.body.replaceChildren(form);
    }

    function prefill() {
      const who = ctx.customer() || {}, last = read(meKey, {});
      const { name, email } = form.fields;
      name.input.value = name.input.value || who.name || last.name || "";
      email.input.value = who.email || email.input.value || last.email || "";
      email.input.readOnly = !!(who.signature && who.email);
    }

    function check(name) {
      const field = form.fields[name], value = field.input.value.trim();
      let message = "";
      if (!value) message = t.required;
      else if (value.length > field.max) message = fill(t.tooLong, { n: field.max });
      else if (name === "email" && !EMAIL.test(value)) message = t.badEmail;
      showError(field, message);
      return !message;
    }
    function showError(field, message) {
      field.error.textContent = message;
      if (message) field.input.setAttribute("aria-invalid", "true");
      else field.input.removeAttribute("aria-invalid");
    }

    function start(event) {
      event.preventDefault();
      const wrong = FIELDS.map(([name]) => name).filter((name) => !check(name));
      form.alert.textContent = wrong.length ? t.fix : "";
      if (wrong.length) return form.fields[wrong[0]].input.focus();
      const values = {};
      for (const name in form.fields) values[name] = form.fields[name].input.value.trim();
      const who = ctx.customer() || {};
      if (who.signature && who.email === values.email) values.signature = who.signature;
      Object.assign(values, {
        page_url: location.href.slice(0, 2000), page_title: d.title.slice(0, 300),
        language: ctx.language(), client_msg_id: newId()
      });
      const button = form.button; /* the form is gone once the chat has begun */
      button.disabled = true;
      fetch(api + encodeURIComponent(ctx.key) + "/tickets", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(values)
      }).then((response) => response.json().then((body) => {
        if (response.ok) return begin(body, values);
        const errors = body.errors || {};
        for (const name in errors) {
          if (form.fields[name]) showError(form.fields[name], errors[name].join(" "));
        }
        const first = FIELDS.find(([name]) => errors[name]);
        form.alert.textContent = response.status === 429
          ? fill(t.tooMany, { n: response.headers.get("Retry-After") || 60 })
          : response.status === 409 ? t.closed : first ? t.fix : t.network;
        if (first) form.fields[first[0]].input.focus();
      })).catch(() => { form.alert.textContent = t.network; })
        .finally(() => { button.disabled = false; });
    }

    function begin(body, values) {
      write(meKey, { name: values.name, email: values.email });
      write(tokenKey, { token: body.token });
      token = body.token;
      showChat();
      take(body);
      live = true;
      connect();
      chat.input.focus();
      ctx.emit("start", { ticket: body.ticket.id });
    }

    /* --- the conversation ----------------------------------------------------------------- */
    function showChat() {
      const input = h("textarea", {
        id: "rc-compose", rows: 2, maxlength: 5000, "aria-describedby": "rc-compose-e",
        oninput: typing, onkeydown: (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
        }
      });
      chat = {
        status: h("p", { class: "rc-status", role: "status" }),
        log: h("ol", { class: "rc-log", role: "log", "aria-live": "polite",
          "aria-label": t.conversation }),
        typing: h("p", { class: "rc-typing", "aria-live": "polite" }),
        connection: h("p", { class: "rc-connection", role: "status" }),
        ended: h("div", { class: "rc-ended", hidden: true },
          h("p", {}, t.ended),
          h("button", { type: "button", class: "rc-primary", onclick: restart }, t.newChat)),
        error: h("p", { class: "rc-error", id: "rc-compose-e" }),
        input
      };
      chat.composer = h("form", { class: "rc-composer", onsubmit: send },
        h("label", { for: "rc-compose", class: "rc-hidden" }, t.yourMessage), input,
        h("button", { type: "submit", class: "rc-primary" }, t.send), chat.error);
      form = null;
      ctx.body.replaceChildren(chat.status, chat.log, chat.typing, chat.connection, chat.ended,
        chat.composer);
      outbox.forEach(showPending);
    }

    function take(body) { /* a ticket summary and messages from an HTTP answer */
      ticket = body.ticket;
      agentName = ticket.agent_name;
      body.messages.forEach(add);
      showState();
    }

    function showState() {
      if (!chat) return;
      const ended = ENDED.includes(ticket.status);
      chat.ended.hidden = !ended;
      chat.composer.hidden = ended;
      chat.status.textContent = ended ? "" : agentName
        ? fill(t.chattingWith, { name: agentName }) : ticket.out_of_hours ? t.offHours : t.waiting;
      if (ended) chat.typing.textContent = "";
    }

    function add(m) {
      if (m.internal || bySeq.has(m.seq)) return;
      const mine = m.author_kind === "customer";
      const item = h("li", { class: "rc-msg rc-" + m.author_kind },
        m.author_kind === "system" ? null
          : h("span", { class: "rc-author" }, mine ? t.you : m.author_name),
        h("p", { class: "rc-text" }, m.body),
        h("span", { class: "rc-meta" }, clock(m.created_at) + (mine ? " · " : ""),
          mine ? h("span", { class: "rc-state" }, m.seen ? t.seen : t.sent) : null));
      bySeq.set(m.seq, item);
      const waitingEntry = m.client_msg_id && pending.get(m.client_msg_id);
      if (waitingEntry) {
        waitingEntry.remove();
        pending.delete(m.client_msg_id);
        outbox = outbox.filter((entry) => entry.id !== m.client_msg_id);
        write(outboxKey, outbox);
      }
      const later = [...bySeq.keys()].filter((seq) => seq > m.seq).sort((a, b) => a - b)[0];
      chat.log.insertBefore(item, later ? bySeq.get(later) : chat.log.querySelector(".rc-pending"));
      lastSeq = Math.max(lastSeq, m.seq);
      if (!mine) {
        lastAgentSeq = Math.max(lastAgentSeq, m.seq);
        if (m.author_kind === "agent" && !agentName) agentName = m.author_name;
        if (live) arrived(m);
      }
      item.scrollIntoView({ block: "nearest" });
    }

    function arrived(m) { /* a new message from the shop's side */
      ctx.emit("message", { author: m.author_name, body: m.body, seq: m.seq });
      if (ctx.isOpen() && !d.hidden) return markSeen();
      unread += 1;
      ctx.unread(unread);
    }

    function clock(iso) {
      const date = new Date(iso);
      return isNaN(date) ? "" : date.toLocaleTimeString(ctx.language(),
        { hour: "2-digit", minute: "2-digit" });
    }

    function showPending(entry) {
      const item = h("li", { class: "rc-msg rc-customer rc-pending" },
        h("span", { class: "rc-author" }, t.you), h("p", { class: "rc-text" }, entry.body),
        h("span", { class: "rc-meta" }, t.sending));
      pending.set(entry.id, item);
      chat.log.append(item);
      item.scrollIntoView({ block: "nearest" });
    }

    function send(event) {
      event.preventDefault();
      const body = chat.input.value.trim();
      chat.error.textContent = body.length > 5000 ? fill(t.tooLong, { n: 5000 }) : "";
      if (!body || chat.error.textContent) return;
      const entry = { id: newId(), body };
      outbox.push(entry);
      write(outboxKey, outbox);
      showPending(entry);
      chat.input.value = "";
      stopTyping();
      transmit(entry);
    }
    function transmit(entry) {
      emitFrame({ type: "send", body: entry.body, client_msg_id: entry.id });
    }
    function emitFrame(frame) {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
    }

    function typing() {
      if (!typingSent) emitFrame({ type: "typing", typing: true });
      typingSent = true;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, TYPING_IDLE);
    }
    function stopTyping() {
      clearTimeout(typingTimer);
      if (typingSent) emitFrame({ type: "typing", typing: false });
      typingSent = false;
    }

    function markSeen() {
      if (lastAgentSeq > seenSent && socket && socket.readyState === 1) {
        seenSent = lastAgentSeq;
        emitFrame({ type: "seen", seq: lastAgentSeq });
      }
    }

    function receive(event) {
      let e;
      try { e = JSON.parse(event.data); } catch (err) { return; }
      if (e.type === "ping") return emitFrame({ type: "pong" }); /* still here: not idle */
      if (e.type === "message") add(e);
      else if (e.type === "status") { ticket.status = e.status; showState(); }
      else if (e.type === "agent_joined") { agentName = e.name; showState(); }
      else if (e.type === "typing") {
        chat.typing.textContent = e.typing ? fill(t.typing, { name: e.name }) : "";
        clearTimeout(shownTypingTimer);
        shownTypingTimer = setTimeout(() => { chat.typing.textContent = ""; }, TYPING_SHOWN);
      } else if (e.type === "seen") {
        bySeq.forEach((item, seq) => {
          const state = seq <= e.seq && item.querySelector(".rc-state");
          if (state) state.textContent = t.seen;
        });
      } else if (e.type === "error" && e.error === "rate_limited") {
        setTimeout(() => outbox.forEach(transmit), (e.retry_after || 5) * 1000);
      }
      showState();
    }

    /* --- staying connected ------------------------------------------------------------------ */
    function resume() { /* catch up over HTTP (and check the token), then open the socket */
      clearTimeout(retryTimer);
      if (!token) return;
      fetch(api + "tickets/messages?after=" + lastSeq, {
        headers: { Authorization: "Bearer " + token }
      }).then((response) => {
        if (response.status === 401) return forget();
        if (!response.ok) throw new Error(response.status);
        return response.json().then((body) => {
          take(body);
          live = true;
          connect();
        });
      }).catch(retry);
    }

    function connect() {
      if (socket || !token) return;
      /* the token goes as a subprotocol: URLs end up in access logs */
      const ws = new WebSocket(socketUrl + "?after=" + lastSeq, ["responso-chat", token]);
      socket = ws;
      ws.onopen = () => {
        if (socket !== ws) return;
        retries = 0;
        chat.connection.textContent = "";
        outbox.forEach(transmit);
        page();
        if (ctx.isOpen()) markSeen();
      };
      ws.onmessage = (event) => socket === ws && receive(event);
      ws.onclose = () => {
        if (socket !== ws) return;
        socket = null;
        stopTyping();
        retry();
      };
    }

    function retry() {
      if (!token || !chat) return;
      chat.connection.textContent = navigator.onLine === false ? t.offline : t.reconnecting;
      clearTimeout(retryTimer);
      if (navigator.onLine !== false) {
        retryTimer = setTimeout(resume, Math.min(MAX_RETRY_DELAY, 500 * 2 ** retries++));
      }
    }

    function drop() { /* the network went away: stop using a socket that may be dead */
      if (!socket) return;
      const ws = socket;
      socket = null;
      ws.close();
      retry();
    }

    function forget() { /* the conversation is over for this browser: back to the form */
      if (socket) {
        const ws = socket;
        socket = null;
        ws.close();
      }
      clearTimeout(retryTimer);
      token = ticket = null;
      agentName = null;
      lastSeq = lastAgentSeq = seenSent = unread = 0;
      outbox = [];
      bySeq.clear();
      pending.clear();
      write(tokenKey, null);
      write(outboxKey, null);
      ctx.unread(0);
      showForm();
    }

    function restart() {
      forget();
      form.fields.subject.input.focus();
    }

    function boot() {
      const saved = read(tokenKey, null);
      token = saved && saved.token;
      outbox = token ? read(outboxKey, []) : [];
      if (!token) return showForm();
      showChat();
      resume();
    }

    function page() {
      emitFrame({ type: "page", url: location.href.slice(0, 2000), title: d.title.slice(0, 300) });
    }

    function fitToViewport() { /* full screen on phones: stay above the on-screen keyboard */
      const view = w.visualViewport, small = w.innerWidth < 480 && view;
      ctx.panel.style.top = small ? view.offsetTop + "px" : "";
      ctx.panel.style.height = small ? view.height + "px" : "";
    }

    function trapFocus(event) {
      if (event.key !== "Tab") return;
      const items = [...ctx.panel.querySelectorAll("button,input,textarea,a[href]")]
        .filter((n) => !n.disabled && n.getClientRects().length);
      const active = ctx.shadow.activeElement;
      if (active === items[event.shiftKey ? 0 : items.length - 1]) {
        event.preventDefault();
        items[event.shiftKey ? items.length - 1 : 0].focus();
      }
    }

    ctx.panel.addEventListener("keydown", trapFocus);
    w.addEventListener("online", resume);
    w.addEventListener("offline", drop);
    d.addEventListener("visibilitychange", () => { if (ctx.isOpen()) markSeen(); });
    if (w.visualViewport) w.visualViewport.addEventListener("resize", fitToViewport);
    w.addEventListener("storage", (event) => { /* another tab started or left a chat */
      if (event.key !== tokenKey) return;
      const saved = read(tokenKey, null);
      if ((saved && saved.token) === token) return;
      if (token) forget();
      boot();
    });
    boot();

    return {
      opened() {
        unread = 0;
        fitToViewport();
        markSeen();
        const target = form
          ? FIELDS.map(([name]) => form.fields[name].input).find((input) => !input.value)
          : chat.composer.hidden ? chat.ended.querySelector("button") : chat.input;
        (target || form.button).focus();
      },
      page,
      customer() { if (form) prefill(); }
    };
  }
})(window, document);
