// A fixed-latency HTTP reverse proxy on loopback: the "far away upstream registry" of the
// pull-through benchmark. Every request waits `delayMs` before it is forwarded and its answer
// waits `delayMs` again before the first byte goes back (one round trip = 2 x delayMs), bodies
// stream both ways, and every request is recorded, so upstream traffic is counted where the
// upstream sees it rather than by the registry under test.
import http from "node:http";

function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== "localhost") throw new Error(`the latency proxy only forwards to loopback, not ${host}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the proxy on a free 127.0.0.1 port in front of `target` (an http://127.0.0.1:port URL).
 * The Host header is kept as the client sent it, so an upstream that builds absolute URLs from it
 * (Verdaccio's tarball URLs) points clients back through the proxy.
 * Returns { url, requests() ([{ method, path, status, at, doneAt }] in ms), reset(), stop() }.
 */
export async function startLatencyProxy({ target, delayMs = 250 }) {
  assertLoopback(target);
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let log = [];
  const server = http.createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, status: null, at: Date.now(), doneAt: null };
    res.on("close", () => {
      entry.doneAt = Date.now();
    });
    log.push(entry);
    // Hold the request body (if any) back with the request: paused until forwarded.
    req.pause();
    await sleep(delayMs);
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent }, async (upRes) => {
      entry.status = upRes.statusCode;
      upRes.pause();
      await sleep(delayMs);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
      upRes.resume();
    });
    up.on("error", (err) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`latency proxy: ${err.message}\n`);
    });
    req.pipe(up);
    req.resume();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    delayMs,
    requests: () => [...log],
    reset() {
      log = [];
    },
    stop: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    }),
  };
}

/**
 * When the upstream was busy: seconds from the first request to the last answer, and the most
 * requests it had in flight at once (how much of its latency the client side overlapped).
 */
export function timeline(requests) {
  if (!requests.length) return { spanSeconds: 0, peakInFlight: 0 };
  const events = requests.flatMap((r) => [[r.at, 1], [r.doneAt ?? Date.now(), -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (now += d));
  return { spanSeconds: Math.round((events[events.length - 1][0] - events[0][0]) / 10) / 100, peakInFlight: peak };
}

/** How many requests each key got: `keyOf(entry)` names it (null leaves the request out). */
export function countBy(requests, keyOf) {
  const counts = {};
  for (const r of requests) {
    const k = keyOf(r);
    if (k !== null && k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
