// Benchmarks the global rate limiter: L1-hit read throughput with rate limiting off, on (every
// key under its claim threshold, the normal case) and claimed (every request consults the key's
// coordinator), on three `wrangler dev` instances measured in alternating rounds; then the
// RateLimiter Durable Object's own decisions per second, driven over RPC by a small Worker.
// Prints a table and writes bench-results/ratelimit.json. All traffic stays on 127.0.0.1.
// `node_modules/.bin/node scripts/bench-ratelimit.mjs --help` lists the options.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, startWrangler } from "./lib/dev-server.mjs";
import { benchmark, number } from "./lib/bench/cli.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { runLoad, warmUntil } from "./lib/bench/load.mjs";
import { ACCEPT_ABBREVIATED } from "./lib/bench/measures.mjs";
import { groupCpuMs } from "./lib/bench/machine.mjs";
import { machineNotes } from "./lib/bench/report.mjs";
import { markdownTable, round } from "./lib/bench/stats.mjs";
import { syntheticVersions } from "./lib/bench/synthetic.mjs";
import { startPkgedge } from "./lib/bench/targets.mjs";

const { args, log, run } = benchmark({
  name: "ratelimit",
  about: "The global rate limiter: L1-hit reads with it off, on and claimed; the RateLimiter Durable Object's decisions per second.",
  steps: ["reads", "coordinator"],
  options: {
    duration: number(5, 1, 60, "seconds of recorded load per round"),
    warmup: number(1, 0, 10, "unrecorded seconds before each round"),
    rounds: number(3, 1, 10, "rounds per measure (the median is reported)"),
    concurrency: number(32, 1, 256, "connections of the read load"),
    decisions: number(20000, 100, 1_000_000, "coordinator decisions per run"),
  },
});

const opts = {
  durationMs: args.duration * 1000,
  warmupMs: args.warmup * 1000,
  rounds: args.rounds,
  concurrency: args.concurrency,
  decisions: args.decisions,
};

// Limits far above what the load reaches in a 60 s window (~1-2k req/s here), so "on" never
// claims a key; "claimed" uses the same limits with a claim fraction so small that every
// request after the first ten per window asks the coordinator (which always admits).
const HIGH = { RATE_LIMIT_TOKEN: "100000000/60s", RATE_LIMIT_IP: "100000000/60s", RATE_LIMIT_READ: "100000000/60s" };
const MODES = [
  { name: "off", vars: { RATE_LIMIT_ENABLED: "false" } },
  { name: "on, under threshold", vars: { ...HIGH, RATE_LIMIT_ENABLED: "true", RATE_LIMIT_CLAIM_FRACTION: "0.1" } },
  { name: "on, claimed (past the threshold)", vars: { ...HIGH, RATE_LIMIT_ENABLED: "true", RATE_LIMIT_CLAIM_FRACTION: "0.0000001" } },
];

async function measureReads() {
  const targets = [];
  for (const mode of MODES) {
    const t = await startPkgedge({ log, vars: mode.vars });
    await t.publishVersions(await syntheticVersions("rl-bench", 10, { depCount: 5 }));
    const url = `${t.registry}rl-bench`;
    const headers = { authorization: `Bearer ${t.token}`, accept: ACCEPT_ABBREVIATED };
    const warm = await warmUntil({ url, headers, headerName: "x-pkgedge-cache", want: "L1-HIT" });
    if (!warm.ok) throw new Error(`${mode.name}: never saw an L1-HIT (${warm.seen.join(", ")})`);
    targets.push({ mode, t, url, headers, runs: [] });
  }
  // Alternate the three in every round so drift on this shared machine hits each alike.
  for (let r = 0; r < opts.rounds; r++) {
    for (const x of targets) {
      // CPU of wrangler dev's whole process group (its workerd included) over the recorded and
      // warm-up load: per request it is what a core-bound Worker's throughput follows.
      const pgid = x.t.server.pid;
      const cpu0 = groupCpuMs(pgid);
      const run = await runLoad({ url: x.url, headers: x.headers, concurrency: opts.concurrency, durationMs: opts.durationMs, warmupMs: opts.warmupMs, headerName: "x-pkgedge-cache" });
      const cpu1 = groupCpuMs(pgid);
      const sent = run.sent;
      const cpuMsPerRequest = cpu0 !== null && cpu1 !== null && sent > 0 ? round((cpu1 - cpu0) / sent, 3) : null;
      x.runs.push({ rps: run.rps, cpuMsPerRequest, p50: run.latencyMs.p50, p99: run.latencyMs.p99, statuses: run.statuses, cache: run.headerValues, errors: run.errors });
      log(`round ${r + 1} ${x.mode.name}: ${x.runs.at(-1).rps} req/s, ${cpuMsPerRequest} ms CPU/request, statuses ${JSON.stringify(run.statuses)}`);
    }
  }
  const out = [];
  for (const x of targets) {
    const metrics = await x.t.metrics();
    const limited = (metrics.pkgedge_rate_limited_total?.samples ?? []).reduce((n, s) => n + s.value, 0);
    const rps = x.runs.map((r) => r.rps).sort((a, b) => a - b);
    const cpu = x.runs.map((r) => r.cpuMsPerRequest).filter((v) => v !== null).sort((a, b) => a - b);
    out.push({ mode: x.mode.name, vars: x.mode.vars, runs: x.runs, medianRps: rps[Math.floor(rps.length / 2)],
      medianCpuMsPerRequest: cpu.length ? cpu[Math.floor(cpu.length / 2)] : null, rateLimited: limited, sourcesChanged: x.t.sourcesChanged() });
    await x.t.stop();
  }
  return out;
}

// A Worker that exports the real RateLimiter class and drives one or more of its objects over
// RPC, so the figure is the coordinator's own cost (plus RPC), without HTTP or the edge Worker.
// With ?local=N it instead runs the edge middleware's own steps N times for a read with a token
// (three keys, all under threshold), to price the limiter's CPU per request apart from noise.
const DRIVER = (root) => `
import { RateLimiter } from ${JSON.stringify(join(root, "durable-objects", "rate-limiter.ts"))};
import { decide } from ${JSON.stringify(join(root, "shared", "rate-limit", "claim.ts"))};
import { LocalCounters } from ${JSON.stringify(join(root, "shared", "rate-limit", "local-counter.ts"))};
import { loadRateLimitSettings } from ${JSON.stringify(join(root, "shared", "rate-limit", "policy.ts"))};
import { clientIp, limitKeys, routeClass } from ${JSON.stringify(join(root, "shared", "rate-limit", "subjects.ts"))};
export { RateLimiter };
const settings = loadRateLimitSettings({ RATE_LIMIT_TOKEN: "100000000/60s", RATE_LIMIT_IP: "100000000/60s", RATE_LIMIT_READ: "100000000/60s" });
const counters = new LocalCounters();
export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const local = Number(u.searchParams.get("local") ?? 0);
    if (local > 0) {
      let allowed = 0;
      for (let i = 0; i < local; i++) {
        const keys = limitKeys(settings, routeClass(request.method, "/npm/rl-bench"), { tokenId: "tok" + (i % 8), ip: clientIp(request.headers, true) });
        const v = await decide(keys, { counters, region: "us-east", claimFraction: 0.1, failClosed: false, coordinatorFor: () => { throw new Error("unused"); } });
        if (v.allowed) allowed++;
      }
      return Response.json({ allowed, denied: local - allowed });
    }
    const total = Number(u.searchParams.get("n") ?? 0), keys = Number(u.searchParams.get("keys") ?? 1);
    const concurrency = Number(u.searchParams.get("c") ?? 1), limit = Number(u.searchParams.get("limit") ?? 1e9);
    const run = u.searchParams.get("run") ?? "x";
    let allowed = 0, denied = 0;
    await Promise.all(Array.from({ length: keys }, async (_, k) => {
      const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(run + ":" + k));
      let sent = 0;
      const per = Math.ceil(total / keys);
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (sent < per) {
          sent++;
          const a = await stub.check({ limit, windowMs: 60000, threshold: 1, reported: 0 });
          if (a.allowed) allowed++; else denied++;
        }
      }));
    }));
    return Response.json({ allowed, denied });
  },
};
`;

async function measureCoordinator() {
  const dir = mkdtempSync(join(tmpdir(), "pkgedge-rl-bench-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "driver.ts"), DRIVER(projectRoot));
  writeFileSync(join(dir, "wrangler.toml"), [
    'name = "pkgedge-rl-bench"', 'main = "driver.ts"', 'compatibility_date = "2026-08-01"', 'compatibility_flags = ["nodejs_compat"]',
    "[[durable_objects.bindings]]", 'name = "RATE_LIMITER"', 'class_name = "RateLimiter"',
    "[[migrations]]", 'tag = "v1"', 'new_sqlite_classes = ["RateLimiter"]', "",
  ].join("\n"));
  const driver = await startWrangler({ cwd: dir, args: ["-c", join(dir, "wrangler.toml")], persistTo: join(dir, "state"), healthPath: "/?n=0" });
  onCleanup(driver.stop);
  const base = driver.url;
  const cases = [
    { name: "1 key, 1 caller at a time", keys: 1, c: 1 },
    { name: "1 key, 32 concurrent callers", keys: 1, c: 32 },
    { name: "1 key, 32 callers, limit reached (denials)", keys: 1, c: 32, limit: 100 },
    { name: "4 keys, 8 callers each", keys: 4, c: 8 },
  ];
  const out = [];
  let runId = 0;
  for (const k of cases) {
    const rates = [];
    let last;
    for (let r = 0; r < opts.rounds; r++) {
      const n = opts.decisions;
      const q = new URLSearchParams({ n: String(n), keys: String(k.keys), c: String(k.c), limit: String(k.limit ?? 1e9), run: `r${runId++}` });
      const started = process.hrtime.bigint();
      const res = await fetch(`${base}/?${q}`);
      last = await res.json();
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      rates.push(round((last.allowed + last.denied) / s, 0));
      log(`coordinator ${k.name}: ${rates.at(-1)} decisions/s (${JSON.stringify(last)})`);
    }
    rates.sort((a, b) => a - b);
    out.push({ case: k.name, decisionsPerRun: opts.decisions, rates, median: rates[Math.floor(rates.length / 2)], lastRun: last });
  }
  // The edge side: CPU of the limiter's local path per request, from the time of N runs minus
  // the time of an empty request (workerd's clock stands still inside pure computation).
  const timeOne = async (q) => {
    const t0 = process.hrtime.bigint();
    await (await fetch(`${base}/?${q}`)).json();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const perRequestUs = [];
  const localN = 200_000;
  for (let r = 0; r < opts.rounds; r++) {
    const empty = await timeOne("n=0");
    const busy = await timeOne(`local=${localN}`);
    perRequestUs.push(round(((busy - empty) * 1000) / localN, 2));
    log(`local path: ${perRequestUs.at(-1)} µs per request`);
  }
  perRequestUs.sort((a, b) => a - b);
  await driver.stop();
  return { cases: out, localPath: { requestsPerRun: localN, perRequestUs, medianUs: perRequestUs[Math.floor(perRequestUs.length / 2)] } };
}

function buildReport(results) {
  const lines = [];
  if (results.reads) {
    const off = results.reads[0].medianRps;
    const under = results.reads[1];
    lines.push(`L1-hit abbreviated packument (10 versions), ${opts.concurrency} connections, median of ${opts.rounds} x ${opts.durationMs / 1000} s:`, "");
    lines.push(markdownTable(["rate limiting", "req/s (median)", "rounds req/s", "CPU ms/request (median)", "p50 / p99 ms (last round)", "vs off", "429s"],
      results.reads.map((r) => [r.mode, String(r.medianRps), r.runs.map((x) => x.rps).join(", "), String(r.medianCpuMsPerRequest), `${r.runs.at(-1).p50} / ${r.runs.at(-1).p99}`,
        `${round((r.medianRps / off - 1) * 100, 1)}%`, String(r.rateLimited)])), "");
    const claimed = results.reads[2];
    if (under && claimed) {
      const cpuRatio = under.medianCpuMsPerRequest && claimed.medianCpuMsPerRequest ? round(under.medianCpuMsPerRequest / claimed.medianCpuMsPerRequest, 2) : null;
      lines.push(`Past the claim threshold vs below it: ${round(claimed.medianRps / under.medianRps, 2)}x the req/s, ${cpuRatio}x by CPU per request (goal: at least 0.9).`, "");
    }
  }
  if (results.coordinator) {
    lines.push(`RateLimiter decisions per second (RPC from a Worker in the same workerd, ${opts.decisions} per run, median of ${opts.rounds}):`, "");
    lines.push(markdownTable(["case", "decisions/s (median)", "runs"], results.coordinator.cases.map((c) => [c.case, String(c.median), c.rates.join(", ")])), "");
    const lp = results.coordinator.localPath;
    lines.push(`Edge limiter, local path (3 keys under threshold), CPU per request: ${lp.medianUs} µs (runs: ${lp.perRequestUs.join(", ")})`);
    if (results.reads) {
      const off = results.reads[0].medianRps;
      lines.push(`At the "off" rate of ${off} req/s on ${cpus().length} cores that is ${round((lp.medianUs * off) / (cpus().length * 1e4), 2)}% of the CPU.`);
    }
    lines.push("");
  }
  lines.push(...machineNotes(results).map((n) => `- ${n}`));
  return lines.join("\n");
}

await run(async ({ results, step }) => {
  results.options = opts;
  await step("reads", "1. L1-hit reads with rate limiting off, on and claimed", measureReads);
  await step("coordinator", "2. RateLimiter decisions per second", measureCoordinator);
}, { report: buildReport });
