// Benchmarks pkgedge's OCI registry (under `wrangler dev`) against Debian's docker-registry
// (distribution 2.8) on this machine, in one run: the same umoci-built image (a 10 MiB layer)
// pushed to both with skopeo, then blob and manifest (by tag, by digest) GETs at fixed
// concurrency and whole-image `skopeo copy` pulls and pushes. Prints a table, writes
// bench-results/oci.json and oci.md. All traffic stays on 127.0.0.1; every loop is bounded.
//
//   node_modules/.bin/node scripts/bench-oci.mjs [--only=reads,copies] [--targets=pkgedge,docker-registry]
//     [--duration=5] [--warmup=1] [--rounds=3] [--preheat=3] [--concurrency=32] [--blob-concurrency=8]
//     [--copy-runs=3] [--layer-mib=10] [--wait-idle=30]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "./lib/dev-server.mjs";
import { killOnExit, onCleanup } from "./lib/bench/cleanup.mjs";
import { startDockerRegistry } from "./lib/bench/docker-registry.mjs";
import { measureStep, waitForQuietMachine } from "./lib/bench/machine.mjs";
import { buildBenchImage } from "./lib/bench/oci-image.mjs";
import { measureCopies, measureReads, seedTargets } from "./lib/bench/oci-measures.mjs";
import { buildOciReport } from "./lib/bench/oci-report.mjs";
import { startPkgedge } from "./lib/bench/targets.mjs";
import { bounded as boundedOption, reportFailures, runBench, timedLog } from "./lib/bench/cli.mjs";

const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: "reads,copies" },
    targets: { type: "string", default: "pkgedge,docker-registry" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    preheat: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    "blob-concurrency": { type: "string", default: "8" },
    "copy-runs": { type: "string", default: "3" },
    "layer-mib": { type: "string", default: "10" },
    "wait-idle": { type: "string", default: "30" },
    "wrangler-log": { type: "string", default: "warn" },
    out: { type: "string", default: join(projectRoot, "bench-results", "oci.json") },
  },
});

const bounded = (name, min, max) => boundedOption(args, name, min, max);

const opts = {
  durationMs: bounded("duration", 1, 120) * 1000,
  warmupMs: bounded("warmup", 0, 30) * 1000,
  rounds: bounded("rounds", 1, 10),
  preheatMs: bounded("preheat", 0, 60) * 1000,
  concurrency: bounded("concurrency", 1, 256),
  blobConcurrency: bounded("blob-concurrency", 1, 64),
  copyRuns: bounded("copy-runs", 1, 10),
  layerBytes: bounded("layer-mib", 1, 512) * 1024 * 1024,
};
const only = new Set(args.only.split(",").map((s) => s.trim()));
const wanted = args.targets.split(",").map((s) => s.trim());
const started = Date.now();
const log = timedLog(started);

// wrangler dev logs every request at info level through its Node process, which would compete
// with workerd for the same two cores; docker-registry's access log is off too.
process.env.WRANGLER_LOG ??= args["wrangler-log"];

async function main() {
  const outDir = join(args.out, "..");
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "pkgedge-bench-oci-"));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const results = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform },
    options: { ...opts, only: [...only], targets: wanted },
    targets: {},
    failures: [],
    cpuBusyDuring: {},
    otherWorkCpuDuring: {},
  };
  await waitForQuietMachine(results.machine, bounded("wait-idle", 0, 600), log);

  const image = await buildBenchImage(join(work, "image"), { layerBytes: opts.layerBytes });
  results.image = { ...image, dir: undefined, ref: undefined };
  log(`image built with umoci: ${image.manifestDigest}, layers ${image.layers.map((l) => `${l.size} B`).join(" + ")}`);

  const targets = [];
  let pk = null;
  if (wanted.includes("pkgedge")) {
    try {
      pk = await startPkgedge({ log });
      targets.push({ ...pk, host: new URL(pk.url).host, pushCreds: `bench:${pk.token}`, pullCreds: undefined });
    } catch (err) {
      results.failures.push({ target: "pkgedge", step: "start", error: err.message.slice(0, 4000) });
      log(`pkgedge did not start: ${err.message.slice(0, 2000)}`);
    }
  }
  if (wanted.includes("docker-registry")) {
    const server = await startDockerRegistry();
    killOnExit(server.pid);
    onCleanup(() => server.stop());
    log(`docker-registry ${server.version} on ${server.url}`);
    targets.push({ name: "docker-registry", url: server.url, host: server.host, version: server.version, cacheHeader: null, pushCreds: undefined, pullCreds: undefined });
  }
  for (const t of targets) results.targets[t.name] = { url: t.url, version: t.version };

  await measureStep(results, "seed", "1. push the image to each registry", () => seedTargets(targets, image, work, log), log);
  const ready = results.seed?.ready ?? [];
  if (results.seed) delete results.seed.ready;
  if (only.has("reads")) await measureStep(results, "reads", "2. blob and manifest GETs at fixed concurrency", () => measureReads(ready, image, opts, log), log);
  if (only.has("copies")) await measureStep(results, "copies", "3. whole-image skopeo copy, pull and push", () => measureCopies(ready, image, opts, work, log), log);

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
  const report = buildOciReport(results);
  results.table = report;
  writeFileSync(args.out, JSON.stringify(results, null, 2));
  const md = args.out.replace(/\.json$/, "") + ".md";
  writeFileSync(md, `# OCI benchmark: pkgedge vs docker-registry (${results.startedAt})\n\n${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: ${args.out}, ${md} (${results.totalSeconds} s)\n`);
  return reportFailures(results.failures);
}

await runBench(main, log);
