// Benchmarks pkgedge's OCI registry (under `wrangler dev`) against Debian's docker-registry
// (distribution 2.8) on this machine, in one run: the same umoci-built image (a 10 MiB layer)
// pushed to both with skopeo, then blob and manifest (by tag, by digest) GETs at fixed
// concurrency and whole-image `skopeo copy` pulls and pushes. Prints a table, writes
// bench-results/oci.json and oci.md. All traffic stays on 127.0.0.1; every loop is bounded.
// `node_modules/.bin/node scripts/bench-oci.mjs --help` lists the options.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchmark, number, text } from "./lib/bench/cli.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { startDockerRegistry } from "./lib/bench/docker-registry.mjs";
import { startCeilings } from "./lib/bench/ceilings.mjs";
import { findWorkerSocket } from "./lib/bench/workerd-socket.mjs";
import { buildBenchImage } from "./lib/bench/oci-image.mjs";
import { measureCopies, measureReads, seedTargets } from "./lib/bench/oci-measures.mjs";
import { buildOciReport } from "./lib/bench/oci-report.mjs";
import { recordPkgedgeRun, startPkgedge } from "./lib/bench/targets.mjs";

const { args, only, log, run } = benchmark({
  name: "oci",
  about: "pkgedge's OCI registry against Debian's docker-registry: blob and manifest GETs, whole-image skopeo copies.",
  steps: ["reads", "copies"],
  options: {
    targets: text("pkgedge,docker-registry", "registries to measure"),
    duration: number(5, 1, 120, "seconds of recorded load per round"),
    warmup: number(1, 0, 30, "unrecorded seconds before each round"),
    rounds: number(3, 1, 10, "rounds per read measure (the median is reported)"),
    preheat: number(3, 0, 60, "seconds of load before the first round"),
    concurrency: number(32, 1, 256, "connections of the manifest load"),
    "blob-concurrency": number(8, 1, 64, "connections of the blob load"),
    "copy-runs": number(3, 1, 10, "skopeo pulls and pushes per registry"),
    "layer-mib": number(10, 1, 512, "size of the image's large layer"),
  },
});

const opts = {
  durationMs: args.duration * 1000,
  warmupMs: args.warmup * 1000,
  rounds: args.rounds,
  preheatMs: args.preheat * 1000,
  concurrency: args.concurrency,
  blobConcurrency: args["blob-concurrency"],
  copyRuns: args["copy-runs"],
  layerBytes: args["layer-mib"] * 1024 * 1024,
};
const wanted = args.targets.split(",").map((s) => s.trim());

await run(async ({ results, step }) => {
  results.options = { ...opts, only: [...only], targets: wanted };
  results.targets = {};
  const work = mkdtempSync(join(tmpdir(), "pkgedge-bench-oci-"));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
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
    onCleanup(() => server.stop());
    log(`docker-registry ${server.version} on ${server.url}`);
    targets.push({ name: "docker-registry", url: server.url, host: server.host, version: server.version, cacheHeader: null, pushCreds: undefined, pullCreds: undefined });
  }
  for (const t of targets) results.targets[t.name] = { url: t.url, version: t.version };

  // Every measure reads the pushed image, so the push runs whatever --only says.
  await step("seed", "1. push the image to each registry", () => seedTargets(targets, image, work, log), { always: true });
  const ready = results.seed?.ready ?? [];
  if (results.seed) delete results.seed.ready;
  // pkgedge straight to its own workerd socket as well (no wrangler dev proxy), for the reads.
  const pkReady = ready.find((t) => t.name === "pkgedge");
  const directUrl = pkReady ? await findWorkerSocket(pkReady.server.pid) : null;
  if (pkReady) log(`pkgedge's own workerd socket: ${directUrl ?? "NOT FOUND (ss -ltnp)"}`);
  const readTargets = directUrl ? [...ready, { ...pkReady, name: "pkgedge-direct", url: directUrl, host: new URL(directUrl).host }] : ready;
  // The harness ceilings (nginx with the same bytes, trivial Workers) take turns in the same rounds.
  await step("reads", "2. blob and manifest GETs at fixed concurrency, with the harness ceilings", async () => {
    const files = { blob: readFileSync(join(image.dir, "blobs", "sha256", image.layerDigest.slice(7))), manifest: readFileSync(join(image.dir, "blobs", "sha256", image.manifestDigest.slice(7))) };
    const ceilings = await startCeilings(files, log);
    try {
      return { ...(await measureReads(readTargets, image, opts, log, { ceilings })), harness: { names: ceilings.targets.map((c) => c.name), versions: ceilings.versions, missing: ceilings.missing } };
    } finally {
      await ceilings.stop();
    }
  });
  await step("copies", "3. whole-image skopeo copy, pull and push", () => measureCopies(ready, image, opts, work, log));
  if (pk) await recordPkgedgeRun(pk, results, log);
}, {
  report: buildOciReport,
  markdown: (results, report) => `# OCI benchmark: pkgedge vs docker-registry (${results.startedAt})\n\n${report}\n`,
});
