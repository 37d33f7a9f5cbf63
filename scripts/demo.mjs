// `npm run demo`: walks a newcomer through pkgedge's tiers against a running `npm run dev`, one
// step at a time, each with what it did, what it expected, what it got and how long it took; a
// step that does not behave ends the demo with exit code 1 and a one-line reason.
//   npm run demo [-- --url http://127.0.0.1:8787] [--token <admin secret>] [--herd 100]
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { buildPublishDoc, escapeName } from "./lib/bench/npm-publish.mjs";
import { makeTarball } from "./lib/bench/tarball.mjs";
import { projectRoot } from "./lib/dev-server.mjs";

const USAGE = `usage: npm run demo -- [--url URL] [--token SECRET] [--herd N] [--strategy LIST]
  --url       a running pkgedge started with npm run dev (default $PKGEDGE_URL or http://127.0.0.1:8787)
  --token     the admin secret (default $PKGEDGE_ADMIN_TOKEN, else PKGEDGE_ADMIN_TOKEN in .dev.vars)
  --herd      concurrent requests in the thundering-herd step (default 100)
  --strategy  the server's INVALIDATION_STRATEGY, which the publish step checks
              (default $PKGEDGE_STRATEGY or pkgedge's default, us-east:eager,eu-west:lazy,ap-south:lazy)
For visible propagation delays, start the server with
  npm run dev -- --var PROPAGATION_DELAY_MS:us-east:300,eu-west:800 --var ORIGIN_LATENCY_MS:200
(the publish comes from ap-south; a slow origin makes the herd wait on one read: COALESCED)`;

// pkgedge's defaults (shared/config/defaults.ts): `npm run dev` runs with them unless told otherwise.
const DEFAULT_STRATEGY = "us-east:eager,eu-west:lazy,ap-south:lazy";

class StepFailure extends Error {}

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.PKGEDGE_URL ?? "http://127.0.0.1:8787" },
      token: { type: "string" },
      herd: { type: "string", default: "100" },
      strategy: { type: "string", default: process.env.PKGEDGE_STRATEGY ?? DEFAULT_STRATEGY },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (err) {
  fail(`${err.message}\n${USAGE}`);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
let base;
try {
  base = new URL(values.url);
} catch {
  fail(`--url is not a URL: ${values.url}`);
}
const herdSize = Number(values.herd);
if (!Number.isInteger(herdSize) || herdSize < 2 || herdSize > 1000) fail("--herd must be a whole number from 2 to 1000");
const strategy = Object.fromEntries(values.strategy.split(",").map((pair) => pair.trim().split(":")));
const regions = Object.keys(strategy);
if (regions.length < 3 || Object.values(strategy).some((s) => s !== "eager" && s !== "lazy")) {
  fail(`--strategy needs three or more region:eager|lazy pairs, got ${values.strategy}`);
}

function adminSecret() {
  if (values.token) return values.token;
  if (process.env.PKGEDGE_ADMIN_TOKEN) return process.env.PKGEDGE_ADMIN_TOKEN;
  // Read as wrangler reads it (dotenv: quotes and comments stripped).
  const file = join(projectRoot, ".dev.vars");
  const secret = existsSync(file) && parseEnv(readFileSync(file, "utf8")).PKGEDGE_ADMIN_TOKEN;
  if (secret) return secret;
  fail("no admin secret: pass --token (npm run dev prints it), set PKGEDGE_ADMIN_TOKEN, or put it in .dev.vars");
}
const admin = adminSecret();

// ---- HTTP ----

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (t) => `${t < 10 ? t.toFixed(1) : Math.round(t)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** One request; answers { status, state (x-pkgedge-cache), body (Buffer), ms }. */
async function request(path, { region, method = "GET", token, accept, body } = {}) {
  const headers = {};
  if (region) headers["x-pkgedge-region"] = region;
  if (token) headers.authorization = `Bearer ${token}`;
  if (accept) headers.accept = accept;
  if (body !== undefined) headers["content-type"] = "application/json";
  const start = process.hrtime.bigint();
  let res;
  try {
    res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new StepFailure(`cannot reach ${base.origin}: ${err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.message} (is npm run dev running?)`);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, state: res.headers.get("x-pkgedge-cache") ?? "none", body: bytes, ms: ms(start) };
}

/** The admin API: JSON in and out, the admin secret as Bearer; a refusal fails the step. */
async function adminCall(method, path, body) {
  const r = await request(path, { method, token: admin, body, accept: "application/json" });
  if (r.status === 401 || r.status === 403) throw new StepFailure(`${method} ${path} refused the admin secret (${r.status}): pass the one npm run dev printed with --token`);
  if (r.status >= 300) throw new StepFailure(`${method} ${path} answered ${r.status}: ${r.body.toString().slice(0, 200)}`);
  return JSON.parse(r.body.toString() || "{}");
}

/** Sums the samples of a metric whose labels include `labels`. */
function metric(snapshot, name, labels = {}) {
  const samples = snapshot[name]?.samples ?? [];
  return samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/**
 * /_/metrics as of now. The shields' counters are reused for METRICS_SHIELD_CACHE_MS (2 s), so
 * this waits for an answer whose fan-out to the shields began after the call
 * (pkgedge_metrics_fanouts_total, an edge counter, moves with each fan-out).
 */
async function metricsNow() {
  const first = await adminCall("GET", "/_/metrics?format=json");
  const fanouts = metric(first, "pkgedge_metrics_fanouts_total");
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await sleep(250);
    const next = await adminCall("GET", "/_/metrics?format=json");
    if (metric(next, "pkgedge_metrics_fanouts_total") > fanouts) return next;
  }
  throw new StepFailure("/_/metrics never asked the shields again in 15 s (is METRICS_SHIELD_CACHE_MS above 15000?)");
}

// ---- the package ----

const name = `pkgedge-demo-${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
const packumentPath = `/npm/${escapeName(name)}`;
const tarballPath = (version) => `/npm/${escapeName(name)}/-/${name}-${version}.tgz`;
const FULL = "application/json";
const ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

async function versionEntry(version) {
  const manifest = { name, version, description: "a package the pkgedge demo published", main: "index.js", license: "MIT" };
  const tgz = await makeTarball({
    "package.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "index.js": `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`,
  });
  return { manifest: { ...manifest, _id: `${name}@${version}` }, tgz };
}

async function publish(entry, token, region) {
  const doc = buildPublishDoc(new URL("/npm/", base).href, [entry]);
  const r = await request(packumentPath, { method: "PUT", region, token, body: doc, accept: "application/json" });
  if (r.status !== 200 && r.status !== 201) throw new StepFailure(`publishing ${name}@${entry.manifest.version} answered ${r.status}: ${r.body.toString().slice(0, 200)}`);
  return r;
}

/** The packument's latest version, or null when the answer is not one. */
function latestOf(r) {
  try {
    return JSON.parse(r.body.toString())["dist-tags"]?.latest ?? null;
  } catch {
    return null;
  }
}

// ---- steps ----

const steps = [];
const step = (title, run) => steps.push({ title, run });
const expect = (ok, reason) => {
  if (!ok) throw new StepFailure(reason);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tally = (states) => Object.entries(states.reduce((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {})).map(([s, n]) => `${s} x${n}`).join(", ");

const [home, second] = regions;
// The writer is a region whose own strategy does not matter (it applies its write at once): pick
// it so that the regions left to watch have an eager one and a lazy one when there are both.
const writer = [...regions].reverse().find((w) => {
  const others = regions.filter((r) => r !== w).map((r) => strategy[r]);
  return others.includes("eager") && others.includes("lazy");
}) ?? regions.at(-1);
const watched = regions.filter((r) => r !== writer);
let token;
let tokenId;
let v1;

step("Cold fetch from the origin", async () => {
  const r = await request(packumentPath, { region: home, token, accept: FULL });
  return {
    did: `GET ${packumentPath} in ${home} (nothing has read this package yet)`,
    expected: `MISS: ${home}'s L1 and shield are empty, so the shield reads the origin (R2)`,
    got: `${r.status} ${r.state}, latest ${latestOf(r)}`,
    ms: r.ms,
    check: () => expect(r.status === 200 && r.state === "MISS", `expected 200 MISS, got ${r.status} ${r.state}`),
  };
});

step("The region's shield answers the next client", async () => {
  const r = await request(packumentPath, { region: home, token, accept: ABBREVIATED });
  return {
    did: `GET ${packumentPath} in ${home} with npm install's Accept (the abbreviated form)`,
    expected: "L2-HIT: L1 holds only the full form it rendered, the shield holds the document and renders it without the origin",
    got: `${r.status} ${r.state}`,
    ms: r.ms,
    check: () => expect(r.status === 200 && r.state === "L2-HIT", `expected 200 L2-HIT, got ${r.status} ${r.state}`),
  };
});

step("Every region has its own caches", async () => {
  const answers = await Promise.all(regions.slice(1).map((region) => request(packumentPath, { region, token, accept: FULL })));
  return {
    did: `GET ${packumentPath} in ${regions.slice(1).join(" and ")}`,
    expected: "MISS in each: a region's shield does not share another region's copies",
    got: answers.map((r, i) => `${regions[i + 1]} ${r.status} ${r.state} (${fmt(r.ms)})`).join(", "),
    ms: Math.max(...answers.map((r) => r.ms)),
    check: () => answers.forEach((r, i) => expect(r.status === 200 && r.state === "MISS", `${regions[i + 1]}: expected 200 MISS, got ${r.status} ${r.state}` +
      (r.state.endsWith("HIT") ? " (one region answered for all: is DEV_REGION_HEADER on? npm run dev turns it on)" : ""))),
  };
});

step("Edge hits: L1, then memory", async () => {
  const rounds = 5;
  const answers = [];
  for (let i = 0; i < rounds; i++) {
    for (const region of regions) answers.push({ region, ...(await request(packumentPath, { region, token, accept: FULL })) });
  }
  const bad = answers.find((r) => r.status !== 200 || (r.state !== "L1-HIT" && r.state !== "HOT-HIT"));
  return {
    did: `GET ${packumentPath} ${rounds} times in each of ${regions.join(", ")}`,
    expected: "L1-HIT (each region's Cache API), and HOT-HIT once a read is frequent (the hot tier in isolate memory): the shield is not asked",
    got: `${tally(answers.map((r) => r.state))}; median ${fmt(median(answers.map((r) => r.ms)))}`,
    ms: median(answers.map((r) => r.ms)),
    check: () => expect(!bad, bad && `${bad.region}: expected 200 L1-HIT or HOT-HIT, got ${bad.status} ${bad.state}`),
  };
});

step("A thundering herd collapsed into one origin read", async () => {
  const region = second;
  const labels = { region, kind: "blob" };
  const before = metric(await metricsNow(), "pkgedge_origin_fetches_total", labels);
  // Open the herd's connections first (fetch keeps them alive), so its requests arrive together
  // rather than one TCP handshake apart.
  await Promise.all(Array.from({ length: herdSize }, () => request("/_/health")));
  const start = process.hrtime.bigint();
  const answers = await Promise.all(Array.from({ length: herdSize }, () => request(tarballPath("1.0.0"), { region, token })));
  const wall = ms(start);
  const after = metric(await metricsNow(), "pkgedge_origin_fetches_total", labels);
  const wrong = answers.filter((r) => r.status !== 200 || !r.body.equals(v1.tgz)).length;
  const misses = answers.filter((r) => r.state === "MISS").length;
  return {
    did: `${herdSize} concurrent GETs of ${tarballPath("1.0.0")} in ${region} (no tier there has it), then /_/metrics`,
    expected: `every answer is the published tarball; one MISS; pkgedge_origin_fetches_total{region="${region}",kind="blob"} up by 1`,
    got: `${tally(answers.map((r) => r.state))}; ${wrong} wrong answers; origin reads ${before} -> ${after}; all ${herdSize} in ${fmt(wall)} (slowest ${fmt(Math.max(...answers.map((r) => r.ms)))})`,
    ms: wall,
    check: () => {
      expect(wrong === 0, `${wrong} of ${herdSize} answers were not the published tarball`);
      expect(after - before === 1, `expected one origin read for the herd, counted ${after - before}`);
      expect(misses === 1, `expected one MISS among the herd, got ${misses}`);
    },
  };
});

step("A publish propagating to every region", async () => {
  const v2 = await versionEntry("1.0.1");
  const published = await publish(v2, token, writer);
  const t0 = process.hrtime.bigint();
  // The writer is read once; each watched region back to back until it serves the new version.
  const [own, ...timelines] = await Promise.all([request(packumentPath, { region: writer, token, accept: FULL }), ...watched.map(async (region) => {
    const seen = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await request(packumentPath, { region, token, accept: FULL });
      const at = ms(t0);
      seen.push({ state: r.state, version: latestOf(r), status: r.status });
      if (seen.at(-1).version === "1.0.1") return { region, seen, at };
      await sleep(5);
    }
    return { region, seen, at: null };
  })]);
  const lines = [`${writer} (the writer): ${own.state}, latest ${latestOf(own)} at once`];
  for (const { region, seen, at } of timelines) {
    const old = seen.filter((s) => s.version === "1.0.0");
    const last = seen.at(-1);
    lines.push(`${region} (${strategy[region]}): 1.0.0 served ${old.length} times meanwhile (${tally(old.map((s) => s.state)) || "none"}), ` +
      (at === null ? "never 1.0.1 in 30 s" : `then 1.0.1 (${last.state}) ${fmt(at)} after the publish answered`));
  }
  return {
    did: `published ${name}@1.0.1 from ${writer} (${published.status}, ${fmt(published.ms)}), then read the packument in every region until it named 1.0.1`,
    expected: `${writer} serves 1.0.1 at once; ${watched.map((r) => `${r} (${strategy[r]}) ${strategy[r] === "eager" ? "drops its copy, no L2-STALE" : "serves its stale copy (L2-STALE) once while it revalidates"}`).join("; ")}`,
    got: lines.join("\n             "),
    ms: Math.max(...timelines.map((t) => t.at ?? 0)),
    check: () => {
      expect(latestOf(own) === "1.0.1", `${writer} wrote 1.0.1 but served ${latestOf(own)} (${own.state}) right after`);
      for (const { region, seen, at } of timelines) {
        expect(at !== null, `${region} still served ${seen.at(-1)?.version} (${seen.at(-1)?.state}) 30 s after the publish`);
        const stale = seen.filter((s) => s.state === "L2-STALE" && s.version === "1.0.0").length;
        if (strategy[region] === "lazy") expect(stale > 0, `${region} is lazy but served no stale copy (L2-STALE) before 1.0.1`);
        else expect(stale === 0, `${region} is eager but served ${stale} stale copies (L2-STALE)`);
      }
    },
  };
});

// ---- run ----

async function main() {
  console.log(`pkgedge demo against ${base.origin}: package ${name}, regions ${regions.join(", ")}`);
  const health = await request("/_/health");
  if (health.status !== 200) throw new StepFailure(`${base.origin}/_/health answered ${health.status}`);
  const created = await adminCall("POST", "/_/tokens", { name: `demo-${name}`, scopes: ["read", "publish"], packages: [name] });
  token = created.token;
  tokenId = created.id;
  v1 = await versionEntry("1.0.0");
  const first = await publish(v1, token, home);
  console.log(`setup: a publish token for ${name} only, and ${name}@1.0.0 published from ${home} (${first.status}, ${fmt(first.ms)})`);
  for (const [i, s] of steps.entries()) {
    const label = `step ${i + 1}/${steps.length} ${s.title}`;
    console.log(`\n${label}`);
    let result;
    try {
      result = await s.run();
      console.log(`   did:      ${result.did}\n   expected: ${result.expected}\n   got:      ${result.got}`);
      result.check();
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      throw new StepFailure(`${label}: ${err.message}`);
    }
    console.log(`   ok (${fmt(result.ms)})`);
  }
  console.log(`\nall ${steps.length} steps behaved`);
}

try {
  await main();
} catch (err) {
  console.error(`\ndemo failed: ${err instanceof StepFailure ? err.message : err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  if (tokenId) await adminCall("DELETE", `/_/tokens/${encodeURIComponent(tokenId)}`).catch(() => {});
}
