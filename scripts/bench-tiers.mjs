// Benchmarks pkgedge's edge cache engine under `wrangler dev` with an injected origin latency:
// latency by tier (origin, regional shield, edge L1, predictively cached) as a chart,
// invalidation convergence per region, a herd of 1,000 concurrent cold requests for one object,
// and a cold `npm install` of a real tree with prefetch on and off. Writes
// bench-results/tiers.json and tiers.md. All traffic stays on 127.0.0.1; every loop is bounded.
// `node_modules/.bin/node scripts/bench-tiers.mjs --help` lists the options.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, randomSecret } from "./lib/dev-server.mjs";
import { benchmark, number, text } from "./lib/bench/cli.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { loadCorpus } from "./lib/bench/corpus.mjs";
import { edgesyncReport, measureEdgesync } from "./lib/bench/tiers-edgesync.mjs";
import { measureInstallPrefetch } from "./lib/bench/tiers-install.mjs";
import { measureHerd, measurePropagation, measureTierLatency } from "./lib/bench/tiers-measures.mjs";
import { barChart, buildTiersReport } from "./lib/bench/tiers-report.mjs";
import { exportRevision, histogram, metricsJson, startOn } from "./lib/bench/tiers-server.mjs";

const { args, only, log, run } = benchmark({
  name: "tiers",
  about: "pkgedge's cache tiers with an injected origin latency: latency by tier, invalidation convergence, a herd, prefetch on an install.",
  steps: ["tiers", "propagation", "herd", "edgesync", "install"],
  options: {
    src: text("HEAD", "the commit to run (exported, so edits meanwhile do not reload the Worker), or `tree`"),
    "origin-latency": number(250, 0, 5000, "ms the origin waits before each read"),
    delays: text("us-east:100,eu-west:300,ap-south:600", "PROPAGATION_DELAY_MS"),
    strategy: text("us-east:eager,eu-west:lazy,ap-south:lazy", "INVALIDATION_STRATEGY"),
    leaves: number(30, 1, 200, "leaf packages of the latency measure"),
    pairs: number(10, 1, 100, "parent/child/grandchild chains per prefetch mode"),
    settle: number(1500, 0, 30_000, "ms between a parent and its child's first request"),
    "l1-repeats": number(3, 1, 20, "passes over every key for the L1 figures"),
    propagation: number(5, 1, 50, "publishes whose convergence is measured"),
    herd: number(1000, 1, 5000, "concurrent cold requests"),
    "herd-slow-latency": number(3000, 0, 30_000, "ms origin latency of the second herd (0: skip it)"),
    "install-runs": number(3, 1, 10, "installs per prefetch mode"),
    "edgesync-keys": number(100, 10, 2000, "packages of the edgesync-style load (10% hot)"),
    "edgesync-seconds": number(20, 2, 300, "seconds of the edgesync-style load"),
    "edgesync-concurrency": number(2, 1, 32, "connections per region of the edgesync-style load"),
    "edgesync-publish-ms": number(2000, 100, 60_000, "ms between publishes during the edgesync-style load"),
    top: text("express", "the package whose dependency tree the install uses"),
  },
});

const regions = ["us-east", "eu-west", "ap-south"];
const opts = {
  originLatencyMs: args["origin-latency"],
  delays: args.delays,
  strategy: args.strategy,
  regions,
  leaves: args.leaves,
  pairs: args.pairs,
  settleMs: args.settle,
  l1Repeats: args["l1-repeats"],
  propagation: args.propagation,
  herd: args.herd,
  herdSlowLatencyMs: args["herd-slow-latency"],
  installRuns: args["install-runs"],
  src: args.src,
};

const perRegion = (text) => Object.fromEntries(text.split(",").map((s) => s.split(":").map((x) => x.trim())).filter(([r, v]) => r && v));

await run(async ({ results, step }) => {
  results.options = opts;
  results.settings = { strategy: perRegion(opts.strategy), delays: perRegion(opts.delays) };
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
  const serveFresh = async (prefix, originLatencyMs) => {
    const persistDir = mkdtempSync(join(tmpdir(), prefix));
    onCleanup(() => rmSync(persistDir, { recursive: true, force: true }));
    const server = await startOn({ persistDir, srcDir: source.dir, adminToken, vars: { ...vars, ORIGIN_LATENCY_MS: String(originLatencyMs), PREFETCH: "true" }, log });
    const untrack = track(server);
    return { server, done: async () => { await server.stop(); untrack(); } };
  };

  if (["tiers", "propagation", "herd"].some((k) => only.has(k))) {
    const { server, done } = await serveFresh("pkgedge-bench-tiers-", opts.originLatencyMs);
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
    await done();
  }
  if (only.has("herd") && opts.herdSlowLatencyMs > 0) {
    // The same herd with an origin slow enough that every request arrives while the read is in
    // flight (at 250 ms, two cores get only a few hundred of the 1,000 through in that window).
    const { server, done } = await serveFresh("pkgedge-bench-tiers-herd-", opts.herdSlowLatencyMs);
    await step("herdSlow", `3b. the herd again with a ${opts.herdSlowLatencyMs} ms origin`, () => measureHerd(server, { adminToken, region: regions[0], clients: opts.herd, log }), { always: true });
    await done();
  }
  if (only.has("edgesync")) {
    const { server, done } = await serveFresh("pkgedge-bench-tiers-edgesync-", opts.originLatencyMs);
    await step("edgesync", "3c. edgesync-style load: three regions, hot and cold keys, publishes in between", () => measureEdgesync(server, {
      adminToken, regions, keys: args["edgesync-keys"], durationMs: args["edgesync-seconds"] * 1000, concurrency: args["edgesync-concurrency"], publishEveryMs: args["edgesync-publish-ms"], log,
    }));
    await done();
  }
  await step("install", "4. cold npm install, prefetch on and off", async () => {
    const corpus = await loadCorpus({ dir: join(projectRoot, "bench-results", "corpus"), top: args.top, log });
    return measureInstallPrefetch({ srcDir: source.dir, corpus, runs: opts.installRuns, adminToken, vars, originLatencyMs: opts.originLatencyMs, log, onServer: track });
  });
}, {
  report: (results) => [buildTiersReport(results), ...(results.edgesync ? ["", edgesyncReport(results.edgesync)] : [])].join("\n"),
  markdown: (results, report) => `${report}\n`,
});
