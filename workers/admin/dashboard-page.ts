// The dashboard's static HTML, style and script: charts of /_/metrics?format=json drawn as inline
// SVG by a small script, with no external scripts, styles, fonts or images.

export const DASHBOARD_STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1419;color:#e6e6e6}
header{padding:12px 20px;background:#1b2530;display:flex;gap:16px;align-items:baseline}
h1{font-size:18px;margin:0}
#status{color:#9aa5b1;font-size:12px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px;padding:16px 20px}
section{background:#17202a;border-radius:6px;padding:12px}
h2{font-size:14px;margin:0 0 8px;color:#c8d1da}
svg{width:100%;height:auto;display:block}
text{fill:#c8d1da;font-size:11px}
.empty{color:#6b7785;font-size:12px}
`;

// Plain ES2017 so every current browser runs it as is. Labels are set with textContent and
// attributes with setAttribute only: nothing from the metrics is ever parsed as markup.
export const DASHBOARD_SCRIPT = `
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#4e9af1", "#f1a24e", "#5cc98a", "#e8616b", "#b38cf0", "#e3d063", "#5fc3d6", "#c98a5c"];
  var history = [];

  function node(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function label(parent, x, y, text, anchor) {
    var t = node("text", { x: x, y: y, "text-anchor": anchor || "start" }, parent);
    t.textContent = text;
    return t;
  }
  function fmt(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(0) + "k";
    return String(Math.round(n * 100) / 100);
  }
  function panel(id, title) {
    var s = document.getElementById(id);
    if (!s) {
      s = document.createElement("section");
      s.id = id;
      var h = document.createElement("h2");
      h.textContent = title;
      s.appendChild(h);
      document.getElementById("charts").appendChild(s);
    }
    while (s.childNodes.length > 1) s.removeChild(s.lastChild);
    return s;
  }
  function empty(s) {
    var p = document.createElement("p");
    p.className = "empty";
    p.textContent = "no data yet";
    s.appendChild(p);
  }
  /** Horizontal bars: entries is [[label, value], ...]. */
  function bars(id, title, entries) {
    var s = panel(id, title);
    entries = entries.filter(function (e) { return e[1] > 0; }).sort(function (a, b) { return b[1] - a[1]; }).slice(0, 12);
    if (!entries.length) return empty(s);
    var max = Math.max.apply(null, entries.map(function (e) { return e[1]; }));
    var row = 22, left = 140, width = 400;
    var svg = node("svg", { viewBox: "0 0 " + (left + width + 60) + " " + (entries.length * row + 4), role: "img" }, s);
    node("title", {}, svg).textContent = title;
    entries.forEach(function (e, i) {
      var y = i * row + 2;
      label(svg, left - 6, y + 14, e[0], "end");
      node("rect", { x: left, y: y + 3, height: row - 8, width: Math.max(1, (e[1] / max) * width), fill: COLORS[i % COLORS.length], rx: 2 }, svg);
      label(svg, left + Math.max(1, (e[1] / max) * width) + 4, y + 14, fmt(e[1]));
    });
  }
  /** A line of requests per second over the samples taken since the page opened. */
  function line(id, title, points) {
    var s = panel(id, title);
    if (points.length < 2) return empty(s);
    var w = 540, h = 160, pad = 30;
    var max = Math.max(1, Math.max.apply(null, points));
    var svg = node("svg", { viewBox: "0 0 " + w + " " + h, role: "img" }, s);
    node("title", {}, svg).textContent = title;
    node("line", { x1: pad, y1: h - pad, x2: w, y2: h - pad, stroke: "#3a4654" }, svg);
    label(svg, pad - 4, 12, fmt(max), "end");
    label(svg, pad - 4, h - pad, "0", "end");
    var step = (w - pad) / (points.length - 1);
    var d = points.map(function (v, i) { return (i ? "L" : "M") + (pad + i * step).toFixed(1) + " " + (h - pad - (v / max) * (h - pad - 10)).toFixed(1); }).join(" ");
    node("path", { d: d, fill: "none", stroke: COLORS[0], "stroke-width": 2 }, svg);
  }
  function samples(metrics, name) {
    return (metrics[name] && metrics[name].samples) || [];
  }
  function sumBy(metrics, name, key) {
    var out = {};
    samples(metrics, name).forEach(function (s) {
      var k = typeof key === "function" ? key(s.labels) : s.labels[key];
      out[k] = (out[k] || 0) + (s.value !== undefined ? s.value : s.count || 0);
    });
    return Object.keys(out).map(function (k) { return [k, out[k]]; });
  }
  function total(metrics, name) {
    return samples(metrics, name).reduce(function (a, s) { return a + (s.value !== undefined ? s.value : s.count || 0); }, 0);
  }
  /** Share of requests answered within each histogram bucket (cumulative counts, as Prometheus). */
  function latency(metrics) {
    var buckets = {}, count = 0;
    samples(metrics, "pkgedge_request_duration_ms").forEach(function (s) {
      count += s.count;
      Object.keys(s.buckets || {}).forEach(function (le) { buckets[le] = (buckets[le] || 0) + s.buckets[le]; });
    });
    return Object.keys(buckets).sort(function (a, b) { return Number(a) - Number(b); }).map(function (le) {
      return ["<= " + le + " ms", count ? Math.round((buckets[le] / count) * 1000) / 10 : 0];
    });
  }

  function render(metrics) {
    bars("by-region", "Requests by region", sumBy(metrics, "pkgedge_requests_total", "region"));
    bars("by-tier", "Requests by answering tier", sumBy(metrics, "pkgedge_requests_total", "tier"));
    bars("by-protocol", "Requests by protocol", sumBy(metrics, "pkgedge_requests_total", "protocol"));
    bars("by-status", "Requests by status class", sumBy(metrics, "pkgedge_requests_total", function (l) { return String(l.status).charAt(0) + "xx"; }));
    bars("latency", "Requests answered within (% of all, to headers)", latency(metrics));
    bars("origin", "Origin fetches by region and kind", sumBy(metrics, "pkgedge_origin_fetches_total", function (l) { return l.region + " " + l.kind; }));
    bars("coalesced", "Coalesced requests by region", sumBy(metrics, "pkgedge_coalesced_total", "region"));
    bars("limited", "Rate-limited requests by scope", sumBy(metrics, "pkgedge_rate_limited_total", "scope"));
    var now = Date.now(), requests = total(metrics, "pkgedge_requests_total");
    history.push([now, requests]);
    if (history.length > 61) history.shift();
    var rates = [];
    for (var i = 1; i < history.length; i++) {
      var dt = (history[i][0] - history[i - 1][0]) / 1000;
      rates.push(dt > 0 ? Math.max(0, history[i][1] - history[i - 1][1]) / dt : 0);
    }
    line("rate", "Requests per second (this isolate, last 5 minutes)", rates);
  }

  function refresh() {
    var status = document.getElementById("status");
    fetch("metrics?format=json", { cache: "no-store", credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (m) { render(m); status.textContent = "updated " + new Date().toLocaleTimeString(); })
      .catch(function (e) { status.textContent = "metrics unavailable: " + e.message; });
  }
  refresh();
  setInterval(refresh, 5000);
})();
`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pkgedge dashboard</title>
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<header><h1>pkgedge</h1><span id="status">loading metrics…</span></header>
<noscript><p>The charts need JavaScript; the raw figures are at <a href="metrics">/_/metrics</a>.</p></noscript>
<main id="charts"></main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
