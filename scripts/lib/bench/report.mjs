// Turns the npm benchmark's results into the printed table (pkgedge | verdaccio | ratio) and goals.
import { comparisonRow, formatBytes, markdownTable } from "./stats.mjs";

const P = "pkgedge";
const V = "verdaccio";

const row = (measure, a, b, better) => comparisonRow(measure, a, b, better, [P, V]);

function loadRows(load) {
  const rows = [];
  for (const [name, label] of [["packument-abbreviated", "packument, abbreviated"], ["packument-full", "packument, full JSON"], ["tarball-1mb", "tarball, 1 MB"]]) {
    const c = load[name] ?? {};
    const a = c[P];
    const b = c[V];
    const conc = (a ?? b)?.concurrency;
    const n = (a ?? b)?.rounds?.length ?? 1;
    rows.push(row(`${label}: req/s (c=${conc ?? "?"}, median of ${n})`, a?.rps ?? failCell(load, P), b?.rps ?? failCell(load, V), "higher"));
    rows.push(row(`${label}: p50 ms`, a?.latencyMs.p50, b?.latencyMs.p50, "lower"));
    rows.push(row(`${label}: p99 ms`, a?.latencyMs.p99, b?.latencyMs.p99, "lower"));
    rows.push(row(`${label}: response size`, a ? formatBytes(a.avgBytes) : undefined, b ? formatBytes(b.avgBytes) : undefined, null));
    const errs = (r) => (r ? Object.values(r.errors).reduce((x, y) => x + y, 0) + Object.entries(r.statuses).filter(([s]) => s !== "200").reduce((x, [, n]) => x + n, 0) : undefined);
    if (errs(a) || errs(b)) rows.push(row(`${label}: errors / non-200`, errs(a), errs(b), null));
    if (a) rows.push(row(`${label}: edge hit share (HOT-HIT + L1-HIT)`, `${(a.l1HitShare * 100).toFixed(1)}%`, "n/a", null));
  }
  return rows;
}

function failCell(section, target) {
  return section?.errors?.[target] ? "FAILED" : undefined;
}

function installRows(inst) {
  const a = inst.runs?.[P];
  const b = inst.runs?.[V];
  const sec = (ms) => (Number.isFinite(ms) ? ms / 1000 : ms);
  return [
    row(`publish ${inst.treePackages} corpus versions: total s`, sec(inst.publish?.[P]?.totalMs) ?? failCell(inst, P), sec(inst.publish?.[V]?.totalMs) ?? failCell(inst, V), "lower"),
    row(`npm install ${inst.top} (${inst.treePackages} pkgs), empty cache: 1st run s`, sec(a?.firstMs) ?? failCell(inst, P), sec(b?.firstMs) ?? failCell(inst, V), "lower"),
    row(`npm install ${inst.top}: median of ${a?.allMs?.length ?? b?.allMs?.length ?? "?"} runs s`, sec(a?.medianMs), sec(b?.medianMs), "lower"),
  ];
}

function largeRows(large) {
  const rows = [];
  const a = large.bursts?.[P];
  const b = large.bursts?.[V];
  const sizeOf = (x, k) => (x?.[k] ? formatBytes(x[k].bytes) : undefined);
  rows.push(row(`large packument (${large.versions} versions): full size`, sizeOf(a, "full-warm"), sizeOf(b, "full-warm"), null));
  rows.push(row(`large packument: abbreviated size`, sizeOf(a, "abbreviated-warm"), sizeOf(b, "abbreviated-warm"), null));
  rows.push(row(`large packument: seed s (${large.seed?.[P]?.method ?? "pkgedge"})`, large.seed?.[P] ? large.seed[P].totalMs / 1000 : failCell(large, P),
    large.seed?.[V] ? `${(large.seed[V].totalMs / 1000).toFixed(2)} (direct write)` : failCell(large, V), null));
  const puts = large.seed?.[P]?.puts;
  if (puts?.length) rows.push(row(`large packument: pkgedge seed PUT ms (first / last of ${puts.length})`, `${puts[0]} / ${puts[puts.length - 1]}`, "n/a", null));
  for (const k of ["full-cold", "full-warm", "abbreviated-cold", "abbreviated-warm"]) {
    const okNote = (x) => (x && x.ok < x.clients ? ` (${x.ok}/${x.clients} ok)` : "");
    rows.push(row(`large packument ${k}, ${large.clients} parallel: max ms${okNote(a?.[k])}`, a?.[k]?.maxMs, b?.[k]?.maxMs, "lower"));
    rows.push(row(`large packument ${k}, ${large.clients} parallel: p50 ms`, a?.[k]?.p50Ms, b?.[k]?.p50Ms, "lower"));
  }
  return rows;
}

function publishRows(pub) {
  const a = pub[P];
  const b = pub[V];
  return [
    row(`publish ${a?.count ?? b?.count ?? "?"} small packages: p50 ms`, a?.p50 ?? failCell(pub, P), b?.p50 ?? failCell(pub, V), "lower"),
    row("publish small packages: p99 ms", a?.p99, b?.p99, "lower"),
    row("publish small packages: mean ms", a?.mean, b?.mean, "lower"),
  ];
}

function goals(results) {
  const out = [];
  const large = results.large?.bursts?.[P];
  if (large) {
    for (const k of Object.keys(large)) {
      const x = large[k];
      const pass = x.ok === x.clients && x.maxMs < 1000;
      out.push(`- large packument ${k}: every one of ${x.clients} clients under 1 s at pkgedge: ${pass ? "PASS" : "FAIL"} (max ${x.maxMs} ms, ${x.ok}/${x.clients} ok)`);
    }
  }
  const pub = results.publish?.[P];
  if (pub?.count) {
    out.push(`- publish latency well under 100 ms at pkgedge: ${pub.p99 < 100 ? "PASS" : pub.p50 < 100 ? "PARTIAL (p50 under, p99 over)" : "FAIL"} (p50 ${pub.p50} ms, p99 ${pub.p99} ms)`);
  }
  for (const [name, c] of Object.entries(results.load ?? {})) {
    if (c?.[P]?.l1HitShare !== undefined && c[P].l1HitShare < 0.99) out.push(`- ${name}: only ${(c[P].l1HitShare * 100).toFixed(1)}% of pkgedge answers were HOT-HIT or L1-HIT (${JSON.stringify(c[P].headerValuesAllRounds)})`);
  }
  return out;
}

/** Every client's latency in each large-packument burst, sorted, with the tiers that answered. */
function burstDetails(large) {
  const lines = [];
  for (const [target, bursts] of Object.entries(large?.bursts ?? {})) {
    for (const [k, x] of Object.entries(bursts)) {
      const sorted = [...x.latenciesMs].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
      lines.push(`- ${target} ${k}: ${sorted.map((v) => (v === null ? "error" : Math.round(v))).join(" ")} ms; ${JSON.stringify(x.responses)}`);
    }
  }
  return lines;
}

/** How trustworthy a run's numbers are: reloads, other work before and during each measure. */
export function machineNotes(results) {
  const notes = [];
  if (results.pkgedgeReloadedDuringRun) notes.push("WARNING: the Worker's sources changed during the run (wrangler dev reloaded it): rerun for clean numbers");
  const bg = results.machine.backgroundCpuBusy;
  if (bg !== null && bg !== undefined) {
    notes.push(`machine: ${Math.round(bg * 100)}% of CPU busy with other work before start${bg > 0.15 ? " (NOISY: rerun on an idle machine)" : ""}; ` +
      `sha256(64 MiB) ${results.machine.sha256_64MiB_ms} ms; total run ${results.totalSeconds} s`);
  }
  const load = results.loadavg ?? {};
  if (load.start) {
    const steps = Object.entries(load).filter(([k]) => k !== "start" && k !== "end").map(([k, v]) => `${k} ${v.before1m}->${v.after1m}`);
    notes.push(`load average (1/5/15 min): ${load.start.join(" ")} at start, ${load.end?.join(" ") ?? "?"} at end${steps.length ? `; 1 min before->after each measure: ${steps.join(", ")}` : ""}`);
  }
  const other = Object.entries(results.otherWorkCpuDuring ?? {}).filter(([, v]) => v !== null);
  if (other.length) {
    const noisy = other.some(([, v]) => v > 0.1);
    notes.push(`CPU used by work outside this benchmark during each measure: ${other.map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(", ")}` +
      `${noisy ? " (NOISY: another process competed for the CPUs)" : ""}`);
  }
  return notes;
}

/** The whole printed report: one table and a list of goal checks. */
export function buildReport(results) {
  const rows = [];
  if (results.load) rows.push(...loadRows(results.load));
  if (results.install) rows.push(...installRows(results.install));
  if (results.large) rows.push(...largeRows(results.large));
  if (results.publish) rows.push(...publishRows(results.publish));
  const vv = results.targets?.verdaccio?.version;
  const header = ["measure", P, vv ? `verdaccio ${vv}` : V, "ratio pkgedge/verdaccio"];
  const g = goals(results);
  const notes = [
    `loopback only, ${results.machine.cpus} cores shared by workerd (wrangler dev), Verdaccio and the load generator; ` +
    `reads ${results.options.auth ? "send the token like npm does" : "are anonymous"}, ${results.options.gzip ? "with" : "without"} accept-encoding gzip`,
  ];
  notes.push(...machineNotes(results));
  const details = burstDetails(results.large);
  return [
    markdownTable(header, rows),
    "",
    ...(details.length ? [`Large packument, each client's latency (sorted) and answers:`, ...details, ""] : []),
    ...(g.length ? ["Goals:", ...g, ""] : []),
    ...notes,
  ].join("\n");
}
