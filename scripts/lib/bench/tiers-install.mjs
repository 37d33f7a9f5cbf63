// Cold `npm install` of a real tree through pkgedge with a slow origin, prefetch on and off: the
// corpus is published once with no injected latency, then every run restarts wrangler dev on
// the same state with both cache tiers emptied (shield storage and L1 deleted) and a 250 ms origin.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { publishCorpus } from "./corpus.mjs";
import { buildPublishDoc, publishOrThrow } from "./npm-publish.mjs";
import { timeNpmInstall } from "./npm-install.mjs";
import { round, summarize } from "./stats.mjs";
import { createToken } from "./targets.mjs";
import { counterSum, emptyCaches, metricsJson, originFetches, startOn } from "./tiers-server.mjs";

/**
 * Runs `runs` pairs of installs (prefetch on / off, alternating which goes first). Returns per
 * mode every run's time, origin reads and load average, and the medians.
 */
export async function measureInstallPrefetch({ srcDir, corpus, runs, adminToken, vars, originLatencyMs, settleMs = 1500, log, onServer }) {
  const persistDir = mkdtempSync(join(tmpdir(), "pkgedge-bench-tiers-install-"));
  const spec = `${corpus.top}@${corpus.topVersion}`;
  const out = { spec, treePackages: corpus.packages.length, originLatencyMs, runs: { on: [], off: [] } };
  try {
    let server = await startOn({ persistDir, srcDir, adminToken, vars: { ...vars, ORIGIN_LATENCY_MS: "0", PREFETCH: "false" }, log });
    const untrack = onServer(server);
    let token;
    try {
      const t0 = Date.now();
      await publishCorpus(corpus, (entry) => publishOrThrow("pkgedge", server.registry, adminToken, buildPublishDoc(server.registry, [entry])));
      token = await createToken(server.url, adminToken, { name: "bench-tiers-install", scopes: ["read"] });
      out.publishMs = Date.now() - t0;
      log(`  published ${corpus.packages.length} versions (${spec} tree) in ${out.publishMs} ms, origin latency off`);
    } finally {
      await server.stop();
      untrack();
    }
    for (let i = 0; i < runs; i++) {
      for (const prefetch of i % 2 ? [false, true] : [true, false]) {
        const removed = emptyCaches(persistDir);
        server = await startOn({ persistDir, srcDir, adminToken, vars: { ...vars, ORIGIN_LATENCY_MS: String(originLatencyMs), PREFETCH: String(prefetch) }, log: () => {} });
        const drop = onServer(server);
        try {
          // Asking every shard for its stats also starts them, so the install is not charged for that.
          const m0 = await metricsJson(server.url, adminToken);
          const before = originFetches(m0);
          const load = loadavg()[0];
          const r = await timeNpmInstall({ registry: server.registry, token, spec, extraArgs: ["--prefer-online"] });
          await new Promise((res) => setTimeout(res, settleMs));
          const m1 = await metricsJson(server.url, adminToken);
          const after = originFetches(m1);
          const run = {
            ok: r.ok && r.packages >= corpus.packages.length,
            ms: round(r.ms, 0),
            packages: r.packages,
            foreignTarballs: r.foreignTarballs,
            originReads: { metadata: after.metadata - before.metadata, blob: after.blob - before.blob },
            prefetched: counterSum(m1, "pkgedge_prefetch_total") - counterSum(m0, "pkgedge_prefetch_total"),
            loadavg1mBefore: round(load, 2),
            emptied: removed,
            ...(r.ok ? {} : { error: r.stderr.slice(-800) }),
          };
          out.runs[prefetch ? "on" : "off"].push(run);
          log(`  install #${i + 1} prefetch ${prefetch ? "on " : "off"}: ${run.ok ? `${run.ms} ms, ${run.packages} packages` : `FAILED ${r.code} ${r.stderr.slice(-300)}`}, ` +
            `origin reads ${JSON.stringify(run.originReads)}, prefetched ${run.prefetched}, load ${run.loadavg1mBefore}`);
        } finally {
          await server.stop();
          drop();
        }
      }
    }
  } finally {
    rmSync(persistDir, { recursive: true, force: true });
  }
  for (const mode of ["on", "off"]) {
    const good = out.runs[mode].filter((r) => r.ok).map((r) => r.ms);
    out[mode] = { medianMs: good.length ? summarize(good).p50 : null, minMs: good.length ? Math.min(...good) : null, ok: good.length, of: out.runs[mode].length };
  }
  out.reduction = out.on.medianMs && out.off.medianMs ? round(1 - out.on.medianMs / out.off.medianMs, 3) : null;
  return out;
}
