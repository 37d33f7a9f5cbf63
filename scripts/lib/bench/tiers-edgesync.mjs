// An edgesync-style load test of the tiers: three regions (x-pkgedge-region) read a key space of
// hot and cold packuments at the same time while new versions are published in between, and
// each region reports its hit ratio (answers served without reaching the origin) and p50/p95/p99.
// Every key is read once per region before the recorded window (compulsory misses are not what
// a hit ratio of a running CDN measures); misses left are the ones invalidation causes.
import http from "node:http";
import { getOnce } from "./load.mjs";
import { ACCEPT_ABBREVIATED } from "./measures.mjs";
import { buildPublishDoc, escapeName, publishOrThrow } from "./npm-publish.mjs";
import { round, summarize } from "./stats.mjs";
import { smallTarball } from "./synthetic.mjs";

const REGION = "x-pkgedge-region";
/** States of `x-pkgedge-cache` answered without an origin read. */
export const isHit = (state) => /HIT|STALE/.test(state ?? "");

const manifestOf = (name, version) => ({ name, version, description: `edgesync benchmark package ${name}`, main: "index.js", license: "MIT" });

async function publishVersion(server, token, name, version) {
  const m = manifestOf(name, version);
  await publishOrThrow("pkgedge", server.registry, token, buildPublishDoc(server.registry, [{ manifest: m, tgz: await smallTarball(m) }]));
}

/** A key picker: `hotReadShare` of reads go to the first `hotShare` of the keys, the rest to the others. */
function picker(keys, hotShare, hotReadShare) {
  const hot = Math.max(1, Math.round(keys.length * hotShare));
  return () => (Math.random() < hotReadShare ? keys[Math.floor(Math.random() * hot)] : keys[hot + Math.floor(Math.random() * (keys.length - hot))]);
}

/**
 * Runs the load: `keys` packages published first, one warming pass per region, then for
 * `durationMs` every region reads with `concurrency` keep-alive connections while one new
 * version of a random key (hot or cold alike) is published every `publishEveryMs`.
 */
export async function measureEdgesync(server, { adminToken, regions, keys = 100, hotShare = 0.1, hotReadShare = 0.9, concurrency = 2, durationMs = 20_000, publishEveryMs = 2000, log }) {
  const names = Array.from({ length: keys }, (_, i) => `es-key-${i}`);
  const versions = Object.fromEntries(names.map((n) => [n, 1]));
  for (const n of names) await publishVersion(server, adminToken, n, "1.0.0");
  const url = (n) => `${server.registry}${escapeName(n)}`;
  const headersFor = (region) => ({ accept: ACCEPT_ABBREVIATED, [REGION]: region, "user-agent": "pkgedge-bench-edgesync" });
  for (const region of regions) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all([0, 1, 2, 3].map(async (w) => {
      for (let i = w; i < names.length; i += 4) await getOnce(url(names[i]), { agent, headers: headersFor(region), headerName: "x-pkgedge-cache", timeoutMs: 30_000 });
    }));
    agent.destroy();
  }
  log(`  edgesync: ${keys} keys published and read once in each of ${regions.join(", ")}; ${durationMs / 1000} s of reads, ${concurrency} connections a region, a publish every ${publishEveryMs} ms`);
  const pick = picker(names, hotShare, hotReadShare);
  const end = Date.now() + durationMs;
  const perRegion = Object.fromEntries(regions.map((r) => [r, { ms: [], states: {}, errors: 0 }]));
  let published = 0;
  const publishErrors = [];
  const publisher = (async () => {
    while (Date.now() + publishEveryMs < end) {
      await new Promise((r) => setTimeout(r, publishEveryMs));
      const n = names[Math.floor(Math.random() * names.length)];
      versions[n] += 1;
      try {
        await publishVersion(server, adminToken, n, `${versions[n]}.0.0`);
        published += 1;
      } catch (err) {
        publishErrors.push(err.message.slice(0, 300));
      }
    }
  })();
  await Promise.all(regions.map(async (region) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const out = perRegion[region];
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        try {
          const r = await getOnce(url(pick()), { agent, headers: headersFor(region), headerName: "x-pkgedge-cache", timeoutMs: 30_000 });
          const state = r.status === 200 ? r.header ?? "(none)" : `HTTP ${r.status}`;
          out.states[state] = (out.states[state] ?? 0) + 1;
          out.ms.push(r.ms);
        } catch {
          out.errors += 1;
        }
      }
    }));
    agent.destroy();
  }));
  await publisher;
  const regionsOut = {};
  for (const [region, x] of Object.entries(perRegion)) {
    const total = x.ms.length;
    const hits = Object.entries(x.states).filter(([s]) => isHit(s)).reduce((n, [, c]) => n + c, 0);
    const s = summarize(x.ms);
    const sorted = [...x.ms].sort((a, b) => a - b);
    regionsOut[region] = {
      requests: total,
      hitRatio: total ? round(hits / total, 4) : NaN,
      states: x.states,
      errors: x.errors,
      p50: s.p50,
      p95: round(sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? NaN),
      p99: s.p99,
      max: s.max,
      rps: round(total / (durationMs / 1000), 1),
    };
    log(`  edgesync ${region}: ${total} reads, hit ratio ${(regionsOut[region].hitRatio * 100).toFixed(2)}%, p50 ${s.p50} ms, p95 ${regionsOut[region].p95} ms, p99 ${s.p99} ms; ${JSON.stringify(x.states)}`);
  }
  return { keys, hotShare, hotReadShare, concurrencyPerRegion: concurrency, durationMs, publishEveryMs, published, publishErrors: publishErrors.slice(0, 5), regions: regionsOut };
}

/** The printed table and goal lines of the load test. */
export function edgesyncReport(e) {
  const lines = [
    `#### Edgesync-style load: ${e.keys} keys (${Math.round(e.hotShare * 100)}% hot, taking ${Math.round(e.hotReadShare * 100)}% of reads), ${e.concurrencyPerRegion} connections a region for ${e.durationMs / 1000} s, ${e.published} publishes in between`,
    "",
    "| region | reads | req/s | hit ratio | p50 ms | p95 ms | p99 ms | answers |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [region, r] of Object.entries(e.regions)) {
    lines.push(`| ${region} | ${r.requests} | ${r.rps} | ${(r.hitRatio * 100).toFixed(2)}% | ${r.p50} | ${r.p95} | ${r.p99} | ${Object.entries(r.states).map(([k, v]) => `${k} ${v}`).join(", ")} |`);
  }
  const all = Object.values(e.regions);
  const hitOk = all.every((r) => r.hitRatio >= 0.99);
  const p99Ok = all.every((r) => r.p99 < 20);
  lines.push("", `Goals: hit ratio >= 99% in every region: ${hitOk ? "HOLDS" : "MISSED"} (lowest ${(Math.min(...all.map((r) => r.hitRatio)) * 100).toFixed(2)}%); ` +
    `p99 < 20 ms in every region: ${p99Ok ? "HOLDS" : "MISSED"} (highest ${Math.max(...all.map((r) => r.p99))} ms). A hit is any answer served without an origin read (${"`"}*-HIT${"`"}, ${"`"}*-STALE${"`"}).` +
    (e.publishErrors.length ? ` Publish errors: ${e.publishErrors.join("; ")}` : ""));
  return lines.join("\n");
}
