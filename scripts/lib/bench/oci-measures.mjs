// The OCI benchmark's measures, each run against every target with the same image: blob and
// manifest reads at fixed concurrency, and whole-image `skopeo copy` pulls and pushes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRounds } from "./load.mjs";
import { failed } from "./measures.mjs";
import { buildBenchImage, layoutDigests, makeSkopeo } from "./oci-image.mjs";
import { round, summarize } from "./stats.mjs";

export const REPO = "bench/app";

/** The Accept header skopeo (containers/image) sends for manifests. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");


const remote = (t, repo, tag = "latest") => `docker://${t.host}/${repo}:${tag}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * Pushes the image into every target as bench/app:latest (with a fresh skopeo, so its blob-info
 * cache cannot turn the upload into cross-repository mounts) and checks the tag answers with
 * the image's digest. Returns the targets that are ready, and each one's push time.
 */
export async function seedTargets(targets, image, work, log) {
  const out = { pushMs: {}, ready: [] };
  for (const t of targets) {
    try {
      const r = await makeSkopeo(mkdtempSync(join(work, "skopeo-seed-"))).copy(image.ref, remote(t, REPO), { destCreds: t.pushCreds });
      out.pushMs[t.name] = round(r.ms, 0);
      const res = await fetch(`${t.url}/v2/${REPO}/manifests/latest`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } });
      const digest = res.headers.get("docker-content-digest");
      if (res.status !== 200 || digest !== image.manifestDigest) throw new Error(`HEAD manifests/latest -> ${res.status} digest ${digest}, pushed ${image.manifestDigest}`);
      log(`  pushed ${image.ref} to ${t.name} in ${out.pushMs[t.name]} ms`);
      out.ready.push(t);
    } catch (err) {
      failed(out, t, "push", err, log);
    }
  }
  return out;
}

/**
 * Blob (the large layer) and manifest (by tag and by digest) GETs at fixed concurrency, for a
 * fixed time, after warming; anonymous, as a public pull is. Median round by throughput.
 * `ceilings` (a started scripts/lib/bench/ceilings.mjs set serving files "blob" and "manifest")
 * join the blob and manifest-by-tag rounds, taking turns with the registries.
 */
export async function measureReads(targets, image, opts, log, { ceilings = null } = {}) {
  const cases = {
    blob: { path: `/v2/${REPO}/blobs/${image.layerDigest}`, accept: "*/*", concurrency: opts.blobConcurrency, bytes: image.layerSize, file: "blob" },
    "manifest-tag": { path: `/v2/${REPO}/manifests/latest`, accept: MANIFEST_ACCEPT, concurrency: opts.concurrency, bytes: image.manifestBytes, file: "manifest" },
    "manifest-digest": { path: `/v2/${REPO}/manifests/${image.manifestDigest}`, accept: MANIFEST_ACCEPT, concurrency: opts.concurrency, bytes: image.manifestBytes },
  };
  const out = {};
  for (const [name, c] of Object.entries(cases)) {
    const headers = { accept: c.accept, "user-agent": "pkgedge-bench" };
    const extra = ceilings && c.file ? ceilings.targets.map((x) => ({ name: x.name, cacheHeader: null, ceilingUrl: x.urlFor(c.file) })) : [];
    out[name] = await loadRounds({ name, targets: [...targets, ...extra], concurrency: c.concurrency, opts, log, expectedBytes: c.bytes, request: (t) => ({ url: t.ceilingUrl ?? `${t.url}${c.path}`, headers }) });
  }
  return out;
}

/**
 * Whole-image `skopeo copy` from each registry into a fresh oci: directory (the pull a user
 * times), alternating targets, `copyRuns` times each; every copy's digests are checked against
 * the pushed layout (outside the timing). Then as many pushes of a freshly built image (same
 * sizes, new random bytes) into a new repository each: skopeo remembers, machine-wide, which
 * repositories hold a blob and would otherwise mount it from there instead of uploading it.
 */
export async function measureCopies(targets, image, opts, work, log) {
  const expected = layoutDigests(image.dir, image.tag).join(" ");
  const out = { pull: {}, push: {} };
  for (const t of targets) {
    out.pull[t.name] = [];
    out.push[t.name] = [];
  }
  const skopeo = makeSkopeo(mkdtempSync(join(work, "skopeo-pull-")));
  for (let i = 0; i < opts.copyRuns; i++) {
    for (const t of i % 2 ? [...targets].reverse() : targets) {
      const dir = mkdtempSync(join(tmpdir(), "pkgedge-bench-oci-pull-"));
      try {
        const r = await skopeo.copy(remote(t, REPO), `oci:${dir}:latest`, { srcCreds: t.pullCreds });
        const got = layoutDigests(dir, "latest").join(" ");
        if (got !== expected) throw new Error(`pulled digests differ:\n${got}\nexpected\n${expected}`);
        out.pull[t.name].push(round(r.ms, 0));
        log(`  skopeo copy (pull) from ${t.name} run ${i + 1}/${opts.copyRuns}: ${round(r.ms, 0)} ms`);
      } catch (err) {
        failed(out, t, `pull run ${i + 1}`, err, log);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  for (let i = 0; i < opts.copyRuns; i++) {
    for (const t of i % 2 ? [...targets].reverse() : targets) {
      const home = mkdtempSync(join(work, "skopeo-push-"));
      try {
        const fresh = await buildBenchImage(join(home, "image"), { layerBytes: opts.layerBytes });
        const r = await makeSkopeo(home).copy(fresh.ref, remote(t, `bench/push-${i}`), { destCreds: t.pushCreds });
        out.push[t.name].push(round(r.ms, 0));
        log(`  skopeo copy (push to a new repository) to ${t.name} run ${i + 1}/${opts.copyRuns}: ${round(r.ms, 0)} ms`);
      } catch (err) {
        failed(out, t, `push run ${i + 1}`, err, log);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
  }
  for (const kind of ["pull", "push"]) {
    for (const t of targets) {
      const runs = out[kind][t.name];
      out[kind][t.name] = { runsMs: runs, medianMs: runs.length ? median(runs) : NaN, summary: summarize(runs) };
    }
  }
  return out;
}
