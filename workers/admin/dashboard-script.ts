// The dashboard's script (served inline by ./dashboard-page.ts, admitted by its hash): it asks the
// operator once for the admin secret or METRICS_TOKEN (kept in sessionStorage, so it dies with the
// tab), samples /_/metrics?format=json every few seconds with it as a Bearer header, and keeps the
// series in the browser: the Worker's counters are cumulative, so rates, ratios and interval
// quantiles are differences between consecutive samples, and a counter that went down (another
// isolate answered, or this one restarted) leaves a gap rather than a negative rate.
//
// Plain ES2017 so every current browser runs it as is. Text is set with textContent and attributes
// with setAttribute only: nothing from the metrics is ever parsed as markup.
export const DASHBOARD_SCRIPT = `
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#4e9af1", "#f1a24e", "#5cc98a", "#e8616b", "#b38cf0", "#e3d063", "#5fc3d6", "#c98a5c"];
  var EVERY_MS = 5000;
  var KEEP = 180;
  var TOKEN_KEY = "pkgedge.metrics.token";
  // Answers that needed no origin read of their own count as hits.
  var HIT_STATES = { "HOT-HIT": true, "L1-HIT": true, "L2-HIT": true, "L2-STALE": true, "NEGATIVE": true, "COALESCED": true };
  var history = [];
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function node(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(name, text, parent, cls) {
    var e = document.createElement(name);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function label(parent, x, y, text, anchor, cls) {
    var t = node("text", { x: x, y: y, "text-anchor": anchor || "start" }, parent);
    if (cls) t.setAttribute("class", cls);
    t.textContent = text;
    return t;
  }
  function num(n, digits) {
    if (n === null || n === undefined || !isFinite(n)) return "–";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
    var d = digits === undefined ? (Math.abs(n) < 10 ? 2 : Math.abs(n) < 100 ? 1 : 0) : digits;
    return String(Math.round(n * Math.pow(10, d)) / Math.pow(10, d));
  }
  var UNITS = {
    "req/s": function (v) { return num(v) + " req/s"; },
    "/s": function (v) { return num(v) + "/s"; },
    "%": function (v) { return num(v, 1) + " %"; },
    "ms": function (v) { return num(v) + " ms"; },
    "ratio": function (v) { return num(v, 3); },
  };
  function clock(t) {
    var d = new Date(t);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) { return (n < 10 ? "0" : "") + n; }).join(":");
  }
  function panel(id, title, note) {
    var s = $(id);
    if (!s) {
      s = html("section");
      s.id = id;
      html("h2", title, s);
      if (note) html("p", note, s, "note");
      (id.indexOf("tile-") === 0 ? $("tiles") : $("charts")).appendChild(s);
    }
    var keep = note ? 2 : 1;
    while (s.childNodes.length > keep) s.removeChild(s.lastChild);
    return s;
  }
  function empty(s, why) { html("p", why || "no data yet", s, "empty"); }

  // ---- what one sample of /_/metrics?format=json says, summed the ways the charts need ----
  function samples(m, name) { return (m[name] && m[name].samples) || []; }
  function add(map, key, by) { map[key] = (map[key] || 0) + by; }
  function digest(m) {
    var d = { requests: {}, protocols: {}, tiers: {}, tiered: {}, hits: {}, origin: {}, coalesced: {}, stale: {}, negative: {}, limited: {}, prefetch: {}, status: {}, upstream: {}, buckets: {}, count: 0 };
    samples(m, "pkgedge_requests_total").forEach(function (s) {
      var l = s.labels;
      add(d.status, String(l.status).charAt(0) + "xx", s.value);
      // The dashboard's own polling (and every other /_/ call) is left out of the traffic charts.
      if (l.protocol === "admin") return;
      add(d.requests, l.region, s.value);
      add(d.protocols, l.protocol, s.value);
      add(d.tiers, l.tier, s.value);
      if (l.tier === "uncached") return;
      add(d.tiered, l.region, s.value);
      if (HIT_STATES[l.tier]) add(d.hits, l.region, s.value);
    });
    samples(m, "pkgedge_request_duration_ms").forEach(function (s) {
      if (s.labels.tier === "uncached") return;
      d.count += s.count;
      Object.keys(s.buckets || {}).forEach(function (le) { add(d.buckets, le, s.buckets[le]); });
    });
    samples(m, "pkgedge_origin_fetches_total").forEach(function (s) { add(d.origin, s.labels.region, s.value); });
    samples(m, "pkgedge_coalesced_total").forEach(function (s) { add(d.coalesced, s.labels.region, s.value); });
    samples(m, "pkgedge_stale_served_total").forEach(function (s) { add(d.stale, s.labels.region, s.value); });
    samples(m, "pkgedge_negative_hits_total").forEach(function (s) { add(d.negative, s.labels.region, s.value); });
    samples(m, "pkgedge_rate_limited_total").forEach(function (s) { add(d.limited, s.labels.scope, s.value); });
    samples(m, "pkgedge_prefetch_total").forEach(function (s) { add(d.prefetch, s.labels.kind, s.value); });
    samples(m, "pkgedge_upstream_requests_total").forEach(function (s) { add(d.upstream, s.labels.protocol + " " + s.labels.kind + " " + s.labels.status, s.value); });
    return d;
  }
  function sum(map) { return Object.keys(map).reduce(function (a, k) { return a + map[k]; }, 0); }
  function keysOf(field) {
    var seen = {};
    history.forEach(function (h) { Object.keys(h.d[field]).forEach(function (k) { seen[k] = true; }); });
    return Object.keys(seen).sort();
  }
  /** Per interval between samples: f(previous digest, this digest, seconds) or null. */
  function series(f) {
    var out = [];
    for (var i = 1; i < history.length; i++) out.push(f(history[i - 1].d, history[i].d, (history[i].t - history[i - 1].t) / 1000));
    return out;
  }
  function delta(a, b, field, key) {
    var x = key === undefined ? sum(b[field]) - sum(a[field]) : (b[field][key] || 0) - (a[field][key] || 0);
    return x < 0 ? null : x;
  }
  function rate(field, key) {
    return series(function (a, b, dt) { var x = delta(a, b, field, key); return x === null || dt <= 0 ? null : x / dt; });
  }
  function ratio(top, bottom, key, scale) {
    return series(function (a, b) {
      var n = delta(a, b, top, key), m = delta(a, b, bottom, key);
      return n === null || !m ? null : (n / m) * scale;
    });
  }
  function bounds(buckets) { return Object.keys(buckets).map(Number).sort(function (x, y) { return x - y; }); }
  /** As the Worker computes it: linear inside the bucket holding the rank (shared/metrics.ts). */
  function quantile(buckets, count, q) {
    if (!count) return null;
    var les = bounds(buckets), rank = q * count, lower = 0, below = 0;
    for (var i = 0; i < les.length; i++) {
      var upto = buckets[les[i]];
      if (upto >= rank) {
        var inBucket = upto - below;
        return lower + (les[i] - lower) * (inBucket ? (rank - below) / inBucket : 0);
      }
      lower = les[i];
      below = upto;
    }
    return les.length ? les[les.length - 1] : null;
  }
  function latencyOverTime(q) {
    return series(function (a, b) {
      var diff = {}, n = b.count - a.count;
      if (n <= 0) return null;
      Object.keys(b.buckets).forEach(function (le) { diff[le] = b.buckets[le] - (a.buckets[le] || 0); });
      return quantile(diff, n, q);
    });
  }

  // ---- drawing ----
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }
  /** A time chart with axes: lines is [{name, values, total?}], values aligned with the sample intervals. */
  function timeChart(id, title, unit, lines, opts) {
    opts = opts || {};
    var s = panel(id, title, opts.note);
    var times = history.slice(1).map(function (h) { return h.t; });
    lines = lines.filter(function (l) { return l.values.some(function (v) { return v !== null; }); });
    if (times.length < 2 || !lines.length) return empty(s, times.length < 2 ? "collecting samples (one every " + EVERY_MS / 1000 + " s)" : "nothing in this window");
    var w = 560, h = 190, left = 62, right = 10, top = 10, bottom = 26;
    var all = [];
    lines.forEach(function (l) { l.values.forEach(function (v) { if (v !== null) all.push(v); }); });
    var max = opts.max || niceMax(Math.max.apply(null, all));
    var x = function (i) { return left + (i / (times.length - 1)) * (w - left - right); };
    var y = function (v) { return top + (1 - Math.min(v, max) / max) * (h - top - bottom); };
    var svg = node("svg", { viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": title }, s);
    node("title", {}, svg).textContent = title;
    [0, 0.5, 1].forEach(function (f) {
      node("line", { x1: left, x2: w - right, y1: y(max * f), y2: y(max * f), class: f ? "grid" : "axis" }, svg);
      label(svg, left - 6, y(max * f) + 4, UNITS[unit](max * f), "end", "tick");
    });
    node("line", { x1: left, x2: left, y1: top, y2: h - bottom, class: "axis" }, svg);
    var mid = Math.floor((times.length - 1) / 2);
    (mid > 0 && mid < times.length - 1 ? [0, mid, times.length - 1] : [0, times.length - 1]).forEach(function (i) {
      label(svg, x(i), h - 8, clock(times[i]), i === 0 ? "start" : i === times.length - 1 ? "end" : "middle", "tick");
    });
    lines.forEach(function (l, k) {
      var d = "", pen = "M";
      l.values.forEach(function (v, i) {
        if (v === null) { pen = "M"; return; }
        d += pen + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
        pen = "L";
      });
      node("path", { d: d.trim(), class: "series", stroke: COLORS[k % COLORS.length], "data-series": l.name }, svg);
      // With few samples, dots show where the measurements are (and a point between two gaps).
      if (times.length <= 40) l.values.forEach(function (v, i) {
        if (v !== null) node("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: COLORS[k % COLORS.length], class: "point" }, svg);
      });
    });
    var legend = html("ul", undefined, s, "legend");
    lines.forEach(function (l, k) {
      var li = html("li", undefined, legend);
      var sw = node("svg", { viewBox: "0 0 10 10", class: "swatch" }, li);
      node("rect", { width: 10, height: 10, fill: COLORS[k % COLORS.length] }, sw);
      var last = null;
      l.values.forEach(function (v) { if (v !== null) last = v; });
      html("span", l.name + " " + UNITS[unit](last) + (l.total !== undefined ? " · " + num(l.total, 0) + " in all" : ""), li);
    });
  }
  /** Horizontal bars in the order given: entries is [[label, value], ...]. */
  function bars(id, title, entries, unit, note) {
    var s = panel(id, title, note);
    if (!entries.some(function (e) { return e[1] > 0; })) return empty(s);
    var max = Math.max.apply(null, entries.map(function (e) { return e[1]; }));
    var row = 22, left = 150, width = 330;
    var svg = node("svg", { viewBox: "0 0 " + (left + width + 90) + " " + (entries.length * row + 4), role: "img", "aria-label": title }, s);
    node("title", {}, svg).textContent = title;
    entries.forEach(function (e, i) {
      var yy = i * row + 2, bw = max > 0 ? Math.max(e[1] > 0 ? 1 : 0, (e[1] / max) * width) : 0;
      label(svg, left - 6, yy + 14, e[0], "end");
      node("rect", { x: left, y: yy + 3, height: row - 8, width: bw, fill: COLORS[i % COLORS.length], rx: 2, class: "bar" }, svg);
      label(svg, left + bw + 4, yy + 14, unit ? UNITS[unit](e[1]) : num(e[1]));
    });
  }
  function table(id, title, head, rows, note) {
    var s = panel(id, title, note);
    if (!rows.length) return empty(s);
    var t = html("table", undefined, s), tr = html("tr", undefined, html("thead", undefined, t));
    head.forEach(function (h, i) { html("th", h, tr, i ? "n" : ""); });
    var body = html("tbody", undefined, t);
    rows.forEach(function (r) {
      var row = html("tr", undefined, body);
      r.forEach(function (c, i) { html("td", typeof c === "number" ? num(c) : c === null ? "–" : String(c), row, i ? "n" : ""); });
    });
  }
  function tile(id, title, value, detail) {
    var s = panel("tile-" + id, title);
    html("div", value, s, "value");
    if (detail) html("div", detail, s, "detail");
  }
  function pairs(map) { return Object.keys(map).sort().map(function (k) { return [k, map[k]]; }); }
  function last(values) { return values.length ? values[values.length - 1] : null; }

  function render(m, top) {
    var d = history[history.length - 1].d;
    var regions = keysOf("requests");
    var rps = rate("requests"), hitNow = ratio("hits", "tiered", undefined, 100), offloadNow = ratio("origin", "tiered", undefined, 1);
    var cumulative = { count: d.count, buckets: d.buckets };
    var p = [0.5, 0.95, 0.99].map(function (q) { return quantile(cumulative.buckets, cumulative.count, q); });
    var lagP95 = samples(m, "pkgedge_invalidation_lag_ms").reduce(function (a, s) { return s.p95 !== null && s.p95 > a ? s.p95 : a; }, 0);
    tile("rps", "Requests/s", UNITS["req/s"](last(rps)), num(sum(d.requests), 0) + " since the isolate started");
    tile("hit", "Hit ratio", UNITS["%"](last(hitNow)), num(sum(d.tiered) ? (sum(d.hits) / sum(d.tiered)) * 100 : null, 1) + " % overall");
    tile("latency", "p50 / p95 / p99", p.map(function (v) { return num(v); }).join(" / ") + " ms", "to headers, through the tiers");
    tile("offload", "Origin fetches per request", num(last(offloadNow), 3), num(sum(d.tiered) ? sum(d.origin) / sum(d.tiered) : null, 3) + " overall");
    tile("coalesced", "Coalesced / stale", num(sum(d.coalesced), 0) + " / " + num(sum(d.stale), 0), "answers since start");
    tile("limited", "Rate-limited", num(sum(d.limited), 0), "requests refused with 429");
    tile("lag", "Invalidation lag p95", UNITS.ms(lagP95 || null), "worst region");

    timeChart("rate-region", "Requests per second by region", "req/s", regions.map(function (r) { return { name: r, values: rate("requests", r) }; }));
    timeChart("rate-protocol", "Requests per second by protocol", "req/s", keysOf("protocols").map(function (p) { return { name: p, values: rate("protocols", p) }; }),
      { note: "npm (/npm/), oci (/v2/), pypi (/pypi/), other (/ and unknown paths); /_/ left out" });
    timeChart("rate-tier", "Requests per second by answering tier", "req/s", keysOf("tiers").map(function (t) { return { name: t, values: rate("tiers", t) }; }),
      { note: "uncached: writes, search and refusals, which never go through the tiers" });
    timeChart("hit-region", "Hit ratio by region", "%", keysOf("tiered").map(function (r) { return { name: r, values: ratio("hits", "tiered", r, 100) }; }),
      { max: 100, note: "answers without an origin read of their own (HOT-HIT, L1-HIT, L2-HIT, L2-STALE, NEGATIVE, COALESCED) per request through the tiers" });
    timeChart("latency-time", "Latency to headers (p50, p95, p99 per interval)", "ms", [["p50", 0.5], ["p95", 0.95], ["p99", 0.99]].map(function (e) { return { name: e[0], values: latencyOverTime(e[1]) }; }));
    timeChart("offload", "Origin offload: origin fetches per request", "ratio", keysOf("tiered").map(function (r) { return { name: r, values: ratio("origin", "tiered", r, 1) }; }),
      { note: "0 = every request answered from a cache; shields' and the edge's origin reads per request through the tiers" });
    timeChart("coalesced-stale", "Coalesced, stale and negative answers per second", "/s",
      ["coalesced", "stale", "negative"].map(function (f) { return { name: f, values: rate(f), total: sum(d[f]) }; }));
    timeChart("limited-time", "Rate-limited requests per second by scope", "/s", keysOf("limited").map(function (k) { return { name: k, values: rate("limited", k), total: d.limited[k] || 0 }; }));
    timeChart("prefetch", "Prefetched objects per second by kind", "/s", keysOf("prefetch").map(function (k) { return { name: k, values: rate("prefetch", k), total: d.prefetch[k] || 0 }; }));

    var lag = samples(m, "pkgedge_invalidation_lag_ms").slice().sort(function (a, b) { return a.labels.region < b.labels.region ? -1 : 1; });
    table("lag", "Invalidation lag per region", ["region", "events", "p50 ms", "p95 ms", "p99 ms"],
      lag.filter(function (s) { return s.count > 0; }).map(function (s) { return [s.labels.region, s.count, s.p50, s.p95, s.p99]; }),
      "from an origin write to the region's shields applying it");
    var durations = samples(m, "pkgedge_request_duration_ms").filter(function (s) { return s.labels.tier !== "uncached"; })
      .sort(function (a, b) { return (a.labels.region + a.labels.tier) < (b.labels.region + b.labels.tier) ? -1 : 1; });
    table("latency-table", "Latency by region and tier (since start)", ["region / tier", "requests", "p50 ms", "p95 ms", "p99 ms"],
      durations.map(function (s) { return [s.labels.region + " " + s.labels.tier, s.count, s.p50, s.p95, s.p99]; }));
    // In bucket order (the share answered in each bucket, not cumulative), so the shape reads left to right.
    var les = bounds(d.buckets), prev = 0;
    bars("histogram", "Latency distribution (share of requests per bucket)", les.map(function (le, i) {
      var n = d.buckets[le] - prev;
      prev = d.buckets[le];
      return [(i ? les[i - 1] + "–" : "≤ ") + le + " ms", d.count ? (n / d.count) * 100 : 0];
    }).concat([["> " + (les.length ? les[les.length - 1] : 0) + " ms", d.count ? ((d.count - prev) / d.count) * 100 : 0]]), "%");
    table("top-keys", "Top keys at the shields", ["key", "region", "requests"], top.slice(0, 15).map(function (k) { return [k.key, k.region, k.requests]; }),
      "requests that reached the shields (L1 misses), most requested first");
    bars("negative", "Negative hits by region (remembered not-found)", pairs(d.negative));
    bars("status", "Requests by status class (all, /_/ included)", pairs(d.status));
    bars("upstream", "Upstream registry requests (protocol, kind, status)", pairs(d.upstream), undefined,
      "pull-through reads of NPM_UPSTREAM, OCI_UPSTREAM, PYPI_UPSTREAM; empty while none is configured");
  }

  // ---- the operator's secret, and the sampling loop ----
  function signIn(message) {
    if (timer) clearInterval(timer);
    timer = null;
    $("signin").hidden = false;
    $("signout").hidden = true;
    $("signin-error").textContent = message || "";
    $("status").textContent = "signed out";
    $("secret").focus();
  }
  function refresh() {
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return signIn();
    var init = { cache: "no-store", credentials: "omit", headers: { authorization: "Bearer " + token } };
    var get = function (r) {
      if (r.status === 401 || r.status === 403) { var e = new Error("HTTP " + r.status); e.refused = true; throw e; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    };
    Promise.all([fetch("metrics?format=json", init).then(get), fetch("metrics/top-keys", init).then(get)])
      .then(function (answers) {
        history.push({ t: Date.now(), d: digest(answers[0]) });
        if (history.length > KEEP + 1) history.shift();
        render(answers[0], answers[1].keys || []);
        $("status").textContent = "updated " + clock(Date.now()) + " · " + (history.length - 1) + " intervals of " + EVERY_MS / 1000 + " s kept in this tab";
      })
      .catch(function (e) {
        if (e.refused) {
          sessionStorage.removeItem(TOKEN_KEY);
          return signIn("that secret was refused (" + e.message + ")");
        }
        $("status").textContent = "metrics unavailable: " + e.message;
      });
  }
  function start() {
    $("signin").hidden = true;
    $("signout").hidden = false;
    refresh();
    if (!timer) timer = setInterval(refresh, EVERY_MS);
  }
  $("signin").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = $("secret").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("secret").value = "";
    start();
  });
  $("signout").addEventListener("click", function () {
    sessionStorage.removeItem(TOKEN_KEY);
    signIn();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) start(); else signIn();
})();
`;
