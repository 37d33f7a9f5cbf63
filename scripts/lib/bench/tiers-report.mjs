// Renders the tiers benchmark: a text bar chart of latency by tier, then Markdown tables for
// convergence, the herd and the install, and the goals with PASS/FAIL.
import { machineNotes } from "./report.mjs";
import { formatNumber, markdownTable } from "./stats.mjs";

export const TIER_LABELS = {
  origin: "origin (cold: MISS)",
  shield: "regional shield (L2-HIT)",
  l1: "edge L1 (L1-HIT)",
  predicted: "predictively cached, depth 1",
  predictedDepth2: "predictively cached, depth 2",
  predictedNow: "dep asked at once (npm-like), d1",
  predictedNowDepth2: "dep asked at once (npm-like), d2",
  parent: "parent packument (cold)",
};
const CHART_ORDER = ["origin", "shield", "l1", "predicted", "predictedDepth2", "predictedNow", "predictedNowDepth2"];

const states = (s) => Object.entries(s ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");

/** p50 as a solid bar, p50..p99 as a light one, on one linear scale. */
export function barChart(summary, width = 44) {
  const rows = [];
  for (const tier of CHART_ORDER) for (const kind of ["packument", "tarball"]) if (summary[tier]?.[kind]) rows.push([tier, kind, summary[tier][kind]]);
  const max = Math.max(...rows.map(([, , s]) => s.p99).filter(Number.isFinite), 1);
  const labelW = Math.max(...rows.map(([t, k]) => `${TIER_LABELS[t]} ${k}`.length));
  const lines = rows.map(([tier, kind, s]) => {
    const a = Math.max(1, Math.round((s.p50 / max) * width));
    const b = Math.max(a, Math.round((s.p99 / max) * width));
    const bar = `${"█".repeat(a)}${"░".repeat(b - a)}`.padEnd(width);
    return `${`${TIER_LABELS[tier]} ${kind}`.padEnd(labelW)} |${bar}| p50 ${formatNumber(s.p50).padStart(5)} ms  p99 ${formatNumber(s.p99).padStart(5)} ms  n=${s.count}`;
  });
  return [`latency by tier (█ median, ░ up to p99; scale 0..${Math.round(max)} ms)`, ...lines].join("\n");
}

function tierTable(summary) {
  const rows = [];
  for (const tier of [...CHART_ORDER, "parent"]) {
    for (const kind of ["packument", "tarball"]) {
      const s = summary[tier]?.[kind];
      if (s) rows.push([TIER_LABELS[tier], kind, s.count, formatNumber(s.p50), formatNumber(s.p99), formatNumber(s.max), states(s.states)]);
    }
  }
  return markdownTable(["tier", "object", "n", "p50 ms", "p99 ms", "max ms", "x-pkgedge-cache seen"], rows);
}

function propagationTable(p, settings, originMs, writer) {
  // What the region adds beyond its configured delay and the origin read of the new copy,
  // counted from the publish's answer (the run's own publish time taken out): the lag goal.
  const beyond = (region) => p.runs.map((run) => {
    const r = run.perRegion.find((x) => x.region === region);
    return r?.convergedMs == null ? null : r.convergedMs - run.publishMs - (region === writer ? 0 : settings.delays?.[region] ?? 0) - originMs;
  }).filter((v) => v !== null);
  const rows = Object.entries(p.byRegion).map(([region, s]) => {
    const over = beyond(region);
    return [region, settings.strategy?.[region] ?? "?", `${settings.delays?.[region] ?? 0}`,
      `${s.converged}/${s.of}`, formatNumber(s.p50), formatNumber(s.max), over.length ? formatNumber(Math.max(...over)) : "-"];
  });
  return markdownTable(["region", "strategy", "PROPAGATION_DELAY_MS", "converged", "p50 ms to new version", "max ms",
    "beyond delay + origin read, after the answer: max ms"], rows);
}

function serverTable(v) {
  const rows = [
    ...v.requestDurationMs.map((x) => ["pkgedge_request_duration_ms", JSON.stringify(x.labels), x.count, formatNumber(x.p50), formatNumber(x.p95), formatNumber(x.p99)]),
    ...v.invalidationLagMs.map((x) => ["pkgedge_invalidation_lag_ms", JSON.stringify(x.labels), x.count, formatNumber(x.p50), formatNumber(x.p95), formatNumber(x.p99)]),
  ];
  return markdownTable(["histogram", "labels", "count", "p50", "p95", "p99"], rows);
}

function herdTable(herds) {
  const rows = herds.flatMap(([latency, h]) => Object.entries(h).map(([kind, x]) => [kind, latency, `${x.ok}/${x.clients}`, x.originReads.metadata, x.originReads.blob,
    formatNumber(x.wallMs), formatNumber(x.latencyMs.p50), formatNumber(x.latencyMs.max), `${x.reachedShieldCold ?? "?"}`, states(x.responses)]));
  return markdownTable(["object", "origin latency ms", "ok", "origin reads (metadata)", "origin reads (blob)", "herd wall ms", "p50 ms", "max ms",
    "answered during the cold read", "responses"], rows);
}

function installTable(inst) {
  const row = (mode, label) => {
    const x = inst[mode];
    const all = inst.runs[mode].map((r) => (r.ok ? r.ms : "failed")).join(", ");
    const reads = inst.runs[mode].map((r) => `${r.originReads.metadata}+${r.originReads.blob}`).join(", ");
    const load = inst.runs[mode].map((r) => r.loadavg1mBefore).join(", ");
    const prefetched = inst.runs[mode].map((r) => r.prefetched ?? "?").join(", ");
    return [label, `${x.ok}/${x.of}`, formatNumber(x.medianMs), all, reads, prefetched, load];
  };
  return markdownTable(["npm install, empty cache", "ok", "median ms", "runs ms", "origin reads metadata+blob", "pkgedge_prefetch_total", "load avg (1 min) before each"],
    [row("off", "PREFETCH=false"), row("on", "PREFETCH=true")]);
}

export function goals(results) {
  const out = [];
  const inst = results.install;
  if (inst?.reduction !== undefined && inst.reduction !== null) {
    out.push(`- prefetch cuts the cold install by >= 40%: ${inst.reduction >= 0.4 ? "PASS" : "FAIL"} (${(inst.reduction * 100).toFixed(1)}%: ` +
      `${inst.off.medianMs} -> ${inst.on.medianMs} ms median)`);
  }
  for (const [label, h] of [["", results.herd], [` (${results.options.herdSlowLatencyMs} ms origin)`, results.herdSlow]]) for (const [kind, x] of Object.entries(h ?? {})) {
    const reads = kind === "tarball" ? x.originReads.blob : x.originReads.metadata;
    out.push(`- ${x.clients} concurrent cold requests for one ${kind}${label}, one origin read: ${reads === 1 && x.ok === x.clients ? "PASS" : "FAIL"} ` +
      `(${reads} ${kind === "tarball" ? "blob" : "metadata"} read(s), ${x.ok}/${x.clients} ok, ${x.reachedShieldCold} answered during the cold read, herd took ${x.wallMs} ms)`);
  }
  const s = results.tiers?.summary;
  for (const tier of ["shield", "l1", "predicted"]) {
    const want = tier === "l1" ? "L1-HIT" : "L2-HIT";
    for (const [kind, x] of Object.entries(s?.[tier] ?? {})) {
      const hits = (x.states[want] ?? 0) + (tier === "l1" ? x.states["HOT-HIT"] ?? 0 : 0);
      if (hits < x.count) out.push(`- ${TIER_LABELS[tier]} ${kind}: ${hits}/${x.count} answers were ${want} (${states(x.states)})`);
    }
  }
  return out;
}

/** The whole report as Markdown (also printed). */
export function buildTiersReport(results) {
  const parts = [`# pkgedge tiers benchmark (${results.startedAt}, commit ${results.source?.commit?.slice(0, 12) ?? "working tree"})`, ""];
  const o = results.options;
  parts.push(`Injected origin latency ${o.originLatencyMs} ms; PROPAGATION_DELAY_MS ${o.delays}; wrangler dev on ${results.machine.cpus} cores, loopback only.`, "");
  if (results.tiers) {
    parts.push("## Latency by tier", "", "```", barChart(results.tiers.summary), "```", "", tierTable(results.tiers.summary), "");
    parts.push(`Method: leaves fetched first in ${o.regions[0]} (origin), then POST /_/warm {region, keys} loads the same keys into the ` +
      `other regions' shields, whose L1 never saw them: their first requests are shield answers; repeats in all regions are L1 answers. ` +
      `Predictive: parent -> child -> grandchild chains; the parent's packument is fetched, then (after ${results.tiers.settleMs} ms, ` +
      `or at once like npm) the child's and grandchild's packument and tarball are fetched for the first time.`, "");
  }
  if (results.propagation) parts.push("## Invalidation convergence after a publish", "", propagationTable(results.propagation, results.settings, o.originLatencyMs, o.regions[0]), "",
    `Time from sending the publish until a region's packument lists the new version (polled every 20 ms per region), so it includes the publish itself and the ` +
    `origin read (${o.originLatencyMs} ms) that fetches the new copy; the publishing region (${o.regions[0]}) applies the change at once.`, "");
  if (results.serverView) parts.push("## The Worker's own view (/_/metrics histograms, before the herd)", "", serverTable(results.serverView), "");
  const herds = [[o.originLatencyMs, results.herd], [o.herdSlowLatencyMs, results.herdSlow]].filter(([, h]) => h);
  if (herds.length) {
    parts.push("## Thundering herd (cold object, one region)", "", herdTable(herds), "",
      "Every client's connection is opened first (GET /_/health), then all requests are sent at once. Requests that arrive " +
      "after the single origin read has filled L1 are L1-HITs; the column 'answered during the cold read' counts MISS + COALESCED.", "");
  }
  if (results.install) {
    parts.push(`## Cold npm install of ${results.install.spec} (${results.install.treePackages} packages), origin latency ${results.install.originLatencyMs} ms`, "",
      installTable(results.install), "",
      `Each run: wrangler dev restarted on the published state with the shields' Durable Object storage and the Cache API deleted; ` +
      `new empty npm cache, new project, --prefer-online, no lockfile.`, "");
  }
  const g = goals(results);
  if (g.length) parts.push("## Goals", "", ...g, "");
  const source = `source: ${results.source?.commit ? `commit ${results.source.commit}` : "working tree"}`;
  parts.push("## Machine", "", ...[...machineNotes(results), source].map((n) => `- ${n}`), "");
  if (results.failures.length) parts.push("## Failures", "", ...results.failures.map((f) => `- [${f.step}] ${String(f.error).slice(0, 1500)}`), "");
  return parts.join("\n");
}
