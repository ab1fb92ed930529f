/* Responso Chat — files in the agent's composer and in the conversation.
 *
 * Loaded before inbox.js on the ticket page. Offers window.rcInboxFiles.render(message), which
 * inbox.js calls to draw a live message's files (the same markup as _files.html), and runs the
 * composer's uploads: the "Attach a file" button, files dropped onto the conversation, images
 * pasted into the reply box. Each upload is one XMLHttpRequest (for its progress bar) carrying
 * the files, the reply box's text as the message, and the internal-note choice; Cancel aborts
 * it and nothing is sent. The stored message comes back, and inbox.js shows it (the
 * "rc-message" event; the socket brings it too, shown once by its sequence number).
 */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB"
      : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  /* Only http(s) URLs of the server go into src and href. */
  function safeUrl(url) {
    try {
      var parsed = new URL(url, location.href);
      return /^https?:$/.test(parsed.protocol) ? parsed.href : null;
    } catch (e) { return null; }
  }

  function render(m) {
    if (!m.attachments || !m.attachments.length) return null;
    var list = el("ul", "rc-msg-files");
    m.attachments.forEach(function (file) {
      var url = safeUrl(file.url), thumb = file.thumbnail_url && safeUrl(file.thumbnail_url);
      if (!url) return;
      var item = el("li"), link = el("a");
      link.href = url;
      if (file.image && thumb) {
        link.target = "_blank";
        link.rel = "noopener";
        var img = el("img", "rc-msg-thumb");
        img.src = thumb;
        img.alt = file.name;
        img.loading = "lazy";
        link.appendChild(img);
        item.appendChild(link);
      } else {
        link.className = "rc-msg-file";
        link.download = file.name;
        link.textContent = file.name;
        item.appendChild(link);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", "rc-msg-size", sizeText(file.size)));
      }
      list.appendChild(item);
    });
    return list;
  }

  window.rcInboxFiles = { render: render };

  var picker = document.getElementById("rc-file");
  var button = document.getElementById("rc-attach");
  var uploads = document.getElementById("rc-uploads");
  var composer = document.getElementById("rc-composer");
  var conversation = document.getElementById("rc-messages");
  if (!picker || !button || !composer) return;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var box = composer.querySelector("textarea");
  var internal = document.getElementById("rc-internal");
  var errorBox = document.getElementById("rc-composer-error");

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function errorText(data, status) {
    var errors = (data && data.errors) || {};
    var lines = [];
    Object.keys(errors).forEach(function (key) { lines = lines.concat(errors[key]); });
    if (lines.length) return lines.join(" ");
    return status === 413 ? "The files are too large." : "The files could not be sent.";
  }

  function upload(files) {
    if (!files.length) return;
    var names = files.map(function (f) { return f.name || "image"; }).join(", ");
    var row = el("div", "rc-upload");
    var label = el("span", "rc-upload-name", "Uploading " + names);
    var bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    bar.setAttribute("aria-label", "Uploading " + names);
    var cancel = el("button", "rc-button rc-button-secondary", "Cancel");
    cancel.type = "button";
    row.appendChild(label);
    row.appendChild(bar);
    row.appendChild(cancel);
    uploads.appendChild(row);

    var body = box.value.trim();
    var data = new FormData();
    files.forEach(function (file) { data.append("files", file, file.name || "image"); });
    data.append("body", body);
    data.append("client_msg_id", newId());
    if (internal && internal.checked) data.append("internal", "true");
    if (document.getElementById("rc-send").name === "reopen") data.append("reopen", "true");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", picker.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round(100 * event.loaded / event.total);
      bar.value = percent;
      bar.setAttribute("aria-valuenow", String(percent));
    };
    cancel.addEventListener("click", function () {
      xhr.abort();
      row.remove();
      box.focus();
    });
    xhr.onload = function () {
      row.remove();
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status < 300 && answer.message) {
        if (body && box.value.trim() === body) box.value = "";
        errorBox.textContent = "";
        document.dispatchEvent(new CustomEvent("rc-message", { detail: answer.message }));
        return;
      }
      errorBox.textContent = errorText(answer, xhr.status);
    };
    xhr.onerror = function () {
      row.remove();
      errorBox.textContent = "The files could not be sent.";
    };
    xhr.send(data);
  }

  button.hidden = false;
  button.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    upload(Array.prototype.slice.call(picker.files));
    picker.value = "";
  });
  box.addEventListener("paste", function (event) {
    var files = Array.prototype.slice.call((event.clipboardData || {}).files || []);
    if (!files.length) return;
    event.preventDefault();
    upload(files);
  });
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0;
  }
  [conversation, composer].forEach(function (zone) {
    if (!zone) return;
    zone.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.add("rc-dropping");
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("rc-dropping"); });
    zone.addEventListener("drop", function (event) {
      zone.classList.remove("rc-dropping");
      if (!hasFiles(event)) return;
      event.preventDefault();
      upload(Array.prototype.slice.call(event.dataTransfer.files));
    });
  });
})();
