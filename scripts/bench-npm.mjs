// Benchmarks pkgedge's npm registry (under `wrangler dev`) against Verdaccio on this machine,
// in one run: L1-hit read throughput, a cold `npm install` of a real tree, a 2,000-version
// packument under 20 parallel clients, and 100 publishes. Prints a table, writes
// bench-results/npm.json. All traffic stays on 127.0.0.1; every loop is bounded.
//
//   node_modules/.bin/node scripts/bench-npm.mjs [--only=load,install,large,publish]
//     [--targets=pkgedge,verdaccio] [--duration=6] [--rounds=3] [--preheat=5] [--concurrency=32] [--top=express]
//     [--install-runs=3] [--clients=20] [--publishes=100] [--wait-idle=30] [--gzip] [--no-auth]
//     [--refresh-corpus]
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "./lib/dev-server.mjs";
import { loadCorpus } from "./lib/bench/corpus.mjs";
import { measureInstall, measureLargePackument, measureLoad, measurePublish } from "./lib/bench/measures.mjs";
import { buildReport } from "./lib/bench/report.mjs";
import { startPkgedge, startVerdaccioTarget } from "./lib/bench/targets.mjs";
import { ensureVerdaccio } from "./lib/bench/verdaccio.mjs";
import { measureStep, waitForQuietMachine } from "./lib/bench/machine.mjs";
import { bounded as boundedOption, reportFailures, runBench, timedLog } from "./lib/bench/cli.mjs";

const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: "load,install,large,publish" },
    targets: { type: "string", default: "pkgedge,verdaccio" },
    duration: { type: "string", default: "6" },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    preheat: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    top: { type: "string", default: "express" },
    "install-runs": { type: "string", default: "3" },
    "packument-versions": { type: "string", default: "50" },
    "large-versions": { type: "string", default: "2000" },
    clients: { type: "string", default: "20" },
    publishes: { type: "string", default: "100" },
    "wait-idle": { type: "string", default: "30" },
    gzip: { type: "boolean", default: false },
    "no-auth": { type: "boolean", default: false },
    "refresh-corpus": { type: "boolean", default: false },
    "wrangler-log": { type: "string", default: "warn" },
    out: { type: "string", default: join(projectRoot, "bench-results", "npm.json") },
  },
});

const bounded = (name, min, max) => boundedOption(args, name, min, max);

const opts = {
  durationMs: bounded("duration", 1, 120) * 1000,
  warmupMs: bounded("warmup", 0, 30) * 1000,
  concurrency: bounded("concurrency", 1, 256),
  rounds: bounded("rounds", 1, 10),
  preheatMs: bounded("preheat", 0, 60) * 1000,
  installRuns: bounded("install-runs", 1, 10),
  packumentVersions: bounded("packument-versions", 1, 500),
  largeVersions: bounded("large-versions", 100, 5000),
  clients: bounded("clients", 1, 100),
  publishes: bounded("publishes", 1, 1000),
  gzip: args.gzip,
  auth: !args["no-auth"],
};
const only = new Set(args.only.split(",").map((s) => s.trim()));
const wanted = args.targets.split(",").map((s) => s.trim());
const benchDir = join(projectRoot, "bench-results");
const started = Date.now();
const log = timedLog(started);

// wrangler dev logs every request at info level through its Node process, which would compete
// with workerd for the same two cores; Verdaccio's request log is off too (see verdaccio.mjs).
process.env.WRANGLER_LOG ??= args["wrangler-log"];

async function main() {
  mkdirSync(benchDir, { recursive: true });
  const results = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform },
    options: { ...opts, only: [...only], targets: wanted },
    targets: {},
    failures: [],
  };
  await waitForQuietMachine(results.machine, bounded("wait-idle", 0, 600), log);
  results.cpuBusyDuring = {};
  results.otherWorkCpuDuring = {};

  let corpus = null;
  if (only.has("install")) {
    corpus = await loadCorpus({ dir: join(benchDir, "corpus"), top: args.top, refresh: args["refresh-corpus"], log });
    if (corpus.packages.length < 50) log(`warning: ${args.top} gives only ${corpus.packages.length} packages (< 50); try --top with a bigger tree`);
  }

  const targets = [];
  if (wanted.includes("pkgedge")) {
    try {
      targets.push(await startPkgedge({ log }));
    } catch (err) {
      results.failures.push({ target: "pkgedge", step: "start", error: err.message.slice(0, 4000) });
      log(`pkgedge did not start: ${err.message.slice(0, 2000)}`);
    }
  }
  if (wanted.includes("verdaccio")) {
    const version = ensureVerdaccio(join(benchDir, "verdaccio"), log);
    log(`verdaccio ${version} installed`);
    targets.push(await startVerdaccioTarget({ dir: join(benchDir, "verdaccio"), log }));
  }
  for (const t of targets) results.targets[t.name] = { url: t.url, registry: t.registry, version: t.version };

  const steps = [
    ["load", "1. L1-hit reads at fixed concurrency", () => measureLoad(targets, opts, log)],
    ["install", "2. cold npm install of a real tree", () => measureInstall(targets, corpus, opts, log)],
    ["large", "3. large packument, parallel clients", () => measureLargePackument(targets, opts, log)],
    ["publish", "4. sequential publishes", () => measurePublish(targets, opts, log)],
  ];
  for (const [key, title, run] of steps) {
    if (only.has(key)) await measureStep(results, key, title, run, log);
  }

  const pk = targets.find((t) => t.name === "pkgedge");
  if (pk?.sourcesChanged()) {
    results.pkgedgeReloadedDuringRun = true;
    log("warning: the Worker's sources changed during the run, so wrangler dev reloaded it mid-run: numbers mix code versions");
  }
  if (pk) {
    try {
      results.pkgedgeMetrics = await pk.metrics();
    } catch (err) {
      results.pkgedgeMetrics = { error: err.message };
    }
  }
  results.totalSeconds = Math.round((Date.now() - started) / 1000);

  const report = buildReport(results);
  results.table = report;
  writeFileSync(args.out, JSON.stringify(results, null, 2));
  process.stdout.write(`\n${report}\n\nresults: ${args.out} (${results.totalSeconds} s)\n`);
  return reportFailures(results.failures);
}

await runBench(main, log);
