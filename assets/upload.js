/* The Data page's upload: the file goes to the server as a stream (multipart POST to
 * /data-files/upload, with a progress bar), not through a Dash callback, which would carry the
 * whole file base64-encoded in one JSON body held in memory. dcc.Upload still draws the drop
 * zone and opens the file chooser; this script takes the chosen or dropped files before it
 * reads them (listeners in the capture phase on the document run before React's).
 *
 * Too-big files are refused here at once with the page's own message (the server checks
 * again). When the upload is staged, the job id goes to the `data-job` store, and the page's
 * callbacks follow the check from there. */
(function () {
  "use strict";
  function zone(target) {
    return target && target.closest ? target.closest("#data-upload") : null;
  }
  function cfg() {
    return document.getElementById("data-upload-config");
  }
  function say(text, color) {
    var el = document.getElementById("data-upload-status");
    if (!el) { return; }
    el.textContent = text || "";
    el.className = "small mt-1 mb-2 " + (color ? "text-" + color : "text-muted");
  }
  function bar(fraction) {
    var wrap = document.getElementById("data-upload-bar");
    if (!wrap) { return; }
    wrap.hidden = fraction === null;
    var inner = wrap.querySelector(".progress-bar");
    if (inner && fraction !== null) {
      var pct = Math.round(fraction * 100);
      inner.style.width = pct + "%";
      inner.setAttribute("aria-valuenow", String(pct));
      inner.textContent = pct + "%";
    }
  }
  function token() {
    var m = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function send(files) {
    var c = cfg();
    if (!c || !files || !files.length) { return; }
    var max = parseInt(c.getAttribute("data-max-bytes"), 10);
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > max) {
        say(fmt(c.getAttribute("data-too-big"),
                {name: files[i].name, mb: Math.round(max / 1048576)}), "danger");
        return;
      }
    }
    var form = new FormData();
    var family = document.getElementById("data-family");
    var encoding = document.getElementById("data-encoding");
    form.append("family", family ? family.value : "");
    form.append("encoding", encoding ? encoding.value : "auto");
    for (var j = 0; j < files.length; j++) { form.append("file", files[j], files[j].name); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", c.getAttribute("data-url"));
    xhr.setRequestHeader("X-CSRFToken", token());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) { bar(ev.loaded / ev.total); }
    };
    xhr.onload = function () {
      bar(null);
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status === 200 && answer.job) {
        say(c.getAttribute("data-sent"), null);
        window.dash_clientside.set_props("data-job", {
          data: {id: answer.job, kind: "check", token: answer.token, at: Date.now()}});
      } else {
        say(answer.error || c.getAttribute("data-failed"), "danger");
      }
    };
    xhr.onerror = function () { bar(null); say(c.getAttribute("data-failed"), "danger"); };
    say(c.getAttribute("data-sending"), null);
    bar(0);
    xhr.send(form);
  }

  document.addEventListener("change", function (ev) {
    var z = zone(ev.target);
    if (!z || ev.target.type !== "file") { return; }
    ev.stopPropagation();
    var files = Array.prototype.slice.call(ev.target.files || []);
    ev.target.value = "";  // choosing the same (corrected) file again fires 'change' again
    send(files);
  }, true);
  document.addEventListener("drop", function (ev) {
    if (!zone(ev.target)) { return; }
    ev.preventDefault();
    ev.stopPropagation();
    send(Array.prototype.slice.call((ev.dataTransfer && ev.dataTransfer.files) || []));
  }, true);
})();
