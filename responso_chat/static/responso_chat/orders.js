/* Responso Chat: the "Base orders" side panel of a ticket.
 *
 * The panel's forms (Refresh, each order's status) are sent with fetch; the server answers
 * with the panel rendered again (escaped by the server's templates), which replaces the old
 * one. A panel whose data is stale refreshes itself once when the page opens.
 */
(function () {
  "use strict";

  if (window.responsoChatOrders) {
    return;
  }
  window.responsoChatOrders = true;

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

  function send(panel, url, form) {
    var focusedId = document.activeElement && panel.contains(document.activeElement)
      ? document.activeElement.id : "";
    panel.setAttribute("aria-busy", "true");
    say(panel, form && form.querySelector("select") ? "Changing the status in Base…" : "Fetching orders from Base…");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch", "Accept": "text/html" },
      body: form ? new FormData(form) : null
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
