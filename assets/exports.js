/* Reviewer exports in the browser (see pages/_routes_exports.py).
 *
 * 1. Every chart's modebar gets a "Download plot as SVG" button next to the PNG camera
 *    (dcc.Graph cannot pass JavaScript functions in its config, so Plotly.react is wrapped to
 *    add it), and both save files named after the chart and its filters.
 * 2. The "Chart pack" link is fetched in the background: the button shows progress, the ZIP is
 *    saved under its own name, and a server message (e.g. no Chromium) is shown in place.
 *    Without JavaScript the link still downloads the ZIP.
 */
(function () {
  "use strict";

  var SVG_ICON = {
    svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 3h11l5 5v13H4z" ' +
      'fill="none" stroke="currentColor" stroke-width="1.6"/><text x="12" y="17" font-size="7" ' +
      'font-family="Arial, sans-serif" font-weight="700" text-anchor="middle" ' +
      'fill="currentColor">SVG</text></svg>'
  };

  // One button object for every chart and every redraw: Plotly.react compares the old and
  // new config item by item, and a new object (a new click function) each time counted as a
  // changed config, which made every filter change draw each chart from scratch, twice
  // (~3x the redraw time).
  var SVG_BUTTON = {
    name: "downloadSvg",
    title: "Download plot as SVG",
    icon: SVG_ICON,
    click: function (gd) {
      var opts = (gd._context && gd._context.toImageButtonOptions) || {};
      var full = gd._fullLayout || {};
      window.Plotly.downloadImage(gd, {
        format: "svg", filename: opts.filename || "chart",
        width: full.width, height: full.height, scale: 1
      });
    }
  };


  function withSvgButton(config) {
    if (!config || !config.toImageButtonOptions) { return config; }
    var extra = (config.modeBarButtonsToAdd || []).filter(function (b) {
      return !(b && b.name === "downloadSvg");
    });
    return Object.assign({}, config, {modeBarButtonsToAdd: extra.concat([SVG_BUTTON])});
  }

  function patch(P) {
    if (!P || P.__eujcExports || typeof P.react !== "function") { return; }
    var react = P.react;
    P.react = function (gd, data, layout, config) {
      if (data && !Array.isArray(data) && typeof data === "object" && "data" in data) {
        data = Object.assign({}, data, {config: withSvgButton(data.config)});
      } else if (config) {
        config = withSvgButton(config);
      }
      return react.call(this, gd, data, layout, config);
    };
    P.__eujcExports = true;
  }

  if (window.Plotly) {
    patch(window.Plotly);
  } else {
    // plotly.js may load after this file: catch the moment it sets window.Plotly
    var current;
    Object.defineProperty(window, "Plotly", {
      configurable: true, enumerable: true,
      get: function () { return current; },
      set: function (v) { current = v; patch(v); }
    });
  }

  // The modebar saves files named after the chart and its filters: the name is taken from
  // the card's download links (kept up to date from the URL by the server) at the moment a
  // modebar button is clicked, before Plotly reads it. Setting it through the Graph's
  // `config` would redraw every chart once more on each filter change.
  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest && ev.target.closest(".modebar-btn");
    var gd = btn && btn.closest(".js-plotly-plot");
    var card = gd && gd.closest(".chart-card");
    var link = card && card.querySelector("a.chart-dl[data-filename]");
    if (!link || !gd._context || !gd._context.toImageButtonOptions) { return; }
    var name = link.getAttribute("data-filename").replace(/\.[a-z0-9]+$/i, "");
    gd._context.toImageButtonOptions = Object.assign({}, gd._context.toImageButtonOptions,
      {filename: name});
  }, true);

  // The server's image renderer (a headless Chromium) is started when a person reaches for
  // a download or the chart pack, not when the page opens (its start-up took the cores from
  // the page's first filter changes): once per page view, on the first pointer or keyboard
  // focus on a chart's download links or the pack button.
  var warmed = false;
  function warmRenderer(ev) {
    if (warmed || !window.fetch) { return; }
    var el = ev.target && ev.target.closest && ev.target.closest(".chart-tools, .chart-pack");
    var link = el && el.querySelector('a[href*="/export/"]');
    if (!link) { return; }
    warmed = true;
    var href = link.getAttribute("href");  // (keeps a path prefix the app is served under)
    // a POST like any other: it carries the CSRF token the server set in its cookie
    var token = (document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/) || [])[1] || "";
    fetch(href.slice(0, href.indexOf("/export/")) + "/export/warm",
      {method: "POST", credentials: "same-origin",
       headers: {"X-CSRFToken": decodeURIComponent(token)}})
      .catch(function () { warmed = false; });
  }
  document.addEventListener("pointerover", warmRenderer, true);
  document.addEventListener("focusin", warmRenderer, true);

  function filenameFrom(disposition, fallback) {
    var m = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
    if (m) { return decodeURIComponent(m[1]); }
    m = /filename="?([^";]+)"?/i.exec(disposition || "");
    return m ? m[1] : fallback;
  }

  document.addEventListener("click", function (ev) {
    var link = ev.target && ev.target.closest && ev.target.closest("a.chart-pack-link");
    if (!link || !window.fetch || !window.URL || !URL.createObjectURL) { return; }
    ev.preventDefault();
    if (link.getAttribute("aria-busy") === "true") { return; }
    var bar = link.parentNode;
    var status = bar && bar.querySelector(".chart-pack-status");
    function say(text, isError) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("text-danger", !!isError);
      status.classList.toggle("text-muted", !isError);
    }
    link.setAttribute("aria-busy", "true");
    link.classList.add("disabled");
    say(link.getAttribute("data-busy-text") || "…", false);
    fetch(link.href, {credentials: "same-origin"}).then(function (resp) {
      if (!resp.ok) {
        return resp.text().then(function (text) { throw new Error(text); });
      }
      var name = filenameFrom(resp.headers.get("Content-Disposition"),
        link.getAttribute("data-filename") || "chart-pack.zip");
      return resp.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = name;
        a.style.display = "none";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        say((link.getAttribute("data-done-text") || "") + ": " + name, false);
      });
    }).catch(function (err) {
      var msg = (err && err.message) ? err.message.trim() : "";
      say((link.getAttribute("data-error-text") || "Error") + (msg ? ": " + msg : ""), true);
    }).then(function () {
      link.removeAttribute("aria-busy");
      link.classList.remove("disabled");
    });
  });
})();
