// Loopback HTTP load generation: a fixed-concurrency closed loop and a parallel burst of clients.
import http from "node:http";
import { msSince, round, summarize } from "./stats.mjs";

function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== "localhost" && host !== "[::1]") {
    throw new Error(`benchmarks only send traffic to loopback, not ${host}`);
  }
}

/** One GET that reads the whole body; resolves { status, bytes, ms, header } or rejects. */
export function getOnce(url, { agent, headers, headerName, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on("data", (c) => {
        bytes += c.length;
      });
      res.on("end", () => resolve({
        status: res.statusCode,
        bytes,
        ms: msSince(start),
        header: headerName ? res.headers[headerName] ?? null : null,
        contentType: res.headers["content-type"] ?? null,
      }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/**
 * Closed-loop load: `concurrency` keep-alive connections each send the next GET as soon as the
 * previous answer is read, for `warmupMs` (not recorded) then `durationMs` (recorded). Bounded
 * by time and by `maxRequests`. Counts statuses and the values of `headerName`.
 */
export async function runLoad({
  url,
  headers = {},
  concurrency = 32,
  durationMs = 10_000,
  warmupMs = 1_000,
  maxRequests = 2_000_000,
  timeoutMs = 30_000,
  headerName = null,
}) {
  assertLoopback(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies = [];
  const statuses = {};
  const headerValues = {};
  const errors = {};
  let bytes = 0;
  let sent = 0;
  const t0 = process.hrtime.bigint();
  const warmEnd = t0 + BigInt(Math.round(warmupMs * 1e6));
  const end = warmEnd + BigInt(Math.round(durationMs * 1e6));

  async function worker() {
    for (;;) {
      const now = process.hrtime.bigint();
      if (now >= end || sent >= maxRequests) return;
      sent += 1;
      const recorded = now >= warmEnd;
      try {
        const r = await getOnce(url, { agent, headers, headerName, timeoutMs });
        if (!recorded || process.hrtime.bigint() > end) continue;
        latencies.push(r.ms);
        bytes += r.bytes;
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (headerName) {
          const v = r.header ?? "(none)";
          headerValues[v] = (headerValues[v] ?? 0) + 1;
        }
      } catch (err) {
        if (recorded) errors[err.code ?? err.message] = (errors[err.code ?? err.message] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  const measuredMs = Math.max(1, Number(end - warmEnd) / 1e6);
  const ok = latencies.length;
  return {
    url,
    concurrency,
    durationMs: round(measuredMs, 0),
    requests: ok,
    /** Every request sent, warm-up included (what a CPU reading over the whole call covers). */
    sent,
    rps: round((ok / measuredMs) * 1000, 1),
    mbPerSec: round(bytes / 1024 / 1024 / (measuredMs / 1000), 1),
    avgBytes: ok ? Math.round(bytes / ok) : 0,
    latencyMs: summarize(latencies),
    statuses,
    errors,
    headerValues,
  };
}

/**
 * `clients` GETs sent at the same moment, each on its own new connection (like separate
 * machines). Returns each one's { status, bytes, ms, header } (errors as { error }).
 */
export async function burst({ url, headers = {}, clients = 20, timeoutMs = 60_000, headerName = null }) {
  assertLoopback(url);
  const results = await Promise.all(Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: false });
    try {
      return await getOnce(url, { agent, headers, headerName, timeoutMs });
    } catch (err) {
      return { error: err.message };
    } finally {
      agent.destroy();
    }
  }));
  return results;
}

/** Repeats a GET (bounded) until `headerName` says `want` (a value or a list); returns the values seen. */
export async function warmUntil({ url, headers = {}, headerName, want, tries = 10 }) {
  assertLoopback(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = [];
  try {
    for (let i = 0; i < tries; i++) {
      const r = await getOnce(url, { agent, headers, headerName, timeoutMs: 30_000 });
      seen.push(`${r.status} ${r.header ?? "(none)"}`);
      if (r.status === 200 && (!want || [want].flat().includes(r.header))) return { ok: true, seen, last: r };
      await new Promise((res) => setTimeout(res, 100));
    }
    return { ok: false, seen };
  } finally {
    agent.destroy();
  }
}

/** Answers from the PoP itself: the hot tier in isolate memory, or L1 (the Cache API). */
export const EDGE_HITS = ["HOT-HIT", "L1-HIT"];

/**
 * The read measure the npm and OCI benchmarks share: unrecorded preheat load first (workerd's,
 * Node's and Go's JITs need seconds of traffic before the numbers settle), then `opts.rounds`
 * rounds per target, alternating who goes first so neither always runs on a machine warmed by
 * the other, each after warming until the target's cache header says L1-HIT. `request(t)` gives
 * { url, headers }. Returns per target its median round by throughput, with every round kept.
 */
export async function loadRounds({ name, targets, request, concurrency, opts, log, expectedBytes }) {
  const rounds = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (const t of opts.preheatMs > 0 ? targets : []) {
    await runLoad({ ...request(t), concurrency, durationMs: opts.preheatMs, warmupMs: 0 });
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const { url, headers } = request(t);
      const warm = await warmUntil({ url, headers, headerName: t.cacheHeader, want: t.cacheHeader ? EDGE_HITS : null, tries: 10 });
      const x = await runLoad({ url, headers, concurrency, durationMs: opts.durationMs, warmupMs: opts.warmupMs, headerName: t.cacheHeader });
      x.warmup = warm.seen;
      rounds[t.name].push(x);
      const wrongSize = expectedBytes !== undefined && x.avgBytes !== expectedBytes ? ` (WRONG SIZE: expected ${expectedBytes} B)` : "";
      log(`  ${name} @ ${t.name} round ${r + 1}/${opts.rounds} (warm-up ${warm.seen.join(", ")}): ${x.rps} req/s, ${x.mbPerSec} MiB/s, ` +
        `p50 ${x.latencyMs.p50} ms, p99 ${x.latencyMs.p99} ms, ${x.avgBytes} B/resp${wrongSize}, statuses ${JSON.stringify(x.statuses)}` +
        `${t.cacheHeader ? `, ${JSON.stringify(x.headerValues)}` : ""}${Object.keys(x.errors).length ? `, errors ${JSON.stringify(x.errors)}` : ""}`);
    }
  }
  const out = {};
  for (const t of targets) {
    const all = rounds[t.name];
    const median = [...all].sort((a, b) => a.rps - b.rps)[Math.floor((all.length - 1) / 2)];
    const total = all.reduce((n, x) => n + x.requests, 0);
    const headerValues = {};
    for (const x of all) for (const [k, v] of Object.entries(x.headerValues)) headerValues[k] = (headerValues[k] ?? 0) + v;
    out[t.name] = {
      ...median,
      ...(expectedBytes !== undefined ? { expectedBytes } : {}),
      rounds: all.map((x) => ({ rps: x.rps, mbPerSec: x.mbPerSec, p50: x.latencyMs.p50, p99: x.latencyMs.p99, requests: x.requests, statuses: x.statuses, errors: x.errors, headerValues: x.headerValues })),
      headerValuesAllRounds: headerValues,
      ...(t.cacheHeader ? { l1HitShare: total ? round(EDGE_HITS.reduce((n, h) => n + (headerValues[h] ?? 0), 0) / total, 4) : 0 } : {}),
    };
  }
  return out;
}
