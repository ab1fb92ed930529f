/* Responso Chat: the "Base orders" side panel of a ticket.
 *
 * The panel's forms (Refresh, each order's status) are sent with fetch; the server answers
 * with the panel rendered again (escaped by the server's templates), which replaces the old
 * one. A panel whose data is stale refreshes itself once when the page opens.
 *
 * A status change goes to Base, another system: the agent confirms it first, then it waits
 * UNDO_SECONDS (with an Undo button) before it is sent. Without JS the form posts at once.
 */
(function () {
  "use strict";

  if (window.responsoChatOrders) {
    return;
  }
  window.responsoChatOrders = true;

  var UNDO_SECONDS = 5;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function say(panel, text) {
    var live = panel.querySelector(".rc-orders-live");
    if (live) {
      live.textContent = text;
    }
  }

  function send(panel, url, form, focusId) {
    var focusedId = focusId || (document.activeElement && panel.contains(document.activeElement)
      ? document.activeElement.id : "");
    /* the lookup's form is a GET: its fields go in the query string */
    var lookup = form && !(form instanceof FormData) && form.method === "get";
    panel.setAttribute("aria-busy", "true");
    say(panel, lookup ? "Looking up orders…" : form instanceof FormData
      ? "Changing the status in Base…" : form && /\/(un)?link$/.test(form.action) ? "Saving…"
      : "Fetching orders from Base…");
    return fetch(lookup ? url + "?" + new URLSearchParams(new FormData(form)).toString() : url, {
      method: lookup ? "GET" : "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch", "Accept": "text/html" },
      body: lookup || !form ? null : (form instanceof FormData ? form : new FormData(form))
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") !== 0) {
        throw new Error("HTTP " + response.status);
      }
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("rc-orders");
        if (!fresh) {
          throw new Error("HTTP " + response.status);
        }
        fresh = document.importNode(fresh, true);
        panel.replaceWith(fresh);
        var focus = focusedId && document.getElementById(focusedId);
        if (focus) {
          focus.focus();
        }
      });
    }).catch(function (error) {
      panel.removeAttribute("aria-busy");
      say(panel, "The orders could not be updated (" + error.message + "). Try again.");
    });
  }

  function optionText(select, option) {
    return option ? option.text : select.value;
  }

  function button(text, onClick) {
    var node = document.createElement("button");
    node.type = "button";
    node.className = "rc-button rc-button-small";
    node.textContent = text;
    node.addEventListener("click", onClick);
    return node;
  }

  /* The box under an order's status list: the question, then the countdown with Undo. */
  function showBox(form, text, buttons) {
    var box = form.querySelector(".rc-order-confirm");
    if (!box) {
      box = document.createElement("div");
      box.className = "rc-order-confirm";
      box.setAttribute("aria-live", "polite");
      form.appendChild(box);
    }
    var line = document.createElement("p");
    line.textContent = text;
    var row = document.createElement("div");
    row.className = "rc-order-confirm-buttons";
    buttons.forEach(function (item) { row.appendChild(item); });
    box.replaceChildren(line, row);
    form.querySelector("select").disabled = true;
    form.querySelector("button[type=submit]").hidden = true;
    return box;
  }

  function closeBox(form, keepChoice) {
    var box = form.querySelector(".rc-order-confirm");
    if (box) {
      box.remove();
    }
    var select = form.querySelector("select");
    select.disabled = false;
    form.querySelector("button[type=submit]").hidden = false;
    if (!keepChoice) {
      Array.prototype.forEach.call(select.options, function (option) {
        option.selected = option.defaultSelected;
      });
    }
    select.focus();
  }

  function askToChange(panel, form) {
    var select = form.querySelector("select");
    var current = Array.prototype.find.call(select.options, function (option) {
      return option.defaultSelected;
    });
    var picked = select.options[select.selectedIndex];
    var number = (form.action.match(/\/orders\/([^/]+)\/status/) || [])[1] || "";
    if (picked === current) {
      say(panel, "Order " + number + " already has the status “" + optionText(select, current) + "”.");
      return;
    }
    var from = optionText(select, current), to = optionText(select, picked);
    var data = new FormData(form);  // read before the list is disabled
    var confirm = button("Confirm change", function () { startCountdown(form, data, number, from, to); });
    showBox(form, "Change order " + number + " from “" + from + "” to “" + to + "” in Base?", [
      confirm, button("Cancel", function () { closeBox(form, false); })
    ]);
    confirm.focus();
  }

  function startCountdown(form, data, number, from, to) {
    var timer = null;
    var undo = button("Undo", function () {
      clearTimeout(timer);
      closeBox(form, false);
      say(document.getElementById("rc-orders"),
          "Not changed: order " + number + " keeps the status “" + from + "”.");
    });
    showBox(form, "Order " + number + " will change to “" + to + "” in " + UNDO_SECONDS +
            " seconds.", [undo]);
    undo.focus();
    var changeId = form.querySelector("button[type=submit]").id;
    timer = setTimeout(function () {
      var panel = document.getElementById("rc-orders");
      if (panel) {
        send(panel, form.action, data, changeId);
      }
    }, UNDO_SECONDS * 1000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var panel = form.closest && form.closest("#rc-orders");
    if (!panel) {
      return;
    }
    event.preventDefault();
    if (panel.getAttribute("aria-busy") === "true") {
      return;
    }
    if (form.classList.contains("rc-order-status-form")) {
      askToChange(panel, form);
      return;
    }
    send(panel, form.action, form);
  });

  function refreshIfStale() {
    var panel = document.getElementById("rc-orders");
    if (panel && panel.dataset.stale === "true") {
      send(panel, panel.dataset.refreshUrl, null);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refreshIfStale);
  } else {
    refreshIfStale();
  }
})();
