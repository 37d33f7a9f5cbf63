// Benchmarks pkgedge's edge cache engine under `wrangler dev` with an injected origin latency:
// latency by tier (origin, regional shield, edge L1, predictively cached) as a chart,
// invalidation convergence per region, a herd of 1,000 concurrent cold requests for one object,
// and a cold `npm install` of a real tree with prefetch on and off. Writes
// bench-results/tiers.json and tiers.md. All traffic stays on 127.0.0.1; every loop is bounded.
//
//   node_modules/.bin/node scripts/bench-tiers.mjs [--only=tiers,propagation,herd,install]
//     [--src=HEAD|tree] [--origin-latency=250] [--delays=us-east:100,eu-west:300,ap-south:600]
//     [--leaves=30] [--pairs=10] [--settle=1500] [--l1-repeats=3] [--propagation=5]
//     [--herd=1000] [--herd-slow-latency=3000 (0: skip)] [--install-runs=3] [--top=express] [--wait-idle=30]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot, randomSecret } from "./lib/dev-server.mjs";
import { loadCorpus } from "./lib/bench/corpus.mjs";
import { backgroundLoad, busyShare, cpuSnapshot, otherShare } from "./lib/bench/machine.mjs";
import { round } from "./lib/bench/stats.mjs";
import { measureInstallPrefetch } from "./lib/bench/tiers-install.mjs";
import { measureHerd, measurePropagation, measureTierLatency } from "./lib/bench/tiers-measures.mjs";
import { barChart, buildTiersReport } from "./lib/bench/tiers-report.mjs";
import { exportRevision, histogram, metricsJson, startOn } from "./lib/bench/tiers-server.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { bounded as boundedOption, runBench, timedLog } from "./lib/bench/cli.mjs";

const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: "tiers,propagation,herd,install" },
    src: { type: "string", default: "HEAD" },
    "origin-latency": { type: "string", default: "250" },
    delays: { type: "string", default: "us-east:100,eu-west:300,ap-south:600" },
    strategy: { type: "string", default: "us-east:eager,eu-west:lazy,ap-south:lazy" },
    leaves: { type: "string", default: "30" },
    pairs: { type: "string", default: "10" },
    settle: { type: "string", default: "1500" },
    "l1-repeats": { type: "string", default: "3" },
    propagation: { type: "string", default: "5" },
    herd: { type: "string", default: "1000" },
    "herd-slow-latency": { type: "string", default: "3000" },
    "install-runs": { type: "string", default: "3" },
    top: { type: "string", default: "express" },
    "wait-idle": { type: "string", default: "30" },
    out: { type: "string", default: join(projectRoot, "bench-results", "tiers.json") },
  },
});

const bounded = (name, min, max) => boundedOption(args, name, min, max);

const regions = ["us-east", "eu-west", "ap-south"];
const opts = {
  originLatencyMs: bounded("origin-latency", 0, 5000),
  delays: args.delays,
  strategy: args.strategy,
  regions,
  leaves: bounded("leaves", 1, 200),
  pairs: bounded("pairs", 1, 100),
  settleMs: bounded("settle", 0, 30_000),
  l1Repeats: bounded("l1-repeats", 1, 20),
  propagation: bounded("propagation", 1, 50),
  herd: bounded("herd", 1, 5000),
  herdSlowLatencyMs: bounded("herd-slow-latency", 0, 30_000),
  installRuns: bounded("install-runs", 1, 10),
  src: args.src,
};
const only = new Set(args.only.split(",").map((s) => s.trim()));
const started = Date.now();
const log = timedLog(started);
process.env.WRANGLER_LOG ??= "warn";

const perRegion = (text) => Object.fromEntries(text.split(",").map((s) => s.split(":").map((x) => x.trim())).filter(([r, v]) => r && v));

async function main() {
  mkdirSync(join(projectRoot, "bench-results"), { recursive: true });
  const results = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, node: process.version },
    options: opts,
    settings: { strategy: perRegion(opts.strategy), delays: perRegion(opts.delays) },
    loadavg: {},
    otherWorkCpuDuring: {},
    failures: [],
  };
  const idleDeadline = Date.now() + bounded("wait-idle", 0, 600) * 1000;
  let bg = await backgroundLoad(2000);
  while (bg > 0.15 && Date.now() < idleDeadline) {
    log(`machine ${Math.round(bg * 100)}% busy with other work; waiting for it to calm down...`);
    bg = await backgroundLoad(3000);
  }
  results.machine.backgroundCpuBusyBeforeStart = bg;
  results.loadavg.start = loadavg().map((v) => round(v, 2));
  log(`machine: ${results.machine.cpus} cores, ${Math.round(bg * 100)}% busy with other work, load average ${results.loadavg.start.join(" ")}`);

  // The committed tree by default: others edit the working tree while this runs.
  const source = opts.src === "tree" ? { dir: projectRoot, commit: null } : exportRevision(opts.src);
  results.source = source;
  if (source.commit) onCleanup(() => rmSync(source.dir, { recursive: true, force: true }));
  log(`source: ${source.commit ? `commit ${source.commit.slice(0, 12)} (exported to ${source.dir})` : "the working tree"}`);
  const adminToken = `admin-${randomSecret(32)}`;
  const vars = {
    PROPAGATION_DELAY_MS: opts.delays,
    INVALIDATION_STRATEGY: opts.strategy,
    REGIONS: regions.join(","),
  };
  const servers = new Set();
  onCleanup(async () => {
    for (const s of servers) await s.stop();
  });
  const track = (s) => {
    servers.add(s);
    return () => servers.delete(s);
  };

  const step = async (key, title, fn, enabled = only.has(key)) => {
    if (!enabled) return;
    log(title);
    const cpu0 = cpuSnapshot();
    const load0 = loadavg()[0];
    try {
      results[key] = await fn();
    } catch (err) {
      results.failures.push({ step: key, error: err.stack ?? String(err) });
      log(`${key} failed: ${err.stack ?? err}`);
    }
    results.loadavg[key] = { before1m: round(load0, 2), after1m: round(loadavg()[0], 2) };
    results.otherWorkCpuDuring[key] = otherShare(cpu0, cpuSnapshot());
    results[`cpuBusyDuring_${key}`] = busyShare(cpu0, cpuSnapshot());
  };

  if (["tiers", "propagation", "herd"].some((k) => only.has(k))) {
    const persistDir = mkdtempSync(join(tmpdir(), "pkgedge-bench-tiers-"));
    onCleanup(() => rmSync(persistDir, { recursive: true, force: true }));
    const server = await startOn({ persistDir, srcDir: source.dir, adminToken, vars: { ...vars, ORIGIN_LATENCY_MS: String(opts.originLatencyMs), PREFETCH: "true" }, log });
    const untrack = track(server);
    await step("tiers", "1. latency by tier", () => measureTierLatency(server, { adminToken, regions, leaves: opts.leaves, pairs: opts.pairs, settleMs: opts.settleMs, l1Repeats: opts.l1Repeats, log }));
    if (results.tiers) process.stderr.write(`\n${barChart(results.tiers.summary)}\n\n`);
    await step("propagation", "2. invalidation convergence per region", () => measurePropagation(server, { adminToken, regions, count: opts.propagation, log }));
    try {
      // The Worker's own view, before the herd adds its thousands of answers.
      const m = await metricsJson(server.url, adminToken);
      results.serverView = { requestDurationMs: histogram(m, "pkgedge_request_duration_ms"), invalidationLagMs: histogram(m, "pkgedge_invalidation_lag_ms") };
    } catch (err) {
      results.failures.push({ step: "metrics", error: err.message });
    }
    await step("herd", `3. ${opts.herd} concurrent cold requests for one object`, () => measureHerd(server, { adminToken, region: regions[0], clients: opts.herd, log }));
    await server.stop();
    untrack();
  }
  if (only.has("herd") && opts.herdSlowLatencyMs > 0) {
    // The same herd with an origin slow enough that every request arrives while the read is in
    // flight (at 250 ms, two cores get only a few hundred of the 1,000 through in that window).
    const persistDir = mkdtempSync(join(tmpdir(), "pkgedge-bench-tiers-herd-"));
    onCleanup(() => rmSync(persistDir, { recursive: true, force: true }));
    const server = await startOn({ persistDir, srcDir: source.dir, adminToken, vars: { ...vars, ORIGIN_LATENCY_MS: String(opts.herdSlowLatencyMs), PREFETCH: "true" }, log });
    const untrack = track(server);
    await step("herdSlow", `3b. the herd again with a ${opts.herdSlowLatencyMs} ms origin`, () => measureHerd(server, { adminToken, region: regions[0], clients: opts.herd, log }), true);
    await server.stop();
    untrack();
  }
  await step("install", "4. cold npm install, prefetch on and off", async () => {
    const corpus = await loadCorpus({ dir: join(projectRoot, "bench-results", "corpus"), top: args.top, log });
    return measureInstallPrefetch({ srcDir: source.dir, corpus, runs: opts.installRuns, adminToken, vars, originLatencyMs: opts.originLatencyMs, log, onServer: track });
  });

  results.loadavg.end = loadavg().map((v) => round(v, 2));
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  const other = Object.entries(results.otherWorkCpuDuring).filter(([, v]) => v !== null);
  results.machineNotes = [
    `${results.machine.cpus} cores (${results.machine.cpuModel}); ${Math.round(bg * 100)}% of CPU busy with other work before start`,
    `load average (1/5/15 min): ${results.loadavg.start.join(" ")} at start, ${results.loadavg.end.join(" ")} at end; ` +
      Object.entries(results.loadavg).filter(([k]) => k !== "start" && k !== "end").map(([k, v]) => `${k} ${v.before1m}->${v.after1m}`).join(", "),
    `CPU used by work outside this benchmark: ${other.map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(", ")}`,
    `source: ${source.commit ? `commit ${source.commit}` : "working tree"}; total run ${results.totalSeconds} s`,
  ];
  const report = buildTiersReport(results);
  writeFileSync(args.out, JSON.stringify(results, null, 2));
  writeFileSync(args.out.replace(/\.json$/, ".md"), `${report}\n`);
  process.stdout.write(`\n${report}\nresults: ${args.out} and ${args.out.replace(/\.json$/, ".md")} (${results.totalSeconds} s)\n`);
  return results.failures.length ? 1 : 0;
}

await runBench(main, log);
