/* Responso Chat — the agents' inbox: live list, conversation, composer and side panel.
 *
 * Plain JS, no build step. User text is only ever written with textContent. Every change is a
 * fetch with the page's CSRF token (header X-CSRFToken); without JS the same forms still post
 * (and the side panel's Set buttons, hidden with JS, apply its lists).
 */
(function () {
  "use strict";

  var desk = document.getElementById("rc-desk");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  /* ---- small helpers ------------------------------------------------------------------ */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatTime(date) {
    var now = new Date();
    var time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (date.toDateString() === now.toDateString()) return time;
    return date.toLocaleDateString([], { day: "numeric", month: "short" }) + " " + time;
  }

  function timeElement(iso) {
    var node = el("time");
    node.dateTime = iso;
    node.setAttribute("data-rc-local", "");
    localizeTime(node);
    return node;
  }

  function localizeTime(node) {
    var date = new Date(node.dateTime);
    if (isNaN(date)) return;
    node.textContent = formatTime(date);
    node.title = date.toLocaleString();
  }

  function localizeTimes(root) {
    root.querySelectorAll("time[data-rc-local]").forEach(localizeTime);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  /** POST with the CSRF header; resolves to {ok, status, data} (data: parsed JSON or {}). */
  function post(url, body, isJson) {
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf };
    if (isJson) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: isJson ? JSON.stringify(body) : body,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function fetchDocument(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  function errorText(errors) {
    var parts = [];
    Object.keys(errors || {}).forEach(function (key) {
      var value = errors[key];
      parts.push(Array.isArray(value) ? value.join(" ") : String(value));
    });
    return parts.join(" ") || "That did not work. Try again.";
  }

  localizeTimes(document);
  if (!desk) return;
  document.documentElement.classList.add("rc-js");

  var ticketId = Number(desk.dataset.ticketId) || null;
  var lastSeq = Number(desk.dataset.lastSeq) || 0;
  var toasts = document.getElementById("rc-toasts");

  function toast(text, href) {
    if (!toasts) return;
    var box = el("div", "rc-toast");
    box.appendChild(document.createTextNode(text + " "));
    if (href) {
      var link = el("a", null, "Open");
      link.href = href;
      box.appendChild(link);
    }
    toasts.appendChild(box);
    setTimeout(function () { box.remove(); }, 8000);
  }

  /* ---- notifications: sound + browser notification for new chats (off by default) ------ */

  var NOTIFY_KEY = "responsoChat.notifyNewChats";
  var audio = null;

  function notifyEnabled() {
    try { return localStorage.getItem(NOTIFY_KEY) === "on"; } catch (e) { return false; }
  }

  function setupNotifyToggle() {
    var toggle = document.getElementById("rc-notify-toggle");
    if (!toggle) return;
    toggle.closest(".rc-notify").hidden = false;
    toggle.checked = notifyEnabled();
    toggle.addEventListener("change", function () {
      try { localStorage.setItem(NOTIFY_KEY, toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      if (toggle.checked) {
        audio = audio || (window.AudioContext ? new AudioContext() : null);
        if (window.Notification && Notification.permission === "default") {
          Notification.requestPermission();
        }
      }
    });
  }

  function beep() {
    audio = audio || (window.AudioContext ? new AudioContext() : null);
    if (!audio) return;
    if (audio.state === "suspended") audio.resume();
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.3);
  }

  function announce(title, body, href) {
    if (!notifyEnabled()) return;
    beep();
    if (window.Notification && Notification.permission === "granted") {
      var note = new Notification(title, { body: body, tag: href });
      note.onclick = function () { window.focus(); location.href = href; };
    }
  }

  /* ---- the live list --------------------------------------------------------------------- */

  var watching = new Set();
  var newTickets = [];
  var listTimer = null;

  function readWatching(list) {
    watching = new Set((list.dataset.watching || "").split(",").filter(Boolean).map(Number));
  }

  function scheduleListRefresh() {
    clearTimeout(listTimer);
    listTimer = setTimeout(refreshList, 300);
  }

  function refreshList() {
    var list = document.getElementById("rc-list");
    if (!list) return;
    fetchDocument(list.dataset.fragmentUrl).then(function (doc) {
      var fresh = doc.getElementById("rc-list");
      if (!fresh) return;
      fresh.querySelectorAll(".rc-count[data-view]").forEach(function (count) {
        var mine = list.querySelector('.rc-count[data-view="' + count.dataset.view + '"]');
        if (mine) mine.textContent = count.textContent;
      });
      list.dataset.watching = fresh.dataset.watching;
      readWatching(list);
      if (list.dataset.firstPage === "true") {
        var rows = document.getElementById("rc-list-rows");
        var freshRows = doc.getElementById("rc-list-rows");
        rows.replaceWith(document.importNode(freshRows, true));
        localizeTimes(document.getElementById("rc-list-rows"));
      }
      announceNewTickets(doc);
    }).catch(function () { /* the next event or reconnection refreshes again */ });
  }

  function announceNewTickets(doc) {
    var ids = newTickets;
    newTickets = [];
    ids.forEach(function (id) {
      var row = doc.querySelector('li[data-ticket-id="' + id + '"] a');
      if (!row) return;
      var who = row.querySelector(".rc-row-customer");
      var subject = row.querySelector(".rc-row-subject");
      announce("New chat: " + (who ? who.textContent : "#" + id),
               subject ? subject.textContent : "", row.getAttribute("href"));
    });
  }

  function onInboxEvent(event) {
    if (event.event === "created") newTickets.push(event.ticket_id);
    if (event.event === "activity" && watching.has(event.ticket_id) &&
        event.ticket_id !== ticketId) {
      var href = desk.dataset.ticketUrl.replace(/\/0$/, "/" + event.ticket_id);
      toast("New message on ticket #" + event.ticket_id + ", which you watch.", href);
    }
    if (event.event === "changed" && event.ticket_id === ticketId) schedulePanelRefresh();
    scheduleListRefresh();
  }

  /* ---- a ticket transferred to this agent (or their team): told at once ------------------- */

  function onTransferred(event) {
    var href = desk.dataset.ticketUrl.replace(/\/0$/, "/" + event.ticket_id);
    var text = event.by + " transferred ticket #" + event.ticket_id +
      (event.team ? " to your team " + event.team : " to you") +
      (event.note ? ": " + event.note : ".");
    toast(text, event.ticket_id === ticketId ? null : href);
    if (event.ticket_id === ticketId) schedulePanelRefresh();
    scheduleListRefresh();
  }

  /* ---- the conversation -------------------------------------------------------------------- */

  var messageList = document.getElementById("rc-messages");
  var typingLine = document.getElementById("rc-typing");
  var composer = document.getElementById("rc-composer");
  var seqs = new Set();
  var lastCustomerSeq = 0;
  var typingTimers = {};
  var typingNames = {};

  function buildMessage(m) {
    var li = el("li", "rc-msg rc-msg-" + m.author_kind + (m.internal ? " rc-msg-internal" : ""));
    if (m.seq) li.dataset.seq = m.seq;
    if (m.client_msg_id) li.dataset.clientId = m.client_msg_id;
    if (m.author_kind === "system") {
      var line = el("p", "rc-msg-line");
      line.appendChild(el("span", "rc-msg-body", m.body));
      line.appendChild(document.createTextNode(" · "));
      line.appendChild(timeElement(m.created_at));
      if (m.internal) {
        line.appendChild(document.createTextNode(" "));
        line.appendChild(el("span", "rc-msg-flag", "only agents see this"));
      }
      li.appendChild(line);
      return li;
    }
    var meta = el("p", "rc-msg-meta");
    var author = m.author_kind === "automation" ?
      "Automation" + (m.author_name ? " · " + m.author_name : "") :
      (m.author_name || m.author_kind);
    meta.appendChild(el("span", "rc-msg-author", author));
    if (m.internal) meta.appendChild(el("span", "rc-msg-flag", "Internal note"));
    var source = { email: "by e-mail", greeting: "proactive greeting" }[m.source];
    if (source) meta.appendChild(el("span", "rc-msg-flag rc-msg-source", source));
    meta.appendChild(timeElement(m.created_at));
    li.appendChild(meta);
    if (m.body) li.appendChild(el("div", "rc-msg-body", m.body));
    var files = window.rcInboxFiles && window.rcInboxFiles.render(m); /* inbox_files.js */
    if (files) li.appendChild(files);
    if (m.author_kind === "agent" && !m.internal) {
      li.appendChild(el("p", "rc-msg-state", m.seen ? "Seen" : "Sent"));
    }
    return li;
  }

  function nearBottom() {
    return messageList.scrollHeight - messageList.scrollTop - messageList.clientHeight < 120;
  }

  function scrollToEnd() { messageList.scrollTop = messageList.scrollHeight; }

  function addMessage(m) {
    if (!messageList || m.ticket_id !== ticketId || seqs.has(m.seq)) return;
    var stick = nearBottom();
    var pending = m.client_msg_id ?
      messageList.querySelector('li[data-client-id="' + CSS.escape(m.client_msg_id) + '"]') :
      null;
    var li = buildMessage(m);
    if (pending) pending.replaceWith(li); else messageList.appendChild(li);
    seqs.add(m.seq);
    lastSeq = Math.max(lastSeq, m.seq);
    if (m.author_kind === "customer") {
      lastCustomerSeq = Math.max(lastCustomerSeq, m.seq);
      setTyping("customer", null, false);
      markRead();
    }
    if (stick || pending) scrollToEnd();
  }

  /* The state under the agent's public replies up to seq: "Seen" when the customer read
     them, "E-mailed" (over "Sent" only) when an e-mail took them to the customer. */
  function markReplies(seq, text, over) {
    messageList.querySelectorAll(".rc-msg-agent:not(.rc-msg-internal)").forEach(function (li) {
      var state = li.querySelector(".rc-msg-state");
      if (state && Number(li.dataset.seq) <= seq && (!over || state.textContent === over)) {
        state.textContent = text;
      }
    });
  }

  function markRead() {
    if (ticketId && lastCustomerSeq && document.visibilityState === "visible") {
      send({ type: "seen", ticket_id: ticketId, seq: lastCustomerSeq });
    }
  }

  function setTyping(kind, name, typing) {
    clearTimeout(typingTimers[kind]);
    if (typing) {
      typingNames[kind] = name;
      typingTimers[kind] = setTimeout(function () { setTyping(kind, null, false); }, 8000);
    } else {
      delete typingNames[kind];
    }
    var names = Object.keys(typingNames).map(function (k) { return typingNames[k]; });
    var text = "";
    if (names.length === 1) text = names[0] + " is typing…";
    else if (names.length) text = names.slice(0, -1).join(", ") + " and " + names[names.length - 1] + " are typing…";
    if (typingLine) typingLine.textContent = text;
  }

  function setStatus(status) {
    desk.dataset.status = status;
    composerMode();
    var holder = document.getElementById("rc-conv-status");
    if (!holder) return;
    var badge = el("span", "rc-badge rc-status-" + status, status);
    holder.replaceChildren(badge);
  }

  /* A reply to a solved, closed or spam ticket reopens it: the agent is asked first, by the
     button that then reads "Reopen and send" (Enter alone never reopens). Notes never do. */
  var ENDED = ["solved", "closed", "spam"];

  function replyReopens() {
    var internalBox = document.getElementById("rc-internal");
    return ENDED.indexOf(desk.dataset.status) >= 0 && !(internalBox && internalBox.checked);
  }

  function composerMode() {
    var button = document.getElementById("rc-send");
    var note = document.getElementById("rc-reopen-note");
    if (!button || !note) return;
    var reopens = replyReopens();
    button.textContent = reopens ? "Reopen and send" : "Send";
    note.hidden = !reopens;
    document.getElementById("rc-reopen-status").textContent = desk.dataset.status;
    if (reopens) {
      button.name = "reopen";
      button.value = "true";
      button.setAttribute("aria-describedby", "rc-reopen-note");
    } else {
      button.removeAttribute("name");
      button.removeAttribute("aria-describedby");
    }
  }

  function setPage(url, title) {
    var holder = document.getElementById("rc-page");
    if (!holder) return;
    if (/^https?:\/\//i.test(url)) {
      var link = el("a", null, title || url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      holder.replaceChildren(link);
    } else {
      holder.replaceChildren(document.createTextNode(title || url || "unknown"));
    }
  }

  function setPresence(online) {
    var presence = document.getElementById("rc-presence");
    if (!presence) return;
    presence.dataset.online = online ? "true" : "false";
    presence.textContent = online ? "customer online" : "customer offline";
  }

  function setViewers(agents) {
    var viewers = document.getElementById("rc-viewers");
    if (!viewers) return;
    var names = agents.map(function (agent) { return agent.name; });
    viewers.textContent = names.length ? "· also here: " + names.join(", ") : "";
  }

  /* ---- composer: Enter sends, Shift+Enter new line; idempotent by client_msg_id ---------- */

  var typingSent = 0;  // when "typing" was last sent
  var typingStop = null;

  /* A reply not sent yet is kept per ticket in this browser (localStorage) until it is sent. */
  var draftKey = "responsoChat.draft." + ticketId;

  function keepDraft(text) {
    try {
      if (text) localStorage.setItem(draftKey, text); else localStorage.removeItem(draftKey);
    } catch (e) { /* private mode: no draft kept */ }
  }

  function keptDraft() {
    try { return localStorage.getItem(draftKey) || ""; } catch (e) { return ""; }
  }

  function stopTyping() {
    clearTimeout(typingStop);
    if (typingSent) send({ type: "typing", ticket_id: ticketId, typing: false });
    typingSent = 0;
  }

  function composerError(text) {
    var box = document.getElementById("rc-composer-error");
    if (box) box.textContent = text || "";
  }

  function deliver(body, internal, clientId, li, reopen) {
    var state = li.querySelector(".rc-msg-state") || li.appendChild(el("p", "rc-msg-state"));
    state.textContent = "Sending…";
    state.removeAttribute("data-state");
    var payload = { body: body, internal: internal, client_msg_id: clientId, reopen: !!reopen };
    post(composer.action, payload, true)
      .then(function (result) {
        if (result.ok) {
          addMessage(result.data.message);
          return;
        }
        if (result.status === 409 && result.data.reopen_required) {  // closed meanwhile
          li.remove();
          composer.querySelector("textarea").value = body;
          keepDraft(body);
          setStatus(result.data.status);
          composerError(errorText(result.data.errors));
          document.getElementById("rc-send").focus();
          return;
        }
        if (result.status === 400 || result.status === 422) {
          li.remove();
          var box = composer.querySelector("textarea");
          if (!box.value) {
            box.value = body;
            keepDraft(body);
            composer.dispatchEvent(new CustomEvent("rc-restored"));  // canned.js: preview again
          }
          composerError(errorText(result.data.errors));
          return;
        }
        throw new Error("HTTP " + result.status);
      })
      .catch(function () {
        state.dataset.state = "failed";
        state.textContent = "Not sent. ";
        var retry = el("button", "rc-button rc-button-small", "Retry");
        retry.type = "button";
        retry.addEventListener("click", function () {
          deliver(body, internal, clientId, li, reopen);
        });
        state.appendChild(retry);
      });
  }

  function sendFromComposer(reopen) {
    var box = composer.querySelector("textarea");
    var internalBox = document.getElementById("rc-internal");
    var body = box.value.trim();
    if (!body) return;
    if (replyReopens() && !reopen) {  // ask first: the button says what will happen
      composerError("This ticket is " + desk.dataset.status +
        ". Choose “Reopen and send” to reopen it with your reply.");
      document.getElementById("rc-send").focus();
      return;
    }
    var internal = !!(internalBox && internalBox.checked);
    var clientId = newId();
    composerError("");
    var li = buildMessage({
      author_kind: "agent", author_name: desk.dataset.meName, body: body, internal: internal,
      client_msg_id: clientId, created_at: new Date().toISOString(), seen: false,
    });
    messageList.appendChild(li);
    scrollToEnd();
    box.value = "";
    keepDraft("");
    composer.dispatchEvent(new CustomEvent("rc-sent"));  // canned.js hides its preview
    stopTyping();
    deliver(body, internal, clientId, li, replyReopens());
  }

  function setupComposer() {
    if (!composer) return;
    var box = composer.querySelector("textarea");
    var internalBox = document.getElementById("rc-internal");
    if (!box.value) box.value = keptDraft();  // a value from the server (an error) comes first
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      // the "Reopen and send" button is the agent's answer; Enter alone only asks
      sendFromComposer(event.submitter && event.submitter.id === "rc-send");
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendFromComposer();
      }
    });
    box.addEventListener("input", function () {
      keepDraft(box.value);
      if (internalBox && internalBox.checked) return;  // notes are not typed to the customer
      // said again every few seconds: the customer's line fades after 8 s
      if (box.value.trim() && (!typingSent || Date.now() - typingSent > 3000)) {
        typingSent = Date.now();
        send({ type: "typing", ticket_id: ticketId, typing: true });
      }
      clearTimeout(typingStop);
      typingStop = setTimeout(stopTyping, 3000);
    });
    if (internalBox) {
      internalBox.addEventListener("change", function () {
        composer.classList.toggle("rc-note", internalBox.checked);
        composerMode();
        if (internalBox.checked) stopTyping();
      });
    }
  }

  /* ---- side panel: forms submitted with fetch, panel refreshed in place ------------------ */

  var panelTimer = null;

  function schedulePanelRefresh() {
    clearTimeout(panelTimer);
    panelTimer = setTimeout(refreshPanel, 150);
  }

  /* What the agent has typed or picked in the panel and not sent yet, by field id. */
  function editedFields(root) {
    var edited = {};
    root.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (field) {
      if (field.type === "hidden") return;
      if (field.tagName === "SELECT") {
        var picked = Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
        if (picked) edited[field.id] = field.value;
      } else if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) edited[field.id] = field.checked;
      } else if (field.value !== field.defaultValue) {
        edited[field.id] = field.value;
      }
    });
    return edited;
  }

  /* A refresh (the agent's own change, or someone else's) keeps what is being edited. */
  function refreshPanel() {
    var body = document.getElementById("rc-panel-body");
    if (!body || !desk.dataset.panelUrl) return Promise.resolve();
    return fetchDocument(desk.dataset.panelUrl).then(function (doc) {
      var fresh = doc.getElementById("rc-panel-body");
      if (!fresh) return;
      var current = document.getElementById("rc-panel-body");
      // where the agent is now (they may have clicked into a field while this loaded)
      var active = document.activeElement;
      var focusedId = active && current.contains(active) ? active.id : null;
      var caret = focusedId && typeof active.selectionStart === "number" ?
        [active.selectionStart, active.selectionEnd] : null;
      var edited = editedFields(current);
      var openIds = Array.prototype.map.call(current.querySelectorAll("details[open][id]"),
                                             function (d) { return d.id; });
      current.replaceWith(document.importNode(fresh, true));
      var panel = document.getElementById("rc-panel-body");
      openIds.forEach(function (id) {  // a form being filled in stays open (Transfer)
        var details = document.getElementById(id);
        if (details && panel.contains(details)) details.open = true;
      });
      Object.keys(edited).forEach(function (id) {
        var field = panel.querySelector("#" + CSS.escape(id));
        if (!field) return;
        if (typeof edited[id] === "boolean") field.checked = edited[id];
        else field.value = edited[id];
      });
      localizeTimes(panel);
      var again = focusedId && document.getElementById(focusedId);
      if (again) {
        again.focus();
        if (caret) again.setSelectionRange(caret[0], caret[1]);
      }
    }).catch(function () { /* keep the panel as it is */ });
  }

  function showFormErrors(form, errors) {
    form.querySelectorAll(".rc-error").forEach(function (node) { node.remove(); });
    var box = el("p", "rc-error", errorText(errors));
    box.setAttribute("role", "alert");
    form.appendChild(box);
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.querySelector('[name="' + CSS.escape(name) + '"]:not([type=hidden])');
      if (field) field.setAttribute("aria-invalid", "true");
    });
  }

  /* The customer rated the conversation (or changed the rating): the panel shows it. */
  function showRating(rating) {
    schedulePanelRefresh();
    sayInPanel("The customer rated this conversation " + rating.score + " out of 5");
  }

  /* "Status: pending · saved", shown above the panel for a few seconds. */
  var liveTimer = null;

  function sayInPanel(text) {
    var live = document.getElementById("rc-panel-live");
    if (!live) return;
    live.textContent = text;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () { live.textContent = ""; }, 5000);
  }

  function appliedText(form) {
    var select = form.querySelector("select");
    var label = form.querySelector("label");
    if (!select || !label || select.selectedIndex < 0) return "";
    return label.textContent.trim() + ": " + select.options[select.selectedIndex].text + " · saved";
  }

  /* A list of the panel's main fields applies once picked; a short pause lets the arrow keys
     go through several values without saving each. */
  var applyTimer = null;

  function setupApplyAtOnce() {
    document.addEventListener("change", function (event) {
      var select = event.target;
      if (select.id === "rc-availability") {  // the dot beside "My status" follows at once
        select.form.querySelector(".rc-dot").className = "rc-dot rc-dot-" + select.value;
      }
      if (!select.matches || !select.matches("form[data-rc-apply] select")) return;
      var id = select.id;
      clearTimeout(applyTimer);
      applyTimer = setTimeout(function () {
        var current = document.getElementById(id);  // the panel may have been refreshed
        if (current && current.form) current.form.requestSubmit();
      }, 600);
    });
  }

  /* ---- a customer message's sentiment and context, and the agent's correction ---------- */

  function showAnalysis(a) {
    var li = messageList && messageList.querySelector('li[data-seq="' + a.seq + '"]');
    if (!li || !a.sentiment) return;
    var block = li.querySelector("[data-rc-analysis]");
    if (!block) {
      var template = document.getElementById("rc-analysis-template");
      if (!template) return;
      block = document.importNode(template.content.firstElementChild, true);
      var form = block.querySelector("form");  // its attribute: the template has no base URL
      form.setAttribute("action", form.getAttribute("action")
        .replace(/\/messages\/0\/analysis/, "/messages/" + a.seq + "/analysis"));
      li.appendChild(block);
    }
    var sentiment = block.querySelector("select[name=sentiment]");
    var context = block.querySelector("select[name=context]");
    sentiment.value = a.sentiment;
    context.value = a.context;
    var chip = block.querySelector("[data-rc-sentiment]");
    chip.className = "rc-chip rc-sentiment-" + a.sentiment;
    chip.textContent = sentiment.options[sentiment.selectedIndex].text;
    block.querySelector("[data-rc-context]").textContent =
      context.selectedIndex >= 0 ? context.options[context.selectedIndex].text : a.context;
    block.querySelector("[data-rc-corrected]").hidden = !a.corrected;
  }

  function setupAnalysisForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-rc-analysis-form]")) return;
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      post(form.action, new FormData(form), false).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          showFormErrors(form, result.data.errors || { _request: ["That did not work."] });
          return;
        }
        form.querySelectorAll(".rc-error").forEach(function (node) { node.remove(); });
        showAnalysis(result.data.analysis);
        var details = form.closest("details");
        details.open = false;
        details.querySelector("summary").focus();
        schedulePanelRefresh();
      }).catch(function () {
        button.disabled = false;
        showFormErrors(form, { _request: ["The server could not be reached. Try again."] });
      });
    });
  }

  function setupPanelForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-rc-panel]")) return;
      event.preventDefault();
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      post(form.action, new FormData(form), false).then(function (result) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (!result.ok) {
          showFormErrors(form, result.data.errors || { _request: ["That did not work."] });
          return;
        }
        if (result.data.redirect) {
          location.href = result.data.redirect;
          return;
        }
        if (form.hasAttribute("data-rc-apply")) sayInPanel(appliedText(form));
        form.reset();  // sent: the refreshed panel shows what was saved
        var details = form.closest("details");
        if (details) details.open = false;  // a form in a disclosure (Transfer) is done
        refreshPanel();
        scheduleListRefresh();
      }).catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        showFormErrors(form, { _request: ["The server could not be reached. Try again."] });
      });
    });
  }

  /* ---- the agent websocket, with HTTP catch-up while it is down --------------------------- */

  var socket = null;
  var attempts = 0;
  var pollTimer = null;
  var opened = false;

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function catchUp() {
    if (!ticketId || !desk.dataset.messagesUrl) return;
    fetch(desk.dataset.messagesUrl + "?after=" + lastSeq, {
      credentials: "same-origin", headers: { "Accept": "application/json" },
    }).then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (data) { (data.messages || []).forEach(addMessage); })
      .catch(function () { /* try again on the next tick */ });
  }

  function handle(event) {
    switch (event.type) {
      case "inbox": onInboxEvent(event); break;
      case "message":
        addMessage(event);
        // the side panel's "Last message" (and the customer's mood) follow the conversation
        if (event.ticket_id === ticketId && !event.internal && event.author_kind !== "system") {
          schedulePanelRefresh();
        }
        break;
      case "analysis": if (event.ticket_id === ticketId) showAnalysis(event); break;
      case "typing":
        if (event.ticket_id === ticketId) {
          var who = event.author_kind === "customer" ? "customer" : "agent:" + event.name;
          setTyping(who, event.name, event.typing);
        }
        break;
      case "seen": if (event.ticket_id === ticketId && event.by === "customer") markReplies(event.seq, "Seen"); break;
      case "mailed": if (event.ticket_id === ticketId) markReplies(event.seq, "E-mailed", "Sent"); break;
      case "status": if (event.ticket_id === ticketId) { setStatus(event.status); schedulePanelRefresh(); } break;
      case "page": if (event.ticket_id === ticketId) setPage(event.url, event.title); break;
      case "rating": if (event.ticket_id === ticketId) showRating(event); break;
      case "context": if (event.ticket_id === ticketId) schedulePanelRefresh(); break;  // cart, visit
      case "presence": if (event.ticket_id === ticketId) setPresence(event.online); break;
      case "viewers": if (event.ticket_id === ticketId) setViewers(event.agents || []); break;
      case "transferred": onTransferred(event); break;
      case "ping": send({ type: "pong" }); break;  // still here: the server closes idle sockets
      case "unsubscribed":  // access to the ticket was taken away while it was open
      case "error":
        if ((event.type === "unsubscribed" || event.error === "not_found") && event.ticket_id === ticketId) {
          toast("This ticket is not available to you any more.");
        }
        break;
      default: break;
    }
  }

  function connect() {
    var url = new URL(desk.dataset.wsUrl, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url.href);
    socket.addEventListener("open", function () {
      attempts = 0;
      clearInterval(pollTimer);
      pollTimer = null;
      send({ type: "inbox" });
      if (ticketId) send({ type: "subscribe", ticket_id: ticketId, after: lastSeq });
      if (opened) scheduleListRefresh();  // events may have been missed while away
      opened = true;
    });
    socket.addEventListener("message", function (message) {
      try { handle(JSON.parse(message.data)); } catch (e) { /* ignore a bad frame */ }
    });
    socket.addEventListener("close", function () {
      if (ticketId && !pollTimer) pollTimer = setInterval(catchUp, 5000);
      attempts += 1;
      setTimeout(connect, Math.min(15000, 500 * Math.pow(2, attempts)));
    });
  }

  /* ---- the "…" menu closes on a click elsewhere or on Escape ------------------------------ */

  function closeMenus(except, refocus) {
    document.querySelectorAll("details.rc-menu[open]").forEach(function (menu) {
      if (menu === except) return;
      menu.open = false;
      if (refocus) menu.querySelector("summary").focus();
    });
  }

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest("details.rc-menu"), false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null, true);
  });

  /* ---- keyboard shortcuts: never while typing in a field; "?" lists them ------------------ */

  var TEXT_INPUTS = /^(text|search|email|url|tel|password|number|date|time|datetime-local|month|week)$/;

  function typingIn(node) {
    if (!node || !node.tagName) return false;
    if (node.isContentEditable || node.tagName === "TEXTAREA" || node.tagName === "SELECT") return true;
    return node.tagName === "INPUT" && TEXT_INPUTS.test(node.type || "text");
  }

  function byId(id) { return document.getElementById(id); }

  function focusOn(id) {
    var node = byId(id);
    if (!node) return;
    node.scrollIntoView({ block: "nearest" });
    node.focus();
  }

  function writeNote(note) {
    var internalBox = byId("rc-internal");
    if (internalBox && internalBox.checked !== note) internalBox.click();
    focusOn("rc-body");
  }

  function assignToMe() {
    var select = byId("rc-assignee");
    if (!select) return;
    var mine = Array.prototype.find.call(select.options, function (option) {
      return / \(me\)$/.test(option.text);
    });
    if (!mine || mine.selected) return;
    select.value = mine.value;
    select.form.requestSubmit();
  }

  function goToTicket(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#rc-list-rows a.rc-ticket-row"));
    var at = rows.findIndex(function (row) { return row.getAttribute("aria-current") === "page"; });
    var next = rows[at === -1 ? (step > 0 ? 0 : rows.length - 1) : at + step];
    if (next) next.click();
  }

  var SHORTCUTS = {
    "?": function () { var dialog = byId("rc-shortcuts"); if (dialog) dialog.showModal(); },
    "r": function () { writeNote(false); },
    "n": function () { writeNote(true); },
    "c": function () { var close = byId("rc-close-ticket"); if (close) close.click(); },
    "s": function () { focusOn("rc-status"); },
    "a": function () { focusOn("rc-assignee"); },
    "t": function () {  // Transfer, in the side panel
      var transfer = byId("rc-transfer");
      if (!transfer) return;
      transfer.open = true;
      focusOn("rc-transfer-target");
    },
    "m": assignToMe,
    "j": function () { goToTicket(1); },
    "k": function () { goToTicket(-1); },
    "/": function () { focusOn("rc-q"); },
  };

  function setupShortcuts() {
    document.querySelectorAll("[data-rc-shortcuts]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", SHORTCUTS["?"]);
    });
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey ||
          event.isComposing) return;
      if (typingIn(event.target)) {
        if (event.key === "Escape" && event.target.id === "rc-body") event.target.blur();
        return;
      }
      if (document.querySelector("dialog[open]")) return;
      var action = SHORTCUTS[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    });
  }

  /* ---- start ------------------------------------------------------------------------------ */

  var list = document.getElementById("rc-list");
  if (list) readWatching(list);
  setupNotifyToggle();
  if (messageList) {
    messageList.querySelectorAll("li[data-seq]").forEach(function (li) {
      var seq = Number(li.dataset.seq);
      seqs.add(seq);
      if (li.classList.contains("rc-msg-customer")) lastCustomerSeq = Math.max(lastCustomerSeq, seq);
    });
    scrollToEnd();
  }
  setupComposer();
  setupPanelForms();
  setupAnalysisForms();
  setupApplyAtOnce();
  setupShortcuts();
  document.addEventListener("visibilitychange", markRead);
  document.addEventListener("rc-message", function (event) { addMessage(event.detail); });
  connect();
  if (ticketId) socket.addEventListener("open", markRead, { once: true });
})();
