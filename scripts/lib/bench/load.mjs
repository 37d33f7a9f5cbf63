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
function getOnce(url, { agent, headers, headerName, timeoutMs }) {
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

/** Repeats a GET (bounded) until `headerName` says `want`; returns the values seen. */
export async function warmUntil({ url, headers = {}, headerName, want, tries = 10 }) {
  assertLoopback(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = [];
  try {
    for (let i = 0; i < tries; i++) {
      const r = await getOnce(url, { agent, headers, headerName, timeoutMs: 30_000 });
      seen.push(`${r.status} ${r.header ?? "(none)"}`);
      if (r.status === 200 && (!want || r.header === want)) return { ok: true, seen, last: r };
      await new Promise((res) => setTimeout(res, 100));
    }
    return { ok: false, seen };
  } finally {
    agent.destroy();
  }
}
