// Benchmarks pkgedge's npm registry (under `wrangler dev`) against Verdaccio on this machine,
// in one run: L1-hit read throughput, a cold `npm install` of a real tree, a 2,000-version
// packument under 20 parallel clients, and 100 publishes. Prints a table, writes
// bench-results/npm.json. All traffic stays on 127.0.0.1; every loop is bounded.
// `node_modules/.bin/node scripts/bench-npm.mjs --help` lists the options.
import { join } from "node:path";
import { projectRoot } from "./lib/dev-server.mjs";
import { benchmark, flag, number, text } from "./lib/bench/cli.mjs";
import { loadCorpus } from "./lib/bench/corpus.mjs";
import { measureInstall, measureLargePackument, measureLoad, measurePublish } from "./lib/bench/measures.mjs";
import { startCeilings } from "./lib/bench/ceilings.mjs";
import { buildReport } from "./lib/bench/report.mjs";
import { pkgedgeDirect, recordPkgedgeRun, startPkgedge, startVerdaccioTarget } from "./lib/bench/targets.mjs";
import { ensureVerdaccio } from "./lib/bench/verdaccio.mjs";

const { args, only, log, run } = benchmark({
  name: "npm",
  about: "pkgedge's npm registry against Verdaccio: L1-hit reads, a cold npm install, a large packument, publishes.",
  steps: ["load", "install", "large", "publish"],
  options: {
    targets: text("pkgedge,pkgedge-direct,verdaccio", "registries to measure (pkgedge-direct: the same pkgedge at its Worker's own workerd socket, load step only)"),
    duration: number(6, 1, 120, "seconds of recorded load per round"),
    warmup: number(1, 0, 30, "unrecorded seconds before each round"),
    rounds: number(3, 1, 10, "rounds per read measure (the median is reported)"),
    preheat: number(5, 0, 60, "seconds of load before the first round"),
    concurrency: number(32, 1, 256, "connections of the read load"),
    top: text("express", "the package whose dependency tree the install measure uses"),
    "install-runs": number(3, 1, 10, "cold installs per registry"),
    "packument-versions": number(50, 1, 5000, "versions of the read measure's packument"),
    "large-versions": number(2000, 100, 5000, "versions of the large packument"),
    clients: number(20, 1, 200, "parallel clients of the large packument"),
    publishes: number(100, 1, 1000, "sequential publishes"),
    gzip: flag("reads ask for gzip"),
    "no-auth": flag("reads send no token"),
    "refresh-corpus": flag("resolve and fetch the install corpus again"),
    "no-ceilings": flag("leave the harness ceilings (nginx, trivial Workers) out of the read load"),
  },
});

const opts = {
  durationMs: args.duration * 1000,
  warmupMs: args.warmup * 1000,
  concurrency: args.concurrency,
  rounds: args.rounds,
  preheatMs: args.preheat * 1000,
  installRuns: args["install-runs"],
  packumentVersions: args["packument-versions"],
  largeVersions: args["large-versions"],
  clients: args.clients,
  publishes: args.publishes,
  gzip: args.gzip,
  auth: !args["no-auth"],
};
const wanted = args.targets.split(",").map((s) => s.trim());
const benchDir = join(projectRoot, "bench-results");

await run(async ({ results, step }) => {
  results.options = { ...opts, only: [...only], targets: wanted };
  results.targets = {};
  let corpus = null;
  if (only.has("install")) {
    corpus = await loadCorpus({ dir: join(benchDir, "corpus"), top: args.top, refresh: args["refresh-corpus"], log });
    if (corpus.packages.length < 50) log(`warning: ${args.top} gives only ${corpus.packages.length} packages (< 50); try --top with a bigger tree`);
  }

  const targets = [];
  if (wanted.includes("pkgedge") || wanted.includes("pkgedge-direct")) {
    try {
      const pk = await startPkgedge({ log });
      targets.push(pk);
      if (wanted.includes("pkgedge-direct")) {
        const direct = await pkgedgeDirect(pk, log);
        if (direct) targets.push(direct);
      }
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

  // The harness ceilings (nginx with the same bytes, trivial Workers) take turns in the same rounds.
  const ceilings = args["no-ceilings"] ? null : (files) => startCeilings(files, log);
  await step("load", "1. L1-hit reads at fixed concurrency, with the harness ceilings", () => measureLoad(targets, opts, log, { ceilings }));
  // The direct socket shares pkgedge's storage: only the read load compares the two paths.
  const registries = targets.filter((t) => t.name !== "pkgedge-direct");
  await step("install", "2. cold npm install of a real tree", () => measureInstall(registries, corpus, opts, log));
  await step("large", "3. large packument, parallel clients", () => measureLargePackument(registries, opts, log));
  await step("publish", "4. sequential publishes", () => measurePublish(registries, opts, log));

  const pk = targets.find((t) => t.name === "pkgedge");
  if (pk) await recordPkgedgeRun(pk, results, log);
}, { report: buildReport });

