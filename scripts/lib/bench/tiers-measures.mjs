// The tiers benchmark's measures: latency by tier (origin, regional shield, edge L1, predictively
// cached), invalidation convergence per region, and a herd of concurrent cold requests.
import http from "node:http";
import { getOnce } from "./load.mjs";
import { ACCEPT_ABBREVIATED, ACCEPT_FULL } from "./measures.mjs";
import { buildPublishDoc, escapeName, publishOrThrow } from "./npm-publish.mjs";
import { bigTarballPackage, richManifest, smallTarball } from "./synthetic.mjs";
import { msSince, round, summarize } from "./stats.mjs";
import { metricsJson, originFetches } from "./tiers-server.mjs";

const REGION = "x-pkgedge-region";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One GET through the tiers; the body is read whole. Returns { ms, status, state, text? }. */
async function timedGet(url, { region, accept = ACCEPT_ABBREVIATED, keepText = false } = {}) {
  const start = process.hrtime.bigint();
  const res = await fetch(url, { headers: { accept, [REGION]: region, "user-agent": "pkgedge-bench-tiers" }, signal: AbortSignal.timeout(30_000) });
  const buf = await res.arrayBuffer();
  const ms = msSince(start);
  return { ms: round(ms, 2), status: res.status, state: res.headers.get("x-pkgedge-cache") ?? "(none)", ...(keepText ? { text: Buffer.from(buf).toString("utf8") } : {}) };
}

const manifestOf = (name, version, deps = {}) => ({ name, version, description: `tiers benchmark package ${name}`, main: "index.js", license: "MIT", dependencies: deps });

async function publish(server, token, manifests) {
  for (const m of manifests) {
    const doc = buildPublishDoc(server.registry, [{ manifest: m, tgz: await smallTarball(m) }]);
    await publishOrThrow("pkgedge", server.registry, token, doc);
  }
}

const packumentUrl = (server, name) => `${server.registry}${escapeName(name)}`;
const tarballUrl = (server, name, version) => `${server.registry}${escapeName(name)}/-/${name.replace(/^@[^/]+\//, "")}-${version}.tgz`;

/** POST /_/warm {region, keys}; returns the last NDJSON progress line. */
async function warmKeys(server, adminToken, region, keys) {
  const res = await fetch(`${server.url}/_/warm`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ region, keys }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`/_/warm ${region} -> ${res.status} ${text.slice(0, 300)}`);
  const lines = text.trim().split("\n").filter(Boolean);
  return JSON.parse(lines[lines.length - 1]);
}

function record(samples, tier, kind, r, region) {
  samples[tier] ??= {};
  samples[tier][kind] ??= [];
  samples[tier][kind].push({ ms: r.ms, state: r.status === 200 ? r.state : `HTTP ${r.status}`, region });
}

/** Per tier and kind: summary of latencies and the states the server reported. */
export function summarizeTiers(samples) {
  const out = {};
  for (const [tier, kinds] of Object.entries(samples)) {
    out[tier] = {};
    for (const [kind, list] of Object.entries(kinds)) {
      const states = {};
      for (const s of list) states[s.state] = (states[s.state] ?? 0) + 1;
      out[tier][kind] = { ...summarize(list.map((s) => s.ms)), states };
    }
  }
  return out;
}

/**
 * 1. Latency by tier. Leaf packages are fetched first in `regions[0]` (origin: MISS, 250 ms
 * injected); `/_/warm` then loads the same keys into the other regions' shields, whose L1 has
 * never seen them, so their first requests there are regional-shield answers (L2-HIT); repeats
 * are L1 answers. Parent -> child -> grandchild chains measure prefetch: the parent's packument
 * is fetched, and the child's and grandchild's first requests follow either after a settle
 * delay or at once (as npm does).
 */
export async function measureTierLatency(server, { adminToken, regions, leaves, pairs, settleMs, l1Repeats, log }) {
  const token = adminToken;
  const samples = {};
  const leafNames = Array.from({ length: leaves }, (_, i) => `tb-leaf-${i}`);
  log(`  publishing ${leaves} leaf packages and ${pairs} x 2 parent/child/grandchild chains`);
  await publish(server, token, leafNames.map((n) => manifestOf(n, "1.0.0")));
  const chains = [];
  for (const mode of ["settled", "immediate"]) {
    for (let i = 0; i < pairs; i++) {
      const c = { parent: `tb-${mode}-parent-${i}`, child: `tb-${mode}-child-${i}`, grand: `tb-${mode}-grand-${i}`, mode, region: regions[i % regions.length] };
      await publish(server, token, [
        manifestOf(c.grand, "1.0.0"), manifestOf(c.grand, "1.2.0"),
        manifestOf(c.child, "1.0.0", { [c.grand]: "^1.0.0" }), manifestOf(c.child, "1.1.0", { [c.grand]: "^1.0.0" }),
        manifestOf(c.parent, "1.0.0", { [c.child]: "^1.0.0" }),
      ]);
      chains.push(c);
    }
  }

  // Origin: tarball first, so a prefetch triggered by the packument cannot warm it beforehand.
  const home = regions[0];
  for (const name of leafNames) {
    record(samples, "origin", "tarball", await timedGet(tarballUrl(server, name, "1.0.0"), { region: home }), home);
    record(samples, "origin", "packument", await timedGet(packumentUrl(server, name), { region: home }), home);
  }
  // Regional shield: the other regions' shields get the keys through /_/warm; their L1s are empty.
  const keys = leafNames.flatMap((n) => [`npm:packument:${n}`, `npm:tarball:${n}/${n}-1.0.0.tgz`]);
  const warmed = {};
  for (const region of regions.slice(1)) {
    warmed[region] = await warmKeys(server, adminToken, region, keys);
    log(`  /_/warm ${region}: ${warmed[region].warmed}/${warmed[region].total} warmed, ${warmed[region].failed} failed`);
  }
  for (const region of regions.slice(1)) {
    for (const name of leafNames) {
      record(samples, "shield", "tarball", await timedGet(tarballUrl(server, name, "1.0.0"), { region }), region);
      record(samples, "shield", "packument", await timedGet(packumentUrl(server, name), { region }), region);
    }
  }
  // Edge L1: every key again in every region; L1 fills are written in the background, so the
  // first pass after the fill may still miss (the states column shows it).
  await sleep(500);
  for (let rep = 0; rep < l1Repeats; rep++) {
    for (const region of regions) {
      for (const name of leafNames) {
        record(samples, "l1", "tarball", await timedGet(tarballUrl(server, name, "1.0.0"), { region }), region);
        record(samples, "l1", "packument", await timedGet(packumentUrl(server, name), { region }), region);
      }
    }
  }
  // Predictively cached: first requests for a dependency after its parent's packument.
  for (const c of chains) {
    const parent = await timedGet(packumentUrl(server, c.parent), { region: c.region });
    record(samples, "parent", "packument", parent, c.region);
    const tier = c.mode === "settled" ? "predicted" : "predictedNow";
    if (c.mode === "settled") await sleep(settleMs);
    // Like npm: the packument first, then the tarball of the version it resolves to.
    record(samples, tier, "packument", await timedGet(packumentUrl(server, c.child), { region: c.region }), c.region);
    record(samples, tier, "tarball", await timedGet(tarballUrl(server, c.child, "1.1.0"), { region: c.region }), c.region);
    const grandDoc = await timedGet(packumentUrl(server, c.grand), { region: c.region });
    const grandTgz = await timedGet(tarballUrl(server, c.grand, "1.2.0"), { region: c.region });
    record(samples, `${tier}Depth2`, "packument", grandDoc, c.region);
    record(samples, `${tier}Depth2`, "tarball", grandTgz, c.region);
  }
  return { samples, summary: summarizeTiers(samples), warmed, settleMs };
}

/**
 * Invalidation convergence: a package cached in every region gets a new version (published
 * through `regions[0]`); each region is polled until it serves the new version.
 */
export async function measurePropagation(server, { adminToken, regions, count, log }) {
  const runs = [];
  for (let i = 0; i < count; i++) {
    const name = `tb-prop-${i}`;
    await publish(server, adminToken, [manifestOf(name, "1.0.0")]);
    for (let k = 0; k < 2; k++) for (const region of regions) await timedGet(packumentUrl(server, name), { region, accept: ACCEPT_FULL });
    await sleep(300);
    const doc = buildPublishDoc(server.registry, [{ manifest: manifestOf(name, "1.1.0"), tgz: await smallTarball(manifestOf(name, "1.1.0")) }]);
    const t0 = process.hrtime.bigint();
    const put = await fetch(`${server.registry}${escapeName(name)}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}`, [REGION]: regions[0] },
      body: JSON.stringify(doc),
    });
    await put.text();
    const publishedMs = msSince(t0);
    if (!put.ok) throw new Error(`publish ${name}@1.1.0 -> ${put.status}`);
    const perRegion = await Promise.all(regions.map(async (region) => {
      const seen = [];
      for (let polls = 0; polls < 400; polls++) {
        const r = await timedGet(packumentUrl(server, name), { region, accept: ACCEPT_FULL, keepText: true });
        const fresh = r.status === 200 && r.text.includes('"1.1.0"');
        if (!seen.length || seen[seen.length - 1].state !== r.state || seen[seen.length - 1].fresh !== fresh) seen.push({ state: r.state, fresh });
        if (fresh) return { region, convergedMs: round(msSince(t0), 1), polls: polls + 1, seen };
        await sleep(20);
      }
      return { region, convergedMs: null, polls: 400, seen };
    }));
    runs.push({ name, publishMs: round(publishedMs, 1), perRegion });
    log(`  ${name}: publish ${Math.round(publishedMs)} ms; ${perRegion.map((r) => `${r.region} ${r.convergedMs ?? "never"} ms (${r.seen.map((s) => `${s.state}${s.fresh ? "+new" : ""}`).join(">")})`).join(", ")}`);
  }
  const byRegion = {};
  for (const region of regions) {
    const list = runs.map((r) => r.perRegion.find((p) => p.region === region)?.convergedMs).filter((v) => v !== null && v !== undefined);
    byRegion[region] = { ...summarize(list), converged: list.length, of: runs.length };
  }
  return { runs, byRegion };
}

/** One GET on `agent`; errors come back as { error } so a herd always completes. */
const get = (url, agent, headers) => getOnce(url, { agent, headers, headerName: "x-pkgedge-cache", timeoutMs: 120_000 }).catch((err) => ({ error: err.code ?? err.message }));

/**
 * `clients` GETs at once, each on its own connection opened beforehand (one /_/health each):
 * otherwise accepting 1,000 new connections takes longer than the cold read, and most of the
 * "herd" would arrive after the object was cached.
 */
async function herd(url, headers, clients, healthUrl) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients, keepAliveMsecs: 60_000 });
  try {
    const c0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: clients }, () => get(healthUrl, agent, {})));
    const connectMs = msSince(c0);
    const t0 = process.hrtime.bigint();
    const results = await Promise.all(Array.from({ length: clients }, () => get(url, agent, headers)));
    return { results, wallMs: msSince(t0), connectMs };
  } finally {
    agent.destroy();
  }
}

/**
 * 3. `clients` concurrent cold requests for one object (tarball, then packument) in one region:
 * origin reads from the shields' counters before and after, and how long the herd took.
 */
export async function measureHerd(server, { adminToken, region, clients, log }) {
  const big = await bigTarballPackage("tb-herd-tarball", 64 * 1024);
  await publishOrThrow("pkgedge", server.registry, adminToken, buildPublishDoc(server.registry, [big]));
  const docEntries = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const m = richManifest("tb-herd-packument", `1.${Math.floor(i / 10)}.${i % 10}`, { depCount: 0 });
    return { manifest: m, tgz: await smallTarball(m) };
  }));
  await publishOrThrow("pkgedge", server.registry, adminToken, buildPublishDoc(server.registry, docEntries));
  const out = {};
  for (const [kind, url, accept] of [
    ["tarball", tarballUrl(server, "tb-herd-tarball", "1.0.0"), "*/*"],
    ["packument", packumentUrl(server, "tb-herd-packument"), ACCEPT_ABBREVIATED],
  ]) {
    const before = originFetches(await metricsJson(server.url, adminToken));
    const { results, wallMs, connectMs } = await herd(url, { accept, [REGION]: region }, clients, `${server.url}/_/health`);
    await sleep(1000); // background work the herd started (L1 fills, prefetch) settles
    const after = originFetches(await metricsJson(server.url, adminToken));
    const ok = results.filter((r) => !r.error && r.status === 200);
    const responses = {};
    for (const r of results) {
      const k = r.error ? `error: ${r.error}` : `${r.status} ${r.header ?? ""}`.trim();
      responses[k] = (responses[k] ?? 0) + 1;
    }
    out[kind] = {
      clients,
      ok: ok.length,
      wallMs: round(wallMs, 0),
      connectMs: round(connectMs, 0),
      // Answered while the origin read was in flight (the rest came after L1 was filled).
      reachedShieldCold: (responses["200 MISS"] ?? 0) + (responses["200 COALESCED"] ?? 0),
      latencyMs: summarize(ok.map((r) => r.ms)),
      bytes: ok[0]?.bytes ?? 0,
      distinctSizes: new Set(ok.map((r) => r.bytes)).size,
      responses,
      originReads: { metadata: after.metadata - before.metadata, blob: after.blob - before.blob },
    };
    log(`  herd ${kind}: ${clients} connections opened in ${out[kind].connectMs} ms; ${ok.length}/${clients} ok in ${out[kind].wallMs} ms (p50 ${out[kind].latencyMs.p50}, max ${out[kind].latencyMs.max}); ` +
      `origin reads ${JSON.stringify(out[kind].originReads)}; ${JSON.stringify(responses)}`);
  }
  return out;
}
