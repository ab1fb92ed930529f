/* Responso Chat — the automation rule editor.
 * Adds and removes condition and action rows, and fits each row's operator and value controls
 * to the field or action chosen. Without this script the form still works: its "Add" and
 * "Remove" buttons send it back unsaved with the row added or removed.
 * Rows are cloned from <template> elements rendered by the server; only the row's number is
 * written into the clones' attributes, never any text.
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var form = document.getElementById("rule-form");
  if (!form) return;
  var data = JSON.parse(document.getElementById("rc-rule-editor-data").textContent);
  var status = document.getElementById("rows-status");
  var names = { condition: "Condition", action: "Action" };

  function rowsOf(kind) {
    return form.querySelector('[data-rows="' + kind + '"]');
  }

  function rows(kind) {
    return Array.prototype.slice.call(rowsOf(kind).children);
  }

  var next = {};
  ["condition", "action"].forEach(function (kind) {
    next[kind] = rows(kind).reduce(function (max, row) {
      return Math.max(max, Number(row.getAttribute("data-index")) + 1);
    }, 0);
  });

  function cloneTemplate(id, n) {
    var template = document.getElementById(id);
    if (!template) return null;
    var fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("*").forEach(function (element) {
      Array.prototype.forEach.call(element.attributes, function (attribute) {
        if (attribute.value.indexOf("__n__") !== -1) {
          attribute.value = attribute.value.replace(/__n__/g, n);
        }
      });
    });
    return fragment;
  }

  /* Row numbers in the controls' labels follow the rows' order on screen. */
  function renumber(kind) {
    var pattern = new RegExp("^(Remove )?(" + names[kind] + "|" + kind + ") (\\d+|__number__)");
    rows(kind).forEach(function (row, i) {
      row.querySelectorAll("[aria-label]").forEach(function (element) {
        element.setAttribute(
          "aria-label",
          element.getAttribute("aria-label").replace(pattern, function (_m, remove, word) {
            return (remove || "") + word + " " + (i + 1);
          })
        );
      });
    });
  }

  function announce(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function replaceValue(row, templateId) {
    var holder = row.querySelector(".rc-row-value");
    var n = row.getAttribute("data-index");
    var fresh = cloneTemplate(templateId, n);
    if (!fresh) {  // no field chosen yet: a plain text box
      fresh = document.createElement("input");
      fresh.type = "text";
      fresh.name = holder.firstElementChild.name;
      fresh.id = holder.firstElementChild.id;
      fresh.setAttribute("data-part", "value");
      fresh.setAttribute("aria-label", names[row.getAttribute("data-row")] + " __number__ value");
    }
    holder.replaceChildren(fresh);
  }

  function fitOperator(row) {
    var operator = row.querySelector('[data-part="operator"]');
    var value = row.querySelector('[data-part="value"]');
    var several = operator.value === "in";
    if (value.tagName === "SELECT") {
      value.multiple = several;
      value.size = several ? 4 : 0;
      var placeholder = value.querySelector('option[value=""]');
      if (placeholder) placeholder.hidden = several;
    } else {
      value.placeholder = several ? "several values, separated by commas" : "";
    }
  }

  function fieldChanged(row) {
    var field = row.querySelector('[data-part="field"]').value;
    var operator = row.querySelector('[data-part="operator"]');
    var previous = operator.value;
    var allowed = data.operators[field] || Object.keys(data.labels);
    operator.replaceChildren.apply(operator, allowed.map(function (op) {
      var option = document.createElement("option");
      option.value = op;
      option.textContent = data.labels[op];
      option.selected = op === previous;
      return option;
    }));
    replaceValue(row, "rc-template-condition-value-" + field);
    fitOperator(row);
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    var part = target.getAttribute("data-part");
    var row = target.closest("[data-row]");
    if (target.id === "trigger") {
      var minutes = document.getElementById("trigger-minutes-field");
      minutes.hidden = target.value !== minutes.getAttribute("data-shown-for");
    } else if (part === "field") {
      fieldChanged(row);
    } else if (part === "operator") {
      fitOperator(row);
    } else if (part === "type") {
      replaceValue(row, "rc-template-action-value-" + target.value);
    }
    if (row) renumber(row.getAttribute("data-row"));
  });

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add]");
    var remove = event.target.closest("[data-remove]");
    if (add) {
      event.preventDefault();
      var kind = add.getAttribute("data-add");
      rowsOf(kind).appendChild(cloneTemplate("rc-template-" + kind, next[kind]++));
      renumber(kind);
      var added = rows(kind)[rows(kind).length - 1];
      added.querySelector("select").focus();
      announce(names[kind] + " " + rows(kind).length + " added.");
    } else if (remove) {
      event.preventDefault();
      var row = remove.closest("[data-row]");
      var rowKind = row.getAttribute("data-row");
      row.remove();
      renumber(rowKind);
      form.querySelector('[data-add="' + rowKind + '"]').focus();
      announce(names[rowKind] + " removed.");
    }
  });
})();
