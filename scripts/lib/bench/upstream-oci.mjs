// The OCI half of the pull-through benchmark: one upstream docker-registry holding two
// multi-layer images behind a fixed-latency proxy; a cold then a warm `skopeo copy` of one image
// through pkgedge (OCI_UPSTREAM = the proxy) and through Debian's docker-registry in proxy mode
// (`proxy: remoteurl` = the proxy), then 50 concurrent cold pulls of the other image through
// each, counting at the proxy how often the upstream was asked for each blob and manifest.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { onCleanup } from "./cleanup.mjs";
import { startDockerRegistry } from "./docker-registry.mjs";
import { countBy, startLatencyProxy, timeline } from "./latency-proxy.mjs";
import { buildBenchImage, layoutDigests, makeSkopeo } from "./oci-image.mjs";
import { MANIFEST_ACCEPT } from "./oci-measures.mjs";
import { round, summarize } from "./stats.mjs";
import { startPkgedge } from "./targets.mjs";

const COPY_REPO = "library/app";
const HERD_REPO = "library/herd";

/** "blob" / "manifest" / "other" for a request the upstream saw. */
function ociKind(r) {
  if (/\/blobs\/sha256:/.test(r.path)) return "blob";
  if (/\/manifests\//.test(r.path)) return "manifest";
  return "other";
}

/** Upstream requests for one repository's image: per kind, and per blob (GETs and HEADs apart). */
export function summarizeOciUpstream(requests, image, repo) {
  const mine = requests.filter((r) => r.path.startsWith(`/v2/${repo}/`) || !r.path.startsWith("/v2/library/"));
  const blobs = [image.configDigest, ...image.layers.map((l) => l.digest)];
  const per = (method) => blobs.map((d) => mine.filter((r) => r.method === method && r.path.split("?")[0] === `/v2/${repo}/blobs/${d}`).length);
  const getsPerBlob = per("GET");
  return {
    total: mine.length,
    byKind: countBy(mine, (r) => `${r.method} ${ociKind(r)}`),
    blobs: blobs.length,
    blobGetsPerBlob: getsPerBlob,
    blobHeadsPerBlob: per("HEAD"),
    maxGetsPerBlob: Math.max(0, ...getsPerBlob),
    meanGetsPerBlob: round(getsPerBlob.reduce((a, b) => a + b, 0) / blobs.length, 2),
    manifestRequests: mine.filter((r) => ociKind(r) === "manifest").length,
    ...timeline(mine),
  };
}

/** Reads a response body through sha256; resolves { bytes, digest }. */
async function hashBody(res) {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, digest: `sha256:${hash.digest("hex")}` };
}

/**
 * One pull as a client does it: the manifest by tag, then the config and every layer at once,
 * each checked against its digest. Resolves { ok, ms, error? }.
 */
async function pullOnce(url, repo, image, signal) {
  const start = process.hrtime.bigint();
  try {
    const m = await fetch(`${url}/v2/${repo}/manifests/${image.tag}`, { headers: { accept: MANIFEST_ACCEPT }, signal });
    const manifestHash = await hashBody(m);
    if (m.status !== 200 || manifestHash.digest !== image.manifestDigest) throw new Error(`manifest -> ${m.status} ${manifestHash.digest}`);
    await Promise.all([image.configDigest, ...image.layers.map((l) => l.digest)].map(async (d) => {
      const b = await fetch(`${url}/v2/${repo}/blobs/${d}`, { signal });
      const got = await hashBody(b);
      if (b.status !== 200 || got.digest !== d) throw new Error(`blob ${d.slice(0, 19)} -> ${b.status} ${got.digest.slice(0, 19)}`);
    }));
    return { ok: true, ms: Number(process.hrtime.bigint() - start) / 1e6 };
  } catch (err) {
    return { ok: false, ms: Number(process.hrtime.bigint() - start) / 1e6, error: signal?.aborted ? "unfinished at the herd's deadline" : `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ""}` };
  }
}

async function timedCopy(work, target, repo, image, log, label) {
  const dir = mkdtempSync(join(work, "pull-"));
  const skopeo = makeSkopeo(mkdtempSync(join(work, "skopeo-")));
  try {
    const r = await skopeo.copy(`docker://${target.host}/${repo}:${image.tag}`, `oci:${dir}:pulled`);
    const same = JSON.stringify(layoutDigests(dir, "pulled")) === JSON.stringify(layoutDigests(image.dir, image.tag));
    log(`  ${label}: ${round(r.ms / 1000, 2)} s${same ? "" : " (DIGESTS DIFFER)"}`);
    return { ok: same, seconds: round(r.ms / 1000, 2) };
  } catch (err) {
    log(`  ${label}: FAILED ${err.message.slice(0, 600)}`);
    return { ok: false, seconds: NaN, error: err.message.slice(0, 1500) };
  }
}

/**
 * Runs the measure for `variants` ("pkgedge", "docker-registry"), one at a time, each with its
 * own proxy and empty state. `layerSizes` shape both images; `clients` is the herd's size;
 * pulls still running after `herdDeadlineS` are stopped and count as failed (docker-registry's
 * proxy mode took over 300 s for 50 pulls on a busy 2-core box).
 */
export async function measureOciUpstream({ work, delayMs, layerSizes, clients, herdDeadlineS = 120, variants, pkgedgeVars = {}, log }) {
  const images = {};
  for (const [key, repo] of [["copy", COPY_REPO], ["herd", HERD_REPO]]) {
    images[key] = { repo, ...(await buildBenchImage(join(work, `image-${key}`), { layerSizes })) };
  }
  const upstream = await startDockerRegistry();
  onCleanup(() => upstream.stop());
  for (const img of Object.values(images)) {
    await makeSkopeo(mkdtempSync(join(work, "skopeo-seed-"))).copy(img.ref, `docker://${upstream.host}/${img.repo}:${img.tag}`);
  }
  log(`  upstream docker-registry ${upstream.version} on ${upstream.url} holds ${COPY_REPO} and ${HERD_REPO}, ${images.copy.layers.length} layers each (${round(images.copy.totalBytes / 1024 / 1024, 1)} MiB)`);
  const out = {
    delayMsEachWay: delayMs,
    image: { layers: images.copy.layers.map((l) => l.size), totalBytes: images.copy.totalBytes },
    clients,
    pkgedgeVars,
    runs: {},
  };
  for (const variant of variants) {
    const proxy = await startLatencyProxy({ target: upstream.url, delayMs });
    onCleanup(() => proxy.stop());
    let target;
    let stop;
    if (variant === "docker-registry") {
      const server = await startDockerRegistry({ proxy: proxy.url });
      target = { host: server.host, url: server.url, version: server.version };
      stop = () => server.stop();
    } else {
      const pk = await startPkgedge({ log, vars: { ...pkgedgeVars, OCI_UPSTREAM: proxy.url } });
      target = { host: new URL(pk.url).host, url: pk.url };
      stop = () => pk.stop();
    }
    const run = { version: target.version };
    try {
      proxy.reset();
      run.cold = await timedCopy(work, target, COPY_REPO, images.copy, log, `cold skopeo copy via ${variant}`);
      run.cold.upstream = summarizeOciUpstream(proxy.requests(), images.copy, COPY_REPO);
      proxy.reset();
      run.warm = await timedCopy(work, target, COPY_REPO, images.copy, log, `warm skopeo copy via ${variant}`);
      run.warm.upstream = summarizeOciUpstream(proxy.requests(), images.copy, COPY_REPO);
      proxy.reset();
      const start = process.hrtime.bigint();
      const signal = AbortSignal.timeout(herdDeadlineS * 1000);
      const pulls = await Promise.all(Array.from({ length: clients }, () => pullOnce(target.url, HERD_REPO, images.herd, signal)));
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      const good = pulls.filter((p) => p.ok);
      run.herd = {
        ok: good.length === clients,
        succeeded: good.length,
        deadlineSeconds: herdDeadlineS,
        errors: Object.entries(countBy(pulls.filter((p) => !p.ok), (p) => p.error)).map(([e, n]) => `${n} x ${e}`).slice(0, 5),
        wallSeconds: round(wallMs / 1000, 2),
        pullMs: summarize(good.map((p) => p.ms)),
        upstream: summarizeOciUpstream(proxy.requests(), images.herd, HERD_REPO),
      };
      const u = run.herd.upstream;
      log(`  ${clients} concurrent cold pulls via ${variant}: ${good.length} ok in ${run.herd.wallSeconds} s; upstream GETs per blob ${JSON.stringify(u.blobGetsPerBlob)}, ` +
        `${u.manifestRequests} manifest requests, ${u.total} in all${run.herd.errors.length ? `; errors ${run.herd.errors.join("; ")}` : ""}`);
    } finally {
      out.runs[variant] = run;
      await stop();
      await proxy.stop();
    }
  }
  return out;
}
