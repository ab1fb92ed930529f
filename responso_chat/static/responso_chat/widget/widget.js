/* Responso Chat widget.

   The loader (loader.js, on every shop page, kept small) draws the launcher at once from the
   config this browser kept from its last visit (localStorage "rc:cfg:<key>"), then asks the
   server for the current one and redraws or hides it. It loads this file and widget.css (the
   panel's style) when the launcher is pointed at, focused or clicked, or at once when a
   conversation is going on (its token is in localStorage), so the unread count of replies that
   came while the customer was away shows on the launcher without a click. It loads them at
   once too for an e-mail's link (#rc-continue-<key>=<token>, taken here), when the config
   has proactive greetings, and when the shop called ResponsoChat.track(). The loader keeps
   only what must run on every page: the visit's trail (localStorage "rc:trail:<key>", the
   last 20 pages as [path, title, time], never a query string or fragment) and the queue of
   track() calls made before this file ran. It draws inside a Shadow DOM (a constructed
   stylesheet, so a strict CSP without 'unsafe-inline' holds; <style> in old browsers) and
   applies the server's path rules (visibility.path_matches) itself. With data-preview="1"
   it draws nothing and adds ResponsoChat.preview(config, container) for the admin page.

   This file fills the panel's body: the pre-chat form, then the conversation over the visitor
   websocket. Messages are kept by sequence number: after a drop it resumes from the last one
   (HTTP, then the socket), and sends are idempotent by client message id, so nothing is lost
   or shown twice; messages typed offline wait in localStorage until the socket is back. The
   last message the customer saw is kept too (":seen"), and drafts in sessionStorage. The
   limits of each field come from the config. All text from people goes in with textContent.

   The shop's context (its own section below): tracked events are checked like the server
   does (schemas/context.py) and kept with the trail; both go with Start chat and, during a
   conversation, with page views (at most every 10 s, only when changed). Proactive
   greetings (their own section): a bubble beside the launcher when a greeting's triggers
   hold, at most proactive_per_day a day (localStorage "rc:greeted:<key>"). */
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
      endedReopen: "This conversation has ended. Write below if you need anything else.",
      newChat: "Start a new chat", conversation: "Conversation",
      offline: "You are offline. Your messages will be sent when you are back online.",
      reconnecting: "Reconnecting…", network: "The chat could not be reached. Please try again.",
      tooMany: "Too many attempts. Try again in {n} s.", closed: "The chat is closed right now.",
      count: "{n} of {max} characters", here: "{names} online",
      replies: "Usually replies in about {n} min", repliesH: "Usually replies in about {n} h",
      attach: "Attach a file", cancel: "Cancel", uploading: "Uploading {name}",
      uploadFailed: "The file could not be sent.", dropHere: "Drop files to send them"
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
      endedReopen: "Cette conversation est terminée. Écrivez ci-dessous si besoin.",
      newChat: "Démarrer une nouvelle conversation", conversation: "Conversation",
      offline: "Vous êtes hors ligne. Vos messages partiront dès le retour de la connexion.",
      reconnecting: "Reconnexion…", network: "Le chat est injoignable. Veuillez réessayer.",
      tooMany: "Trop de tentatives. Réessayez dans {n} s.",
      closed: "Le chat est fermé pour le moment.", count: "{n} caractères sur {max}",
      here: "En ligne : {names}", replies: "Répond en général en {n} min environ",
      repliesH: "Répond en général en {n} h environ",
      attach: "Joindre un fichier", cancel: "Annuler", uploading: "Envoi de {name}",
      uploadFailed: "Le fichier n’a pas pu être envoyé.",
      dropHere: "Déposez les fichiers pour les envoyer"
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
      endedReopen: "Ta rozmowa została zakończona. Napisz poniżej, jeśli potrzebujesz czegoś jeszcze.",
      newChat: "Rozpocznij nową rozmowę", conversation: "Rozmowa",
      offline: "Jesteś offline. Wiadomości zostaną wysłane po odzyskaniu połączenia.",
      reconnecting: "Ponowne łączenie…", network: "Nie udało się połączyć z czatem. Spróbuj ponownie.",
      tooMany: "Zbyt wiele prób. Spróbuj ponownie za {n} s.", closed: "Czat jest teraz nieczynny.",
      count: "{n} z {max} znaków", here: "Dostępni: {names}",
      replies: "Zwykle odpowiadamy w ok. {n} min", repliesH: "Zwykle odpowiadamy w ok. {n} godz.",
      attach: "Dołącz plik", cancel: "Anuluj", uploading: "Wysyłanie pliku {name}",
      uploadFailed: "Nie udało się wysłać pliku.", dropHere: "Upuść pliki, aby je wysłać"
    }
  };
  /* The rating asked for once the chat has ended (see rating() in mount). */
  const RATING_STRINGS = {
    en: {
      ask: "How was this conversation?", outOf: "{n} out of 5", comment: "Comment (optional)",
      send: "Send rating", change: "Change rating", thanks: "Thank you for your rating!",
      rated: "You rated this conversation {n} out of 5.", choose: "Choose a rating from 1 to 5."
    },
    fr: {
      ask: "Comment s’est passée cette conversation ?", outOf: "{n} sur 5",
      comment: "Commentaire (facultatif)", send: "Envoyer la note", change: "Modifier la note",
      thanks: "Merci pour votre note !", rated: "Vous avez noté cette conversation {n} sur 5.",
      choose: "Choisissez une note de 1 à 5."
    },
    pl: {
      ask: "Jak oceniasz tę rozmowę?", outOf: "{n} z 5", comment: "Komentarz (opcjonalnie)",
      send: "Wyślij ocenę", change: "Zmień ocenę", thanks: "Dziękujemy za ocenę!",
      rated: "Oceniono tę rozmowę na {n} z 5.", choose: "Wybierz ocenę od 1 do 5."
    }
  };
  const RATED = ["solved", "closed"];
  /* "My orders" (see myOrders() in mount), by language. */
  const ORDER_STRINGS = {
    en: {
      myOrders: "My orders", back: "Back",
      verifyIntro: "To see your orders, confirm your e-mail address: we will e-mail you a code.",
      sendCode: "Send me a code", code: "Code from the e-mail", confirm: "Show my orders",
      codeSent: "We sent a code to {email}. Type it below.", newCode: "Send a new code",
      badCode: "This code is not right or has expired. Ask for a new code.",
      noCodes: "Codes cannot be sent right now. Please start a chat instead.",
      loading: "Loading your orders…", none: "No orders in the last 3 months.",
      stale: "Your orders could not be refreshed just now: these are the latest we have.",
      order: "Order {n}", total: "Total", track: "Track the parcel ({carrier})",
      parcel: "Parcel number {n}", ask: "Ask about this order", cancel: "Cancel",
      "return": "Return", askLabel: "Ask about order {n}", cancelLabel: "Cancel order {n}",
      returnLabel: "Return order {n}", ordersOf: "Orders of {email}"
    },
    fr: {
      myOrders: "Mes commandes", back: "Retour",
      verifyIntro: "Pour voir vos commandes, confirmez votre adresse e-mail : nous vous " +
        "enverrons un code.",
      sendCode: "Recevoir un code", code: "Code reçu par e-mail", confirm: "Voir mes commandes",
      codeSent: "Nous avons envoyé un code à {email}. Saisissez-le ci-dessous.",
      newCode: "Recevoir un nouveau code",
      badCode: "Ce code n’est pas bon ou a expiré. Demandez un nouveau code.",
      noCodes: "Impossible d’envoyer un code pour le moment. Démarrez plutôt un chat.",
      loading: "Chargement de vos commandes…", none: "Aucune commande ces 3 derniers mois.",
      stale: "Vos commandes n’ont pas pu être actualisées : voici les dernières connues.",
      order: "Commande {n}", total: "Total", track: "Suivre le colis ({carrier})",
      parcel: "Colis n° {n}", ask: "Poser une question", cancel: "Annuler",
      "return": "Retourner", askLabel: "Question sur la commande {n}",
      cancelLabel: "Annuler la commande {n}", returnLabel: "Retourner la commande {n}",
      ordersOf: "Commandes de {email}"
    },
    pl: {
      myOrders: "Moje zamówienia", back: "Wróć",
      verifyIntro: "Aby zobaczyć zamówienia, potwierdź adres e-mail: wyślemy Ci kod.",
      sendCode: "Wyślij mi kod", code: "Kod z e-maila", confirm: "Pokaż moje zamówienia",
      codeSent: "Wysłaliśmy kod na adres {email}. Wpisz go poniżej.",
      newCode: "Wyślij nowy kod",
      badCode: "Ten kod jest błędny lub wygasł. Poproś o nowy kod.",
      noCodes: "Nie możemy teraz wysłać kodu. Rozpocznij czat.",
      loading: "Wczytywanie zamówień…", none: "Brak zamówień w ostatnich 3 miesiącach.",
      stale: "Nie udało się odświeżyć zamówień: oto ostatnie, jakie znamy.",
      order: "Zamówienie {n}", total: "Razem", track: "Śledź przesyłkę ({carrier})",
      parcel: "Numer przesyłki {n}", ask: "Zapytaj o zamówienie", cancel: "Anuluj",
      "return": "Zwróć", askLabel: "Zapytaj o zamówienie {n}",
      cancelLabel: "Anuluj zamówienie {n}", returnLabel: "Zwróć zamówienie {n}",
      ordersOf: "Zamówienia: {email}"
    }
  };
  /* The pre-chat form's fields: name, type, autocomplete. Their longest values come with the
     config (limits): checked here first, and by the server again. */
  const FIELDS = [["name", "text", "name"], ["email", "email", "email"],
    ["subject", "text", "off"], ["message", "textarea", "off"]];
  const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
  const ENDED = ["solved", "closed", "spam"];
  const TYPING_IDLE = 3000, TYPING_SHOWN = 8000, MAX_RETRY_DELAY = 15000;

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

  /* Hand mount() to the loader once the functions above exist: it may mount at once. */
  d.currentScript.dispatchEvent(new CustomEvent("rc-widget", { detail: mount }));

  function mount(ctx) {
    const t = Object.assign({}, STRINGS[ctx.language()] || STRINGS.en,
      ORDER_STRINGS[ctx.language()] || ORDER_STRINGS.en);
    const api = ctx.root + "/widget/";
    const socketUrl = ctx.root.replace(/^http/, "ws") + "/ws/visitor";
    const tokenKey = "rc:" + ctx.key, outboxKey = tokenKey + ":out", meKey = tokenKey + ":me";
    const seenKey = tokenKey + ":seen", draftKey = tokenKey + ":draft", composeKey = draftKey + ":c";
    const read = (k, fallback) => {
      try { return JSON.parse(ctx.local.getItem(k)) || fallback; } catch (e) { return fallback; }
    };
    const write = (k, value) => {
      try {
        if (value == null) ctx.local.removeItem(k);
        else ctx.local.setItem(k, JSON.stringify(value));
      } catch (e) { /* storage full or blocked: the conversation still works in this page */ }
    };
    /* Drafts live in this tab's sessionStorage: they survive a reload, not the tab. */
    const kept = (k) => {
      try { return JSON.parse(ctx.session.getItem(k)); } catch (e) { return null; }
    };
    const keep = (k, value) => {
      try {
        if (value) ctx.session.setItem(k, JSON.stringify(value));
        else ctx.session.removeItem(k);
      } catch (e) { /* blocked: no draft kept */ }
    };
    const limits = () => ctx.config().limits || {};

    let token = null, ticket = null, socket = null, retries = 0, retryTimer = 0, live = false;
    let lastSeq = 0, lastAgentSeq = 0, seen = 0, seenSent = 0, unread = 0, agentName = null;
    let firstTake = true;
    let typingSent = 0, typingTimer = 0, shownTypingTimer = 0, form = null, chat = null;
    let outbox = [];
    const bySeq = new Map(), pending = new Map();

    /* --- the pre-chat form ---------------------------------------------------------------- */
    function showForm() {
      const fields = {};
      const alert = h("p", { class: "rc-alert", role: "alert" });
      const button = h("button", { type: "submit", class: "rc-primary" }, t.start);
      const rows = FIELDS.map(([name, type, auto]) => {
        const id = "rc-f-" + name, error = h("p", { class: "rc-error", id: id + "-e" });
        const long = type === "textarea", max = limits()[name];
        /* no maxlength on a message: it would cut a long paste without a word */
        const input = h(long ? "textarea" : "input", {
          id, name, type: long ? null : type, rows: long ? 4 : null,
          maxlength: long ? null : max, autocomplete: auto, required: true,
          "aria-describedby": id + "-e",
          oninput: () => { saveDraft(); if (input.getAttribute("aria-invalid")) check(name); }
        });
        const count = long ? counter(input, id) : null;
        fields[name] = { input, error, max, count };
        return h("div", { class: "rc-field" }, h("label", { for: id }, t[name]), input, count,
          error);
      });
      form = h("form", { class: "rc-form", novalidate: true, onsubmit: start },
        ordersEntry(), team(), greetingNote(), h("p", { class: "rc-intro" }, t.intro), ...rows,
        alert, button);
      form.fields = fields;
      form.alert = alert;
      form.button = button;
      prefill();
      chat = null;
      ctx.body.replaceChildren(form);
    }

    function prefill() {
      const who = ctx.customer() || {}, last = read(meKey, {}), draft = kept(draftKey) || {};
      const { name, email, subject, message } = form.fields;
      name.input.value = name.input.value || draft.name || who.name || last.name || "";
      email.input.value = who.email || email.input.value || draft.email || last.email || "";
      email.input.readOnly = !!(who.signature && who.email);
      subject.input.value = subject.input.value || draft.subject || "";
      message.input.value = message.input.value || draft.message || "";
      message.count.update();
    }
    function saveDraft() {
      const values = {};
      for (const name in form.fields) values[name] = form.fields[name].input.value;
      keep(draftKey, values);
    }

    /* Who answers: the online agents (first names, or initials; never an e-mail) and how
       soon the chat usually replies, from the config. Nothing when neither is known. */
    function team() {
      const cfg = ctx.config(), agents = (cfg.agents_online || []).slice(0, 3);
      const minutes = cfg.reply_minutes, lines = [];
      if (agents.length) {
        lines.push(fill(t.here, { names: agents.map((a) => a.name || a.initials).join(", ") }));
      }
      if (minutes) {
        lines.push(minutes < 90 ? fill(t.replies, { n: minutes })
          : fill(t.repliesH, { n: Math.round(minutes / 60) }));
      }
      if (!lines.length) return null;
      return h("div", { class: "rc-team" },
        ...agents.map((a) => h("span", { class: "rc-avatar", "aria-hidden": "true" }, a.initials)),
        h("p", {}, lines.join(" · ")));
    }

    /* "n of max characters" under a message field, from 80 % of the limit (red past it). */
    function counter(input, id) {
      const note = h("p", { class: "rc-count", id: id + "-c" });
      note.update = () => {
        const max = limits().message, n = input.value.trim().length;
        note.hidden = !max || n < max * 0.8;
        note.textContent = note.hidden ? "" : fill(t.count, { n, max });
        note.classList.toggle("rc-over", n > max);
        input.setAttribute("aria-describedby", id + "-e" + (note.hidden ? "" : " " + id + "-c"));
      };
      input.addEventListener("input", note.update);
      note.update();
      return note;
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
        language: ctx.language(), client_msg_id: newId(), context: visit()
      });
      if (greeting) values.proactive_id = greeting.id;
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
      keep(draftKey, null);
      write(tokenKey, { token: body.token });
      token = body.token;
      contextSent = JSON.stringify(values.context); /* it went with Start chat */
      showChat();
      take(body);
      live = true;
      connect();
      chat.input.focus();
      greeting = null; /* its chat is counted once */
      ctx.emit("start", { ticket: body.ticket.id });
    }

    /* --- the conversation ----------------------------------------------------------------- */
    function showChat() {
      const input = h("textarea", {
        id: "rc-compose", rows: 2, "aria-describedby": "rc-compose-e",
        oninput: () => { typing(); keep(composeKey, input.value); }, onkeydown: (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
        }
      });
      input.value = kept(composeKey) || "";
      chat = {
        status: h("p", { class: "rc-status", role: "status" }),
        log: h("ol", { class: "rc-log", role: "log", "aria-live": "polite",
          "aria-label": t.conversation }),
        typing: h("p", { class: "rc-typing", "aria-live": "polite" }),
        connection: h("p", { class: "rc-connection", role: "status" }),
        ended: h("div", { class: "rc-ended", hidden: true },
          h("p", { class: "rc-ended-text" }, t.ended),
          h("button", { type: "button", class: "rc-primary", onclick: restart }, t.newChat)),
        error: h("p", { class: "rc-error", id: "rc-compose-e" }),
        count: counter(input, "rc-compose"),
        input
      };
      chat.rating = h("div", { class: "rc-rating", hidden: true });
      ratingDrawn = "";
      ratingEditing = ratingThanks = false;
      chat.ended.insertBefore(chat.rating, chat.ended.lastChild);
      chat.composer = h("form", { class: "rc-composer", onsubmit: send },
        h("label", { for: "rc-compose", class: "rc-hidden" }, t.yourMessage), input,
        h("button", { type: "submit", class: "rc-primary" }, t.send), chat.count, chat.error);
      addFilePicker(chat);
      form = null;
      ctx.body.replaceChildren(ordersEntry(), team() || "", chat.status, chat.log, chat.typing,
        chat.connection, chat.ended, chat.composer);
      outbox.forEach(showPending);
    }

    function take(body) { /* a ticket summary and messages from an HTTP answer */
      ticket = body.ticket;
      agentName = ticket.agent_name;
      body.messages.forEach(add);
      showState();
      if (firstTake && ctx.isOpen()) place();
      firstTake = false;
      tally();
    }

    function showState() {
      if (!chat) return;
      /* ended: a message may still reopen it (within the server's window; never spam) */
      const ended = ENDED.includes(ticket.status), reopens = ended && ticket.reopenable;
      chat.ended.hidden = !ended;
      chat.ended.firstChild.textContent = reopens ? t.endedReopen : t.ended;
      chat.composer.hidden = ended && !reopens;
      chat.status.textContent = ended ? "" : agentName
        ? fill(t.chattingWith, { name: agentName }) : ticket.out_of_hours ? t.offHours : t.waiting;
      if (ended) chat.typing.textContent = "";
      showRating();
    }

    function add(m) {
      if (m.internal || bySeq.has(m.seq)) return;
      const mine = m.author_kind === "customer";
      const item = h("li", { class: "rc-msg rc-" + m.author_kind },
        m.author_kind === "system" ? null
          : h("span", { class: "rc-author" }, mine ? t.you : m.author_name),
        m.body ? h("p", { class: "rc-text" }, m.body) : null, filesOf(m),
        h("span", { class: "rc-meta" }, clock(m.created_at) + (mine ? " · " : ""),
          mine ? h("span", { class: "rc-state" }, m.seen ? t.seen : t.sent) : null));
      item.fromShop = m.author_kind === "agent" || m.author_kind === "automation";
      bySeq.set(m.seq, item);
      const waitingEntry = m.client_msg_id && pending.get(m.client_msg_id);
      if (waitingEntry) {
        waitingEntry.remove();
        pending.delete(m.client_msg_id);
        outbox = outbox.filter((entry) => entry.id !== m.client_msg_id);
        write(outboxKey, outbox);
      }
      const later = [...bySeq.keys()].filter((seq) => seq > m.seq).sort((a, b) => a - b)[0];
      const follow = atEnd();
      chat.log.insertBefore(item, later ? bySeq.get(later) : chat.log.querySelector(".rc-pending"));
      if (follow || mine) toEnd();
      lastSeq = Math.max(lastSeq, m.seq);
      if (!mine) {
        lastAgentSeq = Math.max(lastAgentSeq, m.seq);
        if (m.author_kind === "agent" && !agentName) agentName = m.author_name;
        if (live) ctx.emit("message", { author: m.author_name, body: m.body, seq: m.seq });
      }
    }

    /* The log follows new messages while the customer is at its end, not when they scrolled
       up to read; it opens at the first reply they have not seen, else at the end. */
    function atEnd() {
      const log = chat.log;
      return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    }
    function toEnd() { chat.log.scrollTop = chat.log.scrollHeight; }
    function place() {
      const first = [...bySeq.keys()].sort((a, b) => a - b)
        .find((seq) => seq > seen && bySeq.get(seq).fromShop);
      if (!first) return toEnd();
      const item = bySeq.get(first);
      chat.log.scrollTop += item.getBoundingClientRect().top -
        chat.log.getBoundingClientRect().top - 12;
    }

    /* Replies after the last one seen: seen now if the panel is open and the page shown, else
       counted on the launcher (replies that came while the customer was away included). */
    function tally() {
      if (ctx.isOpen() && !d.hidden) markSeen();
      let count = 0;
      bySeq.forEach((item, seq) => { count += seq > seen && item.fromShop; });
      if (count !== unread) ctx.unread(unread = count);
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
      toEnd();
    }

    function send(event) {
      event.preventDefault();
      const body = chat.input.value.trim(), max = limits().message;
      chat.error.textContent = body.length > max ? fill(t.tooLong, { n: max }) : "";
      if (!body || chat.error.textContent) return;
      const entry = { id: newId(), body };
      if (ENDED.includes(ticket.status)) { /* it reopens: no reply above "ended" */
        ticket.status = "open";
        showState();
      }
      outbox.push(entry);
      write(outboxKey, outbox);
      showPending(entry);
      chat.input.value = "";
      keep(composeKey, null);
      chat.count.update();
      stopTyping();
      transmit(entry);
    }
    function transmit(entry) {
      emitFrame({ type: "send", body: entry.body, client_msg_id: entry.id });
    }
    function emitFrame(frame) {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
    }

    function typing() { /* said again every few seconds: the agent's line fades after 8 s */
      if (!typingSent || Date.now() - typingSent > TYPING_IDLE) {
        emitFrame({ type: "typing", typing: true });
        typingSent = Date.now();
      }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, TYPING_IDLE);
    }
    function stopTyping() {
      clearTimeout(typingTimer);
      if (typingSent) emitFrame({ type: "typing", typing: false });
      typingSent = 0;
    }

    function markSeen() {
      if (lastAgentSeq > seen) write(seenKey, seen = lastAgentSeq);
      if (seen > seenSent && socket && socket.readyState === 1) {
        seenSent = seen;
        emitFrame({ type: "seen", seq: seen });
      }
    }

    function receive(event) {
      let e;
      try { e = JSON.parse(event.data); } catch (err) { return; }
      if (e.type === "ping") return emitFrame({ type: "pong" }); /* still here: not idle */
      if (e.type === "message") { add(e); tally(); }
      else if (e.type === "status") {
        ticket.status = e.status;
        ticket.reopenable = e.reopenable;
      }
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
      } else if (e.type === "error" && e.error === "ended") { /* too late to reopen it */
        const entry = outbox.find((item) => item.id === e.client_msg_id);
        outbox = outbox.filter((item) => item !== entry);
        write(outboxKey, outbox);
        if (pending.has(e.client_msg_id)) pending.get(e.client_msg_id).remove();
        pending.delete(e.client_msg_id);
        if (entry) keep(draftKey, { message: entry.body }); /* for the new chat's form */
      } else if (e.type === "error" && e.error === "rate_limited") {
        setTimeout(() => outbox.forEach(transmit), (e.retry_after || 5) * 1000);
      }
      showState();
    }

    /* --- rating after the chat ------------------------------------------------------------ */
    /* Once the ticket is solved or closed: five choices, a comment, "Send rating"; then the
       rating given, with "Change rating" while the server still allows it. Drawn again only
       when what it shows changes (events redraw the state often: a half-typed comment stays). */
    let ratingEditing = false, ratingThanks = false, ratingDrawn = "";
    function showRating() {
      const r = ticket && ticket.rating, shown = !!ticket && RATED.includes(ticket.status);
      const mode = !shown ? "" : ratingEditing || !r ? "form" : "done";
      const key = JSON.stringify([mode, r, ratingThanks]);
      chat.rating.hidden = !shown;
      if (key === ratingDrawn) return;
      ratingDrawn = key;
      chat.rating.replaceChildren(...(mode === "form" ? ratingForm(r) : mode ? ratingDone(r) : []));
    }
    function ratingDone(r) {
      const rt = RATING_STRINGS[ctx.language()] || RATING_STRINGS.en;
      const changeable = r.changeable && Date.parse(r.changeable_until) > Date.now();
      return [
        ratingThanks ? h("p", { class: "rc-rating-thanks", role: "status" }, rt.thanks) : null,
        h("p", { class: "rc-rating-given" }, fill(rt.rated, { n: r.score })),
        r.comment ? h("blockquote", { class: "rc-rating-comment" }, r.comment) : null,
        changeable ? h("button", { type: "button", class: "rc-link", onclick: () => {
          ratingEditing = true;
          ratingThanks = false;
          showRating();
          chat.rating.querySelector("[aria-pressed=true]").focus();
        } }, rt.change) : null
      ].filter(Boolean);
    }
    function ratingForm(r) {
      const rt = RATING_STRINGS[ctx.language()] || RATING_STRINGS.en;
      const max = limits().rating_comment || 1000;
      const error = h("p", { class: "rc-error", id: "rc-rate-e", role: "alert" });
      let picked = r ? r.score : 0;
      const choose = (n) => {
        picked = n;
        if (n) error.textContent = "";
        stars.forEach((star, i) => {
          star.setAttribute("aria-pressed", String(i + 1 === n));
          star.classList.toggle("rc-on", i < n);
        });
      };
      const stars = [1, 2, 3, 4, 5].map((n) => h("button", {
        type: "button", class: "rc-star", "aria-label": fill(rt.outOf, { n }),
        "aria-pressed": "false", onclick: () => choose(n)
      }, "★"));
      const comment = h("textarea", { id: "rc-rate-comment", rows: 2,
        "aria-describedby": "rc-rate-e" });
      comment.value = r ? r.comment : "";
      const button = h("button", { type: "submit", class: "rc-primary" }, rt.send);
      const onsubmit = (e) => {
        e.preventDefault();
        const text = comment.value.trim();
        error.textContent = !picked ? rt.choose
          : text.length > max ? fill(t.tooLong, { n: max }) : "";
        if (error.textContent) return (picked ? comment : stars[0]).focus();
        button.disabled = true;
        sendRating(picked, text, error).finally(() => { button.disabled = false; });
      };
      choose(picked);
      return [h("form", { class: "rc-rating-form", novalidate: true, onsubmit },
        h("fieldset", {}, h("legend", {}, rt.ask), h("div", { class: "rc-stars" }, ...stars)),
        h("label", { for: "rc-rate-comment", class: "rc-rating-label" }, rt.comment), comment,
        error, button)];
    }
    function sendRating(score, comment, error) {
      return fetch(api + "tickets/rating", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
        body: JSON.stringify({ score, comment })
      }).then((response) => response.json().then((body) => {
        if (response.ok) {
          ticket.rating = body.rating;
          ratingEditing = false;
          ratingThanks = true;
          showRating();
          return;
        }
        const errors = body.errors || {};
        error.textContent = response.status === 429
          ? fill(t.tooMany, { n: response.headers.get("Retry-After") || 60 })
          : [].concat(errors.score || [], errors.comment || [], errors._request || []).join(" ")
            || t.network;
        if (response.status === 409) { /* read-only by now: show it as given */
          ratingEditing = false;
          resume();
        }
      })).catch(() => { error.textContent = t.network; });
    }

    /* --- My orders ------------------------------------------------------------------------------
       A verified customer's recent orders, with tracking, and "Ask about this order", "Cancel"
       and "Return" (each opens or continues the conversation with the order attached). The
       address is verified by the shop (setCustomer's signature, or its own login when the
       widget runs on its pages) or by a one-time code e-mailed to it. The access token lives
       in this tab's sessionStorage. */
    const ordersKey = tokenKey + ":orders";
    let ordersView = null, behind = null; /* the form or conversation, kept while away */

    function ordersEntry() { /* offered when the shop's orders are connected */
      if (!ctx.config().my_orders) return "";
      return h("div", { class: "rc-orders-entry" },
        h("button", { type: "button", class: "rc-link", onclick: myOrders }, t.myOrders));
    }

    function ordersPanel(...children) {
      if (!ordersView) behind = [...ctx.body.childNodes];
      ordersView = h("div", { class: "rc-orders-view" },
        h("button", { type: "button", class: "rc-link", onclick: leaveOrders }, t.back),
        h("h3", { class: "rc-orders-title", tabindex: "-1" }, t.myOrders), ...children);
      ctx.body.replaceChildren(ordersView);
      return ordersView;
    }

    function leaveOrders() {
      ordersView = null;
      ctx.body.replaceChildren(...(behind || []));
      behind = null;
      if (chat) toEnd();
      const entry = ctx.body.querySelector(".rc-orders-entry button");
      if (entry) entry.focus();
    }

    function ordersCall(path, options) {
      return fetch(api + path, options).then((response) => response.json().catch(() => ({}))
        .then((body) => ({ status: response.status, ok: response.ok, body,
          retry: response.headers.get("Retry-After") })));
    }
    const postJson = (body, access) => ({
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" },
        access ? { Authorization: "Bearer " + access } : {}),
      body: JSON.stringify(body)
    });
    const failure = (answer, fallback) => answer.status === 429
      ? fill(t.tooMany, { n: answer.retry || 60 }) : answer.status === 503 ? t.noCodes
        : fallback || t.network;

    function myOrders() {
      const held = kept(ordersKey);
      if (held && held.access) return listOrders(held.access);
      const who = ctx.customer() || {}, last = read(meKey, {});
      const email = who.email || last.email || "";
      /* only the shop can vouch: a signature, or its login when this page is the shop's own */
      const own = new URL(ctx.root, location.href).origin === location.origin;
      if (!email || !(who.signature || own)) return askForCode(email);
      const busy = ordersPanel(h("p", { class: "rc-status", role: "status" }, t.loading));
      /* the shop may vouch for the address: its signature, or its login on its own pages */
      ordersCall(encodeURIComponent(ctx.key) + "/orders/access",
        postJson({ email, signature: who.email === email ? who.signature : undefined }))
        .then((answer) => {
          if (ordersView !== busy) return;
          if (answer.ok) return granted(answer.body);
          askForCode(email);
        }).catch(() => askForCode(email));
    }
    function granted(body) {
      keep(ordersKey, { access: body.access, email: body.email });
      listOrders(body.access);
    }

    function field(id, label, attrs) {
      const error = h("p", { class: "rc-error", id: id + "-e" });
      const input = h("input", Object.assign({ id, "aria-describedby": id + "-e", required: true },
        attrs));
      return { input, error, row: h("div", { class: "rc-field" }, h("label", { for: id }, label),
        input, error) };
    }

    function askForCode(email) {
      const mail = field("rc-o-email", t.email, { type: "email", autocomplete: "email" });
      mail.input.value = email;
      const alert = h("p", { class: "rc-alert", role: "alert" });
      const button = h("button", { type: "submit", class: "rc-primary" }, t.sendCode);
      const verifyForm = h("form", { class: "rc-form", novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        const value = mail.input.value.trim();
        const wrong = !value ? t.required : !EMAIL.test(value) ? t.badEmail : "";
        mail.error.textContent = wrong;
        if (wrong) { mail.input.setAttribute("aria-invalid", "true"); return mail.input.focus(); }
        mail.input.removeAttribute("aria-invalid");
        button.disabled = true;
        ordersCall(encodeURIComponent(ctx.key) + "/orders/code",
          postJson({ email: value, language: ctx.language() }))
          .then((answer) => {
            if (answer.ok) return enterCode(value);
            const errors = answer.body.errors || {};
            if (errors.email) {
              mail.error.textContent = t.badEmail;
              mail.input.setAttribute("aria-invalid", "true");
            } else alert.textContent = failure(answer);
          }).catch(() => { alert.textContent = t.network; })
          .finally(() => { button.disabled = false; });
      } }, h("p", { class: "rc-intro" }, t.verifyIntro), mail.row, alert, button);
      ordersPanel(verifyForm);
      mail.input.focus();
    }

    function enterCode(email) {
      const code = field("rc-o-code", t.code, { inputmode: "numeric", autocomplete: "one-time-code",
        maxlength: 6 });
      const alert = h("p", { class: "rc-alert", role: "alert" });
      const button = h("button", { type: "submit", class: "rc-primary" }, t.confirm);
      const again = h("button", { type: "button", class: "rc-link",
        onclick: () => askForCode(email) }, t.newCode);
      const codeForm = h("form", { class: "rc-form", novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        const value = code.input.value.replace(/\s+/g, "");
        const wrong = !value ? t.required : !/^[0-9]{6}$/.test(value) ? t.badCode : "";
        code.error.textContent = wrong;
        if (wrong) { code.input.setAttribute("aria-invalid", "true"); return code.input.focus(); }
        code.input.removeAttribute("aria-invalid");
        button.disabled = true;
        ordersCall(encodeURIComponent(ctx.key) + "/orders/verify", postJson({ email, code: value }))
          .then((answer) => {
            if (answer.ok) return granted(answer.body);
            if (answer.status === 422) {
              code.error.textContent = t.badCode;
              code.input.setAttribute("aria-invalid", "true");
              code.input.focus();
            } else alert.textContent = failure(answer);
          }).catch(() => { alert.textContent = t.network; })
          .finally(() => { button.disabled = false; });
      } }, h("p", { class: "rc-intro", role: "status" }, fill(t.codeSent, { email })), code.row,
        alert, button, again);
      ordersPanel(codeForm);
      code.input.focus();
    }

    function listOrders(access) {
      const status = h("p", { class: "rc-status", role: "status" }, t.loading);
      const view = ordersPanel(status);
      ordersCall("orders", { headers: { Authorization: "Bearer " + access } }).then((answer) => {
        if (ordersView !== view) return;
        if (answer.status === 401) { keep(ordersKey, null); return myOrders(); }
        if (!answer.ok) { status.textContent = failure(answer); return; }
        const orders = answer.body.orders || [];
        status.textContent = answer.body.refresh_failed ? t.stale : "";
        const list = h("ol", { class: "rc-my-orders", "aria-label":
          fill(t.ordersOf, { email: answer.body.email }) }, ...orders.map((o) => orderItem(o, access)));
        view.append(orders.length ? list : h("p", { class: "rc-intro" }, t.none));
        view.querySelector(".rc-orders-title").focus();
      }).catch(() => { status.textContent = t.network; });
    }

    function orderItem(order, access) {
      const id = "rc-order-" + order.id, n = order.number;
      const parcel = order.tracking;
      const tracking = !parcel ? null : parcel.url
        ? h("a", { href: parcel.url, target: "_blank", rel: "noopener noreferrer",
          class: "rc-track" }, fill(t.track, { carrier: parcel.carrier }))
        : h("p", { class: "rc-parcel" }, fill(t.parcel, { n: parcel.number }));
      const alert = h("p", { class: "rc-alert", role: "alert" });
      const act = (request, label) => h("button", {
        type: "button", class: request === "ask" ? "rc-primary" : "rc-secondary",
        "aria-label": fill(t[label], { n }),
        onclick: (event) => orderRequest(order, request, access, event.currentTarget, alert)
      }, t[request]);
      return h("li", { class: "rc-my-order", "aria-labelledby": id },
        h("h4", { id }, fill(t.order, { n })),
        h("p", { class: "rc-order-line" }, [order.date, order.status].filter(Boolean).join(" · ")),
        h("ul", { class: "rc-order-items" }, ...order.products.map((p) =>
          h("li", {}, p.quantity + " × " + p.name))),
        h("p", { class: "rc-order-line" }, t.total + ": " + order.total + " " + order.currency),
        tracking,
        h("div", { class: "rc-order-actions" }, act("ask", "askLabel"),
          act("cancel", "cancelLabel"), act("return", "returnLabel")),
        alert);
    }

    function orderRequest(order, request, access, button, alert) {
      const who = ctx.customer() || {}, last = read(meKey, {});
      const values = { request, ticket_token: token || undefined, language: ctx.language(),
        name: (who.name || last.name || "").slice(0, 100) || undefined,
        client_msg_id: newId(), page_url: location.href.slice(0, 2000),
        page_title: d.title.slice(0, 300) };
      button.disabled = true;
      ordersCall("orders/" + order.id + "/request", postJson(values, access)).then((answer) => {
        if (answer.status === 401) { keep(ordersKey, null); return myOrders(); }
        if (!answer.ok) { alert.textContent = failure(answer); return; }
        const body = answer.body;
        if (body.continued && chat) { /* the conversation going on: back to it */
          leaveOrders(); /* same ticket: the token held still reaches it */
          take(body);
          return chat.input.focus();
        }
        ordersView = behind = null;
        if (token) forget();
        begin(body, { name: body.ticket.customer_name, email: body.ticket.customer_email });
      }).catch(() => { alert.textContent = t.network; })
        .finally(() => { button.disabled = false; });
    }

    /* --- files: a button, drag and drop, pasted images; each upload with its progress and a
       Cancel. One request per message (its files), an XMLHttpRequest for upload progress. -- */
    function addFilePicker(c) {
      const picker = h("input", { type: "file", id: "rc-file", multiple: true, class: "rc-hidden",
        tabindex: "-1", "aria-hidden": "true",
        onchange: () => { upload([...picker.files]); picker.value = ""; } });
      c.attach = h("button", { type: "button", class: "rc-attach", "aria-label": t.attach,
        title: t.attach, onclick: () => picker.click() }, clipIcon());
      c.composer.insertBefore(c.attach, c.input);
      c.composer.append(picker);
      c.input.addEventListener("paste", (event) => {
        const files = [...((event.clipboardData || {}).files || [])];
        if (files.length) { event.preventDefault(); upload(files); }
      });
    }
    function clipIcon() { /* a paper clip, drawn: no emoji font needed */
      const ns = "http://www.w3.org/2000/svg", svg = d.createElementNS(ns, "svg");
      const path = d.createElementNS(ns, "path");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      path.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5");
      svg.append(path);
      return svg;
    }
    function draggingFiles(event) {
      return chat && !chat.composer.hidden && event.dataTransfer &&
        [...event.dataTransfer.types].includes("Files");
    }
    ctx.panel.addEventListener("dragover", (event) => {
      if (!draggingFiles(event)) return;
      event.preventDefault();
      ctx.panel.classList.add("rc-dropping");
      chat.log.setAttribute("data-drop", t.dropHere);
    });
    ctx.panel.addEventListener("dragleave", (event) => {
      if (!ctx.panel.contains(event.relatedTarget)) ctx.panel.classList.remove("rc-dropping");
    });
    ctx.panel.addEventListener("drop", (event) => {
      ctx.panel.classList.remove("rc-dropping");
      if (!draggingFiles(event)) return;
      event.preventDefault();
      upload([...event.dataTransfer.files]);
    });

    function upload(files) {
      if (!files.length || !token || !chat) return;
      const names = files.map((f) => f.name || "image").join(", ");
      const bar = h("progress", { max: 100, value: 0, role: "progressbar",
        "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0,
        "aria-label": fill(t.uploading, { name: names }) });
      const xhr = new XMLHttpRequest();
      const item = h("li", { class: "rc-msg rc-customer rc-uploading" },
        h("span", { class: "rc-author" }, t.you), h("p", { class: "rc-text" }, names), bar,
        h("button", { type: "button", class: "rc-cancel", onclick: () => {
          xhr.abort(); item.remove(); chat.input.focus();
        } }, t.cancel));
      chat.log.append(item);
      toEnd();
      const data = new FormData();
      files.forEach((file) => data.append("files", file, file.name || "image"));
      data.append("client_msg_id", newId());
      xhr.open("POST", api + "tickets/attachments");
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.upload.onprogress = (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.round(100 * event.loaded / event.total);
        bar.value = percent;
        bar.setAttribute("aria-valuenow", percent);
      };
      xhr.onload = () => {
        item.remove();
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
        if (xhr.status < 300 && body.message) { add(body.message); tally(); return; }
        const errors = body.errors || {};
        chat.error.textContent = xhr.status === 429
          ? fill(t.tooMany, { n: xhr.getResponseHeader("Retry-After") || 60 })
          : (errors.files || errors._request || [t.uploadFailed]).join(" ");
      };
      xhr.onerror = () => { item.remove(); chat.error.textContent = t.uploadFailed; };
      chat.error.textContent = "";
      xhr.send(data);
    }

    function safeUrl(url) { /* only the server's own http(s) links go into src or href */
      try {
        const parsed = new URL(url, ctx.root);
        return /^https?:$/.test(parsed.protocol) ? parsed.href : null;
      } catch (e) { return null; }
    }
    function size(bytes) {
      return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB"
        : Math.max(1, Math.round(bytes / 1024)) + " KB";
    }
    function filesOf(m) {
      if (!m.attachments || !m.attachments.length) return null;
      return h("ul", { class: "rc-files" }, ...m.attachments.map((file) => {
        const url = safeUrl(file.url), thumb = file.thumbnail_url && safeUrl(file.thumbnail_url);
        if (!url) return null;
        if (file.image && thumb) {
          return h("li", {}, h("a", { href: url, target: "_blank", rel: "noopener" },
            h("img", { src: thumb, alt: file.name, class: "rc-thumb", loading: "lazy" })));
        }
        return h("li", {}, h("a", { href: url, download: file.name, rel: "noopener",
          class: "rc-file" }, file.name), h("span", { class: "rc-size" }, " " + size(file.size)));
      }));
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
      lastSeq = lastAgentSeq = seen = seenSent = unread = 0;
      firstTake = true;
      outbox = [];
      bySeq.clear();
      pending.clear();
      write(tokenKey, null);
      write(outboxKey, null);
      write(seenKey, null);
      keep(composeKey, null);
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
      seen = token ? read(seenKey, 0) : 0;
      if (!token) return showForm();
      showChat();
      resume();
    }

    function page() {
      emitFrame({ type: "page", url: location.href.slice(0, 2000), title: d.title.slice(0, 300) });
      shareContext();
    }

    /* --- the e-mail link's token hand-over (mail/links.py): #rc-continue-<key>=<token> ---- */
    function takeLink() {
      const hop = RegExp("rc-continue-" + ctx.key + "=([^&]+)").exec(location.hash);
      if (!hop) return false;
      write(tokenKey, { token: hop[1] });
      write(outboxKey, null);
      history.replaceState(0, "", location.pathname + location.search);
      return true;
    }

    /* --- the shop's context: the visit's trail (kept by the loader) and tracked events ---- */
    const trailKey = "rc:trail:" + ctx.key, eventsKey = "rc:events:" + ctx.key;
    const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/, CONTEXT_EVERY = 10000;
    const CONTEXT_SETTLE = 1000;
    let contextSent = "", contextTimer = 0, contextAt = 0;
    function visit() { /* {trail, events} as schemas/context.py takes them */
      const iso = (ms) => new Date(ms).toISOString();
      const pages = read(trailKey, []).slice(-20) /* a reload is not a new page */
        .filter((page, i, all) => !i || page[0] !== all[i - 1][0]);
      return {
        trail: pages.map(([path, title, at]) =>
          ({ path: String(path).slice(0, 300), title: String(title).slice(0, 200), at: iso(at) })),
        events: read(eventsKey, []).slice(-20).map(([event, data, at]) =>
          ({ event, data, at: iso(at) }))
      };
    }
    function trackable(name, data) { /* a short identifier and a small flat object */
      if (typeof name !== "string" || !EVENT_NAME.test(name)) return "the event name";
      if (data == null) return "";
      if (typeof data !== "object" || Array.isArray(data)) return "data: not an object";
      const keys = Object.keys(data);
      if (keys.length > 20) return "data: over 20 keys";
      if (keys.some((k) => !EVENT_NAME.test(k) || (data[k] !== null &&
        !["string", "number", "boolean"].includes(typeof data[k])))) return "data: not flat";
      return JSON.stringify(data).length > 1024 ? "data: over 1 KB" : "";
    }
    function track() { /* the calls the loader queued: checked, kept, shared, may greet */
      const events = read(eventsKey, []), names = [];
      write(ctx.queueKey, null);
      ctx.queue.splice(0).forEach(([name, data, at]) => {
        const wrong = trackable(name, data);
        if (wrong) return console.warn("ResponsoChat.track refused: " + wrong);
        events.push([name, data || {}, at]);
        names.push(name);
      });
      if (!names.length) return;
      write(eventsKey, events.slice(-20));
      shareContext();
      names.forEach((name) => proactive(name));
    }
    /* While connected to a chat: a second after a page view settles (the customer may be
       leaving, or going offline), at most every 10 s, only what changed (the cart is read
       by the server on each send, so a page load sends once). */
    function shareContext() {
      clearTimeout(contextTimer);
      if (!token) return;
      contextTimer = setTimeout(sendContext, Math.max(CONTEXT_SETTLE,
        contextAt + CONTEXT_EVERY - Date.now()));
    }
    function sendContext() {
      const body = JSON.stringify(visit());
      if (!token || !socket || socket.readyState !== 1 || navigator.onLine === false ||
        body === contextSent) return;
      contextAt = Date.now();
      fetch(api + "tickets/context", {
        method: "POST", body,
        headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" }
      }).then((response) => { if (response.ok) contextSent = body; }).catch(() => {});
    }

    /* --- proactive greetings (config.proactive): a bubble beside the launcher ------------- */
    const greetKey = "rc:greeted:" + ctx.key;
    const CLOSE_GREETING = { en: "Close greeting", fr: "Fermer le message",
      pl: "Zamknij powitanie" };
    let greeting = null, bubble = null, greetTimers = [];
    let pageStart = Date.now() - Math.round(w.performance ? performance.now() : 0);
    const today = () => new Date().toDateString();
    function greetedToday() {
      const done = read(greetKey, {});
      return done.day === today() ? done.n || 0 : 0;
    }
    function mayGreet() { /* no chat going on, none shown on this page, the launcher shown */
      const cfg = ctx.config() || {};
      return !token && !bubble && !ctx.isOpen() && ctx.shown() &&
        greetedToday() < (cfg.proactive_per_day == null ? 1 : cfg.proactive_per_day);
    }
    /* A page (navigated: a new one) or a tracked event: wait for the greetings whose
       path and event hold, for their seconds on the page; the cart is asked for last. */
    function proactive(eventName, navigated) {
      const list = (ctx.config() || {}).proactive || [];
      if (eventName == null) greetTimers.splice(0).forEach(clearTimeout);
      if (navigated) pageStart = Date.now();
      if (!list.length || !mayGreet()) return;
      const tracked = read(eventsKey, []).map((entry) => entry[0]);
      list.forEach((item) => {
        if (eventName != null && item.event !== eventName) return;
        if (item.path && !ctx.covers(item.path, location.pathname)) return;
        if (item.event && !tracked.includes(item.event)) return;
        const wait = Math.max(0, pageStart + item.delay * 1000 - Date.now());
        greetTimers.push(setTimeout(() => cartHolds(item, () => greet(item)), wait));
      });
    }
    function cartHolds(item, then) {
      if (item.min_cart == null) return then();
      fetch(api + encodeURIComponent(ctx.key) + "/cart", { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : {}))
        .then((cart) => {
          if (cart.total != null && Number(cart.total) >= Number(item.min_cart)) then();
        }).catch(() => {});
    }
    function greet(item) {
      if (!mayGreet()) return;
      const close = h("button", { type: "button", class: "rc-greet-x",
        "aria-label": CLOSE_GREETING[ctx.language()] || CLOSE_GREETING.en }, "×");
      bubble = h("div", { class: "rc-greet" },
        h("button", { type: "button", class: "rc-greet-open", onclick: () => answer(item) },
          h("strong", {}, item.sender), h("span", {}, item.text)), close);
      close.onclick = () => { bubble.remove(); ctx.shadow.querySelector(".l").focus(); };
      ctx.panel.parentNode.append(bubble);
      write(greetKey, { day: today(), n: greetedToday() + 1 });
      beacon(item, "shown");
    }
    function answer(item) { /* the greeting opens the chat as the agent's first message */
      greeting = item;
      bubble.remove();
      beacon(item, "opened");
      if (form) showForm();
      ctx.open();
    }
    function beacon(item, what) {
      fetch(api + encodeURIComponent(ctx.key) + "/proactive/" + item.id + "/" + what,
        { method: "POST", keepalive: true }).catch(() => {});
    }
    function greetingNote() { /* above the form; once started, the server's first message */
      if (!greeting) return null;
      return h("div", { class: "rc-msg rc-agent rc-greeting" },
        h("span", { class: "rc-author" }, greeting.sender),
        h("p", { class: "rc-text" }, greeting.text));
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
    d.addEventListener("visibilitychange", () => { if (chat) tally(); });
    if (w.visualViewport) w.visualViewport.addEventListener("resize", fitToViewport);
    w.addEventListener("storage", (event) => { /* another tab started or left a chat */
      if (event.key !== tokenKey) return;
      const saved = read(tokenKey, null);
      if ((saved && saved.token) === token) return;
      if (token) forget();
      boot();
    });
    const linked = takeLink();
    boot();
    if (linked) ctx.open();
    track();
    proactive();

    return {
      opened() {
        fitToViewport();
        if (bubble) bubble.remove();
        if (ordersView) return ordersView.querySelector(".rc-orders-title").focus();
        if (chat) {
          place();
          tally();
        }
        const target = form
          ? FIELDS.map(([name]) => form.fields[name].input).find((input) => !input.value)
          : chat.composer.hidden ? chat.ended.lastChild : chat.input;
        (target || form.button).focus();
      },
      page() { page(); proactive(null, true); },
      track,
      customer() { if (form) prefill(); }
    };
  }
})(window, document);
