/* Responso Chat admin pages: "Show code" dialogs, Copy buttons, the opening hours editor,
   the agents confirmation and the live preview drawn by the real widget (preview mode).
   Plain JS; every form also works without it. */
(function () {
  "use strict";

  /* "Show code": buttons with data-open-dialog="<dialog id>" open that native <dialog>. */
  document.querySelectorAll("[data-open-dialog]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById(button.dataset.openDialog).showModal();
    });
  });

  /* Copy buttons: data-copy="<id of the field holding the text>"; the status says what happened. */
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = button.parentElement.querySelector(".rc-copy-status");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = "Copied";
      }, function () {
        field.focus();
        field.select();
        status.textContent = "Press Ctrl+C (⌘C on a Mac) to copy the selected code.";
      });
    });
  });

  var form = document.getElementById("chat-form");
  if (!form) {
    return;
  }

  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  /* Opening hours: per weekday a mode (closed / all day / set hours) and interval rows. */
  function setupDay(day) {
    var name = day.dataset.dayName;
    var mode = day.querySelector("[data-hours-mode]");
    var box = day.querySelector("[data-intervals]");
    var list = day.querySelector("[data-interval-list]");
    var add = day.querySelector("[data-add-interval]");

    function rows() {
      return Array.prototype.slice.call(list.children);
    }

    function renumber() {
      var all = rows();
      all.forEach(function (row, index) {
        var number = index + 1;
        var inputs = row.querySelectorAll("input");
        inputs[0].setAttribute("aria-label", name + " interval " + number + " from");
        inputs[1].setAttribute("aria-label", name + " interval " + number + " to");
        var remove = row.querySelector("[data-remove-interval]");
        remove.setAttribute("aria-label", "Remove " + name + " interval " + number);
        remove.hidden = all.length === 1;
      });
    }

    function show(event) {
      box.hidden = mode.value !== "intervals";
      if (event && !box.hidden) {  /* switched to "Set hours": start from office hours */
        var blank = rows().every(function (row) {
          return Array.prototype.every.call(row.querySelectorAll("input"), function (input) {
            return !input.value;
          });
        });
        if (blank) {
          var first = rows()[0].querySelectorAll("input");
          first[0].value = "09:00";
          first[1].value = "17:00";
        }
      }
    }

    list.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-interval]");
      if (!remove) {
        return;
      }
      var row = remove.closest("li");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      (next ? next.querySelector("input") : add).focus();
      form.dispatchEvent(new Event("input"));
    });

    add.addEventListener("click", function () {
      var row = rows()[rows().length - 1].cloneNode(true);
      row.querySelectorAll("input").forEach(function (input) {
        input.value = "";
      });
      list.appendChild(row);
      renumber();
      row.querySelector("input").focus();
    });

    mode.addEventListener("change", show);
    add.hidden = false;
    renumber();
    show(null);
  }
  form.querySelectorAll("[data-day]").forEach(setupDay);

  /* "Save without agents" only matters when no agent is ticked. */
  var confirmNone = form.querySelector("[data-no-agents-confirm]");
  var agentBoxes = form.querySelectorAll("input[name=agent_ids]");
  function toggleConfirm() {
    confirmNone.hidden = Array.prototype.some.call(agentBoxes, function (box) {
      return box.checked;
    });
  }
  agentBoxes.forEach(function (box) {
    box.addEventListener("change", toggleConfirm);
  });
  toggleConfirm();

  /* Live preview: the widget's own code draws the launcher and header for the form's values. */
  var stage = document.querySelector("[data-preview-stage]");
  var previewStatus = document.querySelector("[data-preview-status]");
  var hiddenNote = document.querySelector("[data-preview-hidden]");
  var scheduled = false;

  function value(name) {
    var field = form.elements.namedItem(name);
    return field ? field.value : "";
  }

  function previewConfig() {
    var spacing = parseInt(value("vertical_spacing"), 10);
    var state = document.querySelector("input[name=preview_state]:checked");
    return {
      name: value("name").trim(),
      welcome_message: value("welcome_message").trim(),
      alignment: value("alignment") === "left" ? "left" : "right",
      vertical_spacing: isNaN(spacing) ? 25 : Math.min(1000, Math.max(0, spacing)),
      path_rule_type: value("path_rule_type"),
      paths: value("paths").split("\n").map(function (line) {
        return line.trim();
      }).filter(Boolean),
      out_of_hours_behaviour: value("out_of_hours_behaviour"),
      out_of_hours_message: value("out_of_hours_message").trim(),
      language: value("language"),
      color: value("color"),
      open_now: !state || state.value === "open",
      next_change_at: null
    };
  }

  function drawPreview() {
    scheduled = false;
    var widget = window.ResponsoChat;
    if (!widget || typeof widget.preview !== "function") {
      previewStatus.textContent = "The preview is not available: the widget code did not load.";
      return;
    }
    previewStatus.textContent = "";
    var config = previewConfig();
    widget.preview(config, stage);
    hiddenNote.hidden = config.open_now || config.out_of_hours_behaviour !== "hide_widget";
  }

  function schedulePreview() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(drawPreview);
    }
  }

  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);
  document.querySelectorAll("input[name=preview_state]").forEach(function (radio) {
    radio.addEventListener("change", schedulePreview);
  });
  if (document.readyState === "complete") {
    schedulePreview();
  } else {
    window.addEventListener("load", schedulePreview);
  }
})();
