/* Responso Chat — canned responses in the agent's composer.
 *
 * Typing "/" and a shortcut in the reply box opens a list of the agent's canned responses,
 * filtered as they type (ARIA: the box points at the listbox with aria-controls and at the
 * highlighted option with aria-activedescendant). ArrowUp/ArrowDown move, Enter or Tab
 * inserts, Escape closes; a click inserts too. The server fills the response in for this
 * ticket; the preview shows what the customer will get, and names any variable without a
 * value, left in the text as {{name}} (the server refuses a reply that still holds one).
 * Plain JS; user text is only ever written with textContent.
 */
(function () {
  "use strict";

  var desk = document.getElementById("rc-desk");
  var composer = document.getElementById("rc-composer");
  var box = document.getElementById("rc-body");
  var listbox = document.getElementById("rc-canned-list");
  var preview = document.getElementById("rc-canned-preview");
  if (!desk || !composer || !box || !listbox || !preview) return;

  var MARKER = new RegExp(preview.dataset.rcUnfilled, "g");  // the server's own pattern
  var TOKEN = /(^|\s)\/([A-Za-z0-9-]{0,40})$/;  // "/" and a shortcut, just before the caret
  var choices = null;  // the agent's responses, read once
  var shown = [];  // the options on screen
  var active = -1;
  var token = null;  // {start, end} of "/shortcut" in the box
  var missingLabels = {};  // variable marker -> what it stands for
  var cannedUsed = false;  // the reply being written holds a canned response
  var sentCanned = false;  // ... and so did the one just sent (it may come back, refused)
  var status = document.getElementById("rc-canned-status");

  function loadChoices() {
    if (choices) return Promise.resolve(choices);
    return fetch(desk.dataset.cannedUrl, {
      credentials: "same-origin", headers: { "Accept": "application/json" },
    }).then(function (r) { return r.ok ? r.json() : { canned: [] }; })
      .then(function (data) { choices = data.canned || []; return choices; });
  }

  function optionId(index) { return "rc-canned-option-" + index; }

  function close() {
    listbox.hidden = true;
    listbox.replaceChildren();
    shown = [];
    active = -1;
    token = null;
    box.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    if (!shown.length) return;
    active = (index + shown.length) % shown.length;
    listbox.querySelectorAll("[role=option]").forEach(function (node, i) {
      node.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    box.setAttribute("aria-activedescendant", optionId(active));
    var node = document.getElementById(optionId(active));
    if (node) node.scrollIntoView({ block: "nearest" });
  }

  function show(found) {
    shown = found;
    listbox.replaceChildren();
    found.forEach(function (item, index) {
      var li = document.createElement("li");
      li.id = optionId(index);
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var shortcut = document.createElement("span");
      shortcut.className = "rc-canned-shortcut";
      shortcut.textContent = "/" + item.shortcut;
      var title = document.createElement("span");
      title.className = "rc-canned-title";
      title.textContent = item.title + (item.shared ? "" : " · yours");
      li.appendChild(shortcut);
      li.appendChild(title);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); });
      li.addEventListener("click", function () { insert(item); });
      listbox.appendChild(li);
    });
    listbox.hidden = !found.length;
    if (status) {
      status.textContent = found.length ?
        found.length + " canned response" + (found.length === 1 ? "" : "s") + ": arrows to choose, Enter to insert." : "";
    }
    highlight(0);
  }

  function update() {
    var before = box.value.slice(0, box.selectionStart);
    var match = box.selectionStart === box.selectionEnd && TOKEN.exec(before);
    if (!match) { close(); return; }
    var query = match[2].toLowerCase();
    token = { start: before.length - query.length - 1, end: before.length };
    loadChoices().then(function (all) {
      if (!token) return;
      var found = all.filter(function (item) {
        return item.shortcut.indexOf(query) === 0;
      }).concat(all.filter(function (item) {
        return item.shortcut.indexOf(query) > 0 || (query && item.title.toLowerCase().indexOf(query) >= 0 &&
          item.shortcut.indexOf(query) !== 0);
      }));
      show(found.filter(function (item, i) { return found.indexOf(item) === i; }).slice(0, 8));
    }).catch(close);
  }

  function setMissing(missing) {
    missing.forEach(function (m) { missingLabels["{{" + m.name + "}}"] = m.label; });
  }

  function refreshPreview() {
    var text = box.value;
    if (!text.trim() || !(cannedUsed || MARKER.test(text))) { preview.hidden = true; return; }
    MARKER.lastIndex = 0;
    preview.hidden = false;
    preview.querySelector("[data-rc-preview-text]").textContent = text;
    var markers = text.match(MARKER) || [];
    var warning = preview.querySelector("[data-rc-preview-missing]");
    if (markers.length) {
      var names = markers.filter(function (m, i) { return markers.indexOf(m) === i; })
        .map(function (m) {
          var label = missingLabels[m];
          return label ? m + " — " + label.charAt(0).toLowerCase() + label.slice(1) : m;
        });
      warning.textContent = "Missing: " + names.join("; ") +
        ". No value for this customer: replace it before sending.";
      warning.hidden = false;
    } else {
      warning.textContent = "";
      warning.hidden = true;
      var error = document.getElementById("rc-composer-error");  // the refusal is resolved
      if (error && /^Replace \{\{/.test(error.textContent)) error.textContent = "";
    }
  }

  function insert(item) {
    var at = token;
    close();
    if (!at) return;
    var url = desk.dataset.cannedFillUrl.replace(/\/0$/, "/" + item.id);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      })
      .then(function (result) {
        var error = document.getElementById("rc-composer-error");
        if (!result.ok) {
          if (error) error.textContent = "This canned response could not be inserted.";
          return;
        }
        var text = result.data.text;
        box.value = box.value.slice(0, at.start) + text + box.value.slice(at.end);
        var caret = at.start + text.length;
        box.focus();
        box.setSelectionRange(caret, caret);
        setMissing(result.data.missing || []);
        cannedUsed = true;
        box.dispatchEvent(new Event("input", { bubbles: true }));  // the draft is kept
        var first = text.search(MARKER);  // the first gap to fill, selected
        if (first >= 0) {
          var end = first + text.match(MARKER)[0].length;
          box.setSelectionRange(at.start + first, at.start + end);
        }
      })
      .catch(function () {
        var error = document.getElementById("rc-composer-error");
        if (error) error.textContent = "The server could not be reached. Try again.";
      });
  }

  /* Captured on the form, before the composer's own Enter-to-send sees the key. */
  composer.addEventListener("keydown", function (event) {
    if (event.target !== box || listbox.hidden || event.isComposing) return;
    var handled = true;
    switch (event.key) {
      case "ArrowDown": highlight(active + 1); break;
      case "ArrowUp": highlight(active - 1); break;
      case "Enter":
      case "Tab":
        if (event.shiftKey || active < 0) { handled = false; break; }
        insert(shown[active]);
        break;
      case "Escape": close(); break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", listbox.id);
  box.addEventListener("input", function () {
    update();
    refreshPreview();
  });
  box.addEventListener("click", update);
  box.addEventListener("blur", function () { setTimeout(close, 150); });
  composer.addEventListener("rc-sent", function () {
    close();
    sentCanned = cannedUsed;
    cannedUsed = false;
    preview.hidden = true;
  });
  composer.addEventListener("rc-restored", function () {  // refused: back in the box
    cannedUsed = sentCanned;
    refreshPreview();
  });
})();
