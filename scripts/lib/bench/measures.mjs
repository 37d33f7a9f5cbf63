// The four npm measures, each run against every target with the same inputs.
import { burst, loadRounds } from "./load.mjs";
import { escapeName } from "./npm-publish.mjs";
import { timeNpmInstall } from "./npm-install.mjs";
import { publishCorpus } from "./corpus.mjs";
import { bigTarballPackage, smallTarball, syntheticVersions } from "./synthetic.mjs";
import { msSince, round, summarize } from "./stats.mjs";

/** What npm sends for an install (abbreviated metadata preferred) and for `npm view` (full). */
export const ACCEPT_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
export const ACCEPT_FULL = "application/json";

function readHeaders(target, accept, opts) {
  const h = { accept, "user-agent": "pkgedge-bench" };
  // npm sends its token on every request to a registry it has one for.
  if (opts.auth) h.authorization = `Bearer ${target.token}`;
  if (opts.gzip) h["accept-encoding"] = "gzip";
  return h;
}

/** Records a target's failure in a measure's output and the log, and carries on. */
export function failed(out, t, step, err, log) {
  out.errors ??= {};
  out.errors[t.name] = `${step}: ${err?.message ?? err}`;
  log(`  ${t.name} FAILED at ${step}: ${err?.message ?? err}`);
}

async function getJson(url, headers) {
  const res = await fetch(url, { headers: { ...headers, "accept-encoding": "identity" } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} (accept: ${headers.accept}) -> ${res.status} ${text.slice(0, 300)}`);
  return { res, json: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

/**
 * 1. Throughput and latency of L1-hit reads: a mid-size packument (abbreviated and full) and a
 * 1 MB tarball, at fixed concurrency for a fixed time, after warming.
 */
export async function measureLoad(targets, opts, log) {
  const meta = await syntheticVersions("bench-packument", opts.packumentVersions, { depCount: 10 });
  const big = await bigTarballPackage("bench-tarball-1mb");
  const cases = {};
  const urls = {};
  const ready = [];
  for (const t of targets) {
    try {
      // Many versions go in the way the large measure seeds them (Verdaccio would rewrite its
      // growing document on each of thousands of PUTs).
      if (meta.length > 200) await t.seedLarge(meta);
      else await t.publishVersions(meta);
      await t.publishVersions([big]);
      const { json } = await getJson(`${t.registry}bench-tarball-1mb`, readHeaders(t, ACCEPT_FULL, opts));
      const tarball = json.versions?.["1.0.0"]?.dist?.tarball;
      if (!tarball) throw new Error(`${t.name}: packument of bench-tarball-1mb has no dist.tarball`);
      urls[t.name] = {
        "packument-abbreviated": [`${t.registry}bench-packument`, ACCEPT_ABBREVIATED],
        "packument-full": [`${t.registry}bench-packument`, ACCEPT_FULL],
        "tarball-1mb": [tarball, "*/*"],
      };
      ready.push(t);
    } catch (err) {
      failed(cases, t, "setup", err, log);
    }
  }
  for (const name of ["packument-abbreviated", "packument-full", "tarball-1mb"]) {
    cases[name] = await loadRounds({ name, targets: ready, concurrency: opts.concurrency, opts, log, request: (t) => {
      const [url, accept] = urls[t.name][name];
      return { url, headers: readHeaders(t, accept, opts) };
    } });
  }
  return cases;
}

async function publishCorpusInto(target, corpus) {
  const start = process.hrtime.bigint();
  const latencies = await publishCorpus(corpus, async (entry) => (await target.publishVersions([entry], 1))[0]);
  return { totalMs: round(msSince(start), 0), versions: latencies.length, putMs: summarize(latencies) };
}

/**
 * 2. Cold `npm install` (empty npm cache, clean project) of a real tree published into both.
 * Runs alternate between targets; the first run per target is also the registry's first read.
 */
export async function measureInstall(targets, corpus, opts, log) {
  const out = { top: `${corpus.top}@${corpus.topVersion}`, treePackages: corpus.packages.length, publish: {}, runs: {} };
  const ready = [];
  for (const t of targets) {
    try {
      out.publish[t.name] = await publishCorpusInto(t, corpus);
      log(`  published ${corpus.packages.length} versions into ${t.name} in ${out.publish[t.name].totalMs} ms`);
      out.runs[t.name] = [];
      ready.push(t);
    } catch (err) {
      failed(out, t, "publishing the corpus", err, log);
    }
  }
  for (let i = 0; i < opts.installRuns; i++) {
    for (const t of ready) {
      const r = await timeNpmInstall({ registry: t.registry, token: t.token, spec: out.top });
      log(`  npm install ${out.top} from ${t.name} #${i + 1}: ${r.ok ? `${Math.round(r.ms)} ms, ${r.packages} packages` : `FAILED (${r.code}) ${r.stderr}`}`);
      if (r.foreignTarballs) log(`    warning: ${r.foreignTarballs} tarballs resolved to another host`);
      out.runs[t.name].push(r);
    }
  }
  for (const t of ready) {
    const runs = out.runs[t.name];
    const good = runs.filter((r) => r.ok && r.packages >= corpus.packages.length);
    out.runs[t.name] = {
      ok: good.length === runs.length,
      firstMs: runs[0]?.ok ? round(runs[0].ms, 0) : NaN,
      medianMs: good.length ? summarize(good.map((r) => r.ms)).p50 : NaN,
      allMs: runs.map((r) => (r.ok ? round(r.ms, 0) : `failed(${r.code})`)),
      packages: runs.map((r) => r.packages),
      errors: runs.filter((r) => !r.ok).map((r) => r.stderr),
    };
  }
  return out;
}

function burstSummary(results) {
  const ok = results.filter((r) => !r.error && r.status === 200);
  const s = summarize(ok.map((r) => r.ms));
  const sizes = [...new Set(ok.map((r) => r.bytes))];
  const headers = {};
  for (const r of results) {
    const k = r.error ? `error: ${r.error}` : `${r.status} ${r.header ?? ""}`.trim();
    headers[k] = (headers[k] ?? 0) + 1;
  }
  return { ok: ok.length, clients: results.length, maxMs: s.max, p50Ms: s.p50, minMs: s.min, bytes: ok[0]?.bytes ?? 0, distinctSizes: sizes.length, latenciesMs: results.map((r) => (r.error ? null : round(r.ms, 1))), responses: headers };
}

/**
 * 3. A ~2,000-version packument requested by `clients` clients at once: first cold (the first
 * request after seeding), then warm, for the full and the abbreviated document.
 */
export async function measureLargePackument(targets, opts, log) {
  const name = "bench-large-packument";
  const entries = await syntheticVersions(name, opts.largeVersions, { depCount: 20 });
  const out = { versions: entries.length, clients: opts.clients, seed: {}, bursts: {} };
  const ready = [];
  for (const t of targets) {
    try {
      const start = process.hrtime.bigint();
      const seeded = await t.seedLarge(entries);
      out.seed[t.name] = { ...seeded, totalMs: round(msSince(start), 0) };
      log(`  seeded ${entries.length} versions into ${t.name} in ${out.seed[t.name].totalMs} ms (${seeded.method})`);
      ready.push(t);
    } catch (err) {
      failed(out, t, "seeding", err, log);
    }
  }
  for (const t of ready) {
    out.bursts[t.name] = {};
    const url = `${t.registry}${escapeName(name)}`;
    for (const [variant, accept] of [["full", ACCEPT_FULL], ["abbreviated", ACCEPT_ABBREVIATED]]) {
      for (const phase of ["cold", "warm"]) {
        const results = await burst({ url, headers: readHeaders(t, accept, opts), clients: opts.clients, headerName: t.cacheHeader, timeoutMs: 60_000 });
        const s = burstSummary(results);
        out.bursts[t.name][`${variant}-${phase}`] = s;
        log(`  ${t.name} ${variant} ${phase}: ${s.ok}/${s.clients} ok, max ${s.maxMs} ms, p50 ${s.p50Ms} ms, ${s.bytes} B, ${JSON.stringify(s.responses)}`);
      }
    }
  }
  return out;
}

/** 4. `count` small packages with distinct names published one after another. */
export async function measurePublish(targets, opts, log) {
  const out = {};
  const stamp = Date.now().toString(36);
  for (const t of targets) {
    const latencies = [];
    const statuses = {};
    try {
      for (let i = 0; i < opts.publishes; i++) {
        const manifest = { name: `bench-small-${stamp}-${i}`, version: "1.0.0", description: "small package", main: "index.js", license: "MIT" };
        const [r] = await t.publishVersions([{ manifest, tgz: await smallTarball(manifest) }], 1);
        latencies.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    } catch (err) {
      failed(out, t, `publish #${latencies.length + 1}`, err, log);
      continue;
    }
    out[t.name] = { ...summarize(latencies), statuses, latenciesMs: latencies.map((v) => round(v, 1)) };
    log(`  ${t.name}: ${opts.publishes} publishes, p50 ${out[t.name].p50} ms, p99 ${out[t.name].p99} ms, mean ${out[t.name].mean} ms`);
  }
  return out;
}
