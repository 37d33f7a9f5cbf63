// The npm half of the pull-through benchmark: one upstream Verdaccio holding a real dependency
// tree behind a fixed-latency proxy; a cold then a warm `npm install` of that tree through
// pkgedge (NPM_UPSTREAM = the proxy) and through a second Verdaccio whose uplink is the proxy,
// each with its own instance of the proxy so upstream requests are counted per registry.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./cleanup.mjs";
import { byName } from "./corpus.mjs";
import { countBy, startLatencyProxy, timeline } from "./latency-proxy.mjs";
import { timeNpmInstall } from "./npm-install.mjs";
import { round } from "./stats.mjs";
import { tarballDigests } from "./tarball.mjs";
import { startPkgedge } from "./targets.mjs";
import { createVerdaccioUser, seedVerdaccioStorage, startVerdaccio } from "./verdaccio.mjs";

/** Which kind of npm object a request the upstream saw was for. */
export function npmRequestKind(r) {
  if (r.method !== "GET" && r.method !== "HEAD") return "other";
  const path = r.path.split("?")[0];
  if (path.includes("/-/")) return path.endsWith(".tgz") ? "tarball" : "other";
  return "packument";
}

/** Upstream requests by kind, plus the most any one object was asked for (1 = no duplicates). */
export function summarizeUpstream(requests) {
  const perKey = countBy(requests, (r) => `${r.method} ${r.path.split("?")[0]}`);
  return {
    total: requests.length,
    byKind: countBy(requests, npmRequestKind),
    distinct: Object.keys(perKey).length,
    maxPerObject: Math.max(0, ...Object.values(perKey)),
    ...timeline(requests),
  };
}

async function startTempVerdaccio(verdaccioDir, prefix, extra = {}) {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const server = await startVerdaccio({ dir: verdaccioDir, storageDir: join(tmp, "storage"), workDir: join(tmp, "work"), ...extra });
  onCleanup(async () => {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  return server;
}

/** The upstream: a Verdaccio with the whole corpus written into its storage, then restarted. */
async function startUpstream(corpus, verdaccioDir, log) {
  const server = await startTempVerdaccio(verdaccioDir, "pkgedge-bench-upstream-npm-");
  for (const list of byName(corpus.packages).values()) {
    seedVerdaccioStorage(server.storageDir, server.url, list.map((p) => ({ manifest: p.manifest, tgz: p.tgz, dist: tarballDigests(p.tgz) })));
  }
  await server.restart();
  log(`  upstream Verdaccio ${server.version} on ${server.url} holds ${corpus.packages.length} versions of ${byName(corpus.packages).size} packages`);
  return server;
}

/**
 * Cold then warm install through one registry. `settleMs` after the warm install lets work the
 * registry does after answering (prefetch) reach the proxy before the counts are read.
 */
async function coldThenWarm(name, target, proxy, spec, corpus, log, settleMs = 2000) {
  const out = { name };
  for (const phase of ["cold", "warm"]) {
    proxy.reset();
    const r = await timeNpmInstall({ registry: target.registry, token: target.token, spec });
    const complete = r.ok && r.packages >= corpus.packages.length && r.foreignTarballs === 0;
    if (phase === "warm") await new Promise((res) => setTimeout(res, settleMs));
    out[phase] = {
      ok: complete,
      seconds: r.ok ? round(r.ms / 1000, 2) : NaN,
      packages: r.packages,
      foreignTarballs: r.foreignTarballs,
      upstream: summarizeUpstream(proxy.requests()),
      ...(r.ok ? {} : { error: r.stderr.slice(-1500) }),
    };
    const u = out[phase].upstream;
    log(`  ${phase} npm install ${spec} via ${name}: ${r.ok ? `${out[phase].seconds} s, ${r.packages} packages` : `FAILED (${r.code}) ${r.stderr.slice(-600)}`}; ` +
      `upstream saw ${u.total} requests ${JSON.stringify(u.byKind)}, at most ${u.maxPerObject} per object, over ${u.spanSeconds} s, at most ${u.peakInFlight} at once`);
    if (r.foreignTarballs) log(`    warning: ${r.foreignTarballs} lock file entries resolved to another host`);
  }
  return out;
}

/** The Worker's own count of upstream requests, from /_/metrics?format=json. */
function upstreamMetric(m) {
  const text = JSON.stringify(m ?? null);
  return text.includes("pkgedge_upstream_requests_total") ? m.pkgedge_upstream_requests_total ?? m.metrics?.pkgedge_upstream_requests_total ?? "present" : null;
}

/**
 * Runs the measure: `variants` is a list of "pkgedge", "verdaccio", "pkgedge-noprefetch"
 * (PREFETCH=false: what prefetch is worth). Each starts with empty state, runs a cold and a warm
 * install, and stops before the next starts (the 2-core box runs one registry at a time).
 */
export async function measureNpmUpstream({ corpus, verdaccioDir, delayMs, variants, pkgedgeVars = {}, log }) {
  const spec = `${corpus.top}@${corpus.topVersion}`;
  const upstream = await startUpstream(corpus, verdaccioDir, log);
  const out = { spec, treePackages: corpus.packages.length, delayMsEachWay: delayMs, pkgedgeVars, runs: {} };
  for (const variant of variants) {
    const proxy = await startLatencyProxy({ target: upstream.url, delayMs });
    onCleanup(() => proxy.stop());
    let target;
    let stop;
    if (variant === "verdaccio") {
      const server = await startTempVerdaccio(verdaccioDir, "pkgedge-bench-verdaccio-pull-", { uplink: proxy.url });
      const token = await createVerdaccioUser(server.url, "bench", `bench-${Date.now()}-pass`);
      target = { registry: `${server.url}/`, token, version: server.version };
      stop = () => server.stop();
    } else {
      const prefetch = variant === "pkgedge-noprefetch" ? { PREFETCH: "false" } : {};
      const pk = await startPkgedge({ log, vars: { ...pkgedgeVars, ...prefetch, NPM_UPSTREAM: proxy.url } });
      target = pk;
      stop = async () => {
        try {
          // A cross-check only: the proxy's count is the figure.
          if (out.runs[variant]) out.runs[variant].pkgedgeMetrics = upstreamMetric(await pk.metrics());
        } finally {
          await pk.stop();
        }
      };
    }
    log(`  ${variant}: registry ${target.registry}, upstream through ${proxy.url} (${delayMs} ms each way)`);
    try {
      out.runs[variant] = await coldThenWarm(variant, target, proxy, spec, corpus, log);
      if (target.version) out.runs[variant].version = target.version;
      const bad = ["cold", "warm"].filter((ph) => !out.runs[variant][ph].ok);
      if (bad.length) (out.errors ??= {})[variant] = `${bad.join(" and ")} install incomplete: ${out.runs[variant][bad[0]].error ?? "packages missing or resolved elsewhere"}`.slice(0, 1500);
    } finally {
      await stop();
      await proxy.stop();
    }
  }
  return out;
}
