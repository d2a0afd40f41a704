/* Clientside callbacks, named here so that /_dash-dependencies (part of every first load)
 * carries a name per callback instead of its source. Wired in pages/_state.py and
 * pages/_charts.py with ClientsideFunction("eujp", name). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  eujp: {
    // Navbar links keep the global filters (not the page's own) between pages.
    navLinks: function (search, ids) {
      var params = new URLSearchParams(search || "");
      var kept = [];
      ["from", "to", "sector"].forEach(function (key) {
        var value = params.getAll(key).join(",");
        if (value) {
          kept.push(key + "=" + encodeURIComponent(value).replace(/%2C/gi, ","));
        }
      });
      var q = kept.length ? "?" + kept.join("&") : "";
      return ids.map(function (id) { return id.index + q; });
    },
    // A chart's numbers are wanted (for these filters) while its "Show the numbers" is
    // open (an odd number of clicks); closing it empties the table (null); a filter change
    // with the table closed asks the server for nothing.
    tableWant: function (clicks, search) {
      if (clicks && clicks % 2) { return search || ""; }
      var t = (window.dash_clientside.callback_context || {}).triggered || [];
      var closed = t.some(function (x) { return x.prop_id.indexOf("n_clicks") >= 0; });
      return closed ? null : window.dash_clientside.no_update;
    },
    toggle: function (n, isOpen) { return n ? !isOpen : isOpen; },
    langHref: function (pathname, search, href) {
      var base = (href || "/lang/ja").split("?")[0];
      return base + "?next=" + encodeURIComponent((pathname || "/") + (search || ""));
    }
  }
});
