// pkgedge stats: a live table of requests, requests/s, hit ratio and latency per region and tier,
// from /_/metrics?format=json (redrawn in place on a terminal; --once prints one table).
import { positiveInt, request, table } from "./common.mjs";

// Answers that needed no origin read of their own count as hits (as on the dashboard).
const HIT_STATES = new Set(["HOT-HIT", "L1-HIT", "L2-HIT", "L2-STALE", "NEGATIVE", "COALESCED"]);

export const stats = {
  name: "stats",
  usage: "stats [--interval <seconds>] [--once]",
  summary: "A live table of requests, requests/s, hit ratio and latency (p50/p95/p99) per region and tier.\nRequests and hit ratio count since the server started; requests/s and latency cover the last\ninterval (latency since start when the interval saw no request). Admin calls are left out.\nThe token may be the admin secret or METRICS_TOKEN.",
  options: {
    interval: { type: "string", value: "<seconds>", help: "seconds between samples (default 2)" },
    once: { type: "boolean", help: "take two samples one interval apart, print one table and exit" },
  },
  examples: ["pkgedge stats", "pkgedge stats --once --interval 1"],
  async run({ values, ctx }) {
    const everyMs = (positiveInt("interval", values.interval, { max: 3600 }) ?? 2) * 1000;
    const sample = async () => ({ at: Date.now(), m: (await request(ctx, "GET", "/_/metrics?format=json")).data });
    let prev = await sample();
    if (values.once) {
      await sleep(everyMs);
      const now = await sample();
      const rows = summarize(now, prev);
      return console.log(ctx.json ? JSON.stringify(rows) : render(rows));
    }
    const live = process.stdout.isTTY && !ctx.json;
    process.on("SIGINT", () => {
      if (live) process.stdout.write("\x1b[?25h\n");
      process.exit(0);
    });
    if (live) process.stdout.write("\x1b[?25l");
    for (;;) {
      await sleep(everyMs);
      const now = await sample();
      const rows = summarize(now, prev);
      prev = now;
      if (ctx.json) console.log(JSON.stringify(rows));
      else if (live) process.stdout.write(`\x1b[H\x1b[2J${new Date(now.at).toISOString()}  ${ctx.url}  every ${everyMs / 1000}s, Ctrl-C to quit\n\n${render(rows)}\n`);
      else console.log(`${new Date(now.at).toISOString()}\n${render(rows)}\n`);
    }
  },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const samples = (m, name) => m[name]?.samples ?? [];
const id = (region, tier) => `${region}\u0000${tier}`;

/** One row per region (tier "all", with its hit ratio) and per region and tier. */
export function summarize(now, prev) {
  const seconds = prev ? (now.at - prev.at) / 1000 : 0;
  const count = (m) => {
    const c = new Map();
    for (const s of samples(m, "pkgedge_requests_total")) {
      if (s.labels.protocol === "admin") continue;
      const k = id(s.labels.region, s.labels.tier);
      c.set(k, (c.get(k) ?? 0) + s.value);
    }
    return c;
  };
  const histograms = (m) => new Map(samples(m, "pkgedge_request_duration_ms").map((s) => [id(s.labels.region, s.labels.tier), s]));
  const [nowCounts, prevCounts] = [count(now.m), prev ? count(prev.m) : new Map()];
  const [nowHist, prevHist] = [histograms(now.m), prev ? histograms(prev.m) : new Map()];
  // Regions the shields report appear even before they see traffic.
  const regions = new Set();
  for (const family of Object.values(now.m)) for (const s of family.samples ?? []) if (s.labels?.region) regions.add(s.labels.region);
  const rows = [];
  for (const region of [...regions].sort()) {
    const tiers = [...nowCounts.keys()].filter((k) => k.startsWith(`${region}\u0000`)).map((k) => k.split("\u0000")[1]).sort();
    const tierRows = tiers.map((tier) => {
      const k = id(region, tier);
      const total = nowCounts.get(k);
      const delta = total - (prevCounts.get(k) ?? 0);
      return { region, tier, requests: total, perSecond: seconds > 0 ? delta / seconds : null, ...latency(nowHist.get(k), prevHist.get(k)) };
    });
    const sum = (rs, f) => rs.reduce((n, r) => n + f(r), 0);
    const tiered = tierRows.filter((r) => r.tier !== "uncached");
    const hits = sum(tiered.filter((r) => HIT_STATES.has(r.tier)), (r) => r.requests);
    const all = sum(tierRows, (r) => r.requests);
    rows.push({
      region, tier: "all", requests: all,
      perSecond: seconds > 0 ? sum(tierRows, (r) => r.perSecond) : null,
      hitRatio: sum(tiered, (r) => r.requests) > 0 ? hits / sum(tiered, (r) => r.requests) : null,
      p50: null, p95: null, p99: null,
    }, ...tierRows);
  }
  return rows;
}

/** Quantiles of the interval's requests when the previous sample has the histogram, else since start. */
function latency(now, prev) {
  if (!now) return { p50: null, p95: null, p99: null };
  const bounds = Object.keys(now.buckets).map(Number);
  const cumulative = bounds.map((b) => now.buckets[b] - (prev?.buckets[b] ?? 0));
  const n = now.count - (prev?.count ?? 0);
  if (n <= 0) return { p50: now.p50, p95: now.p95, p99: now.p99 };
  return { p50: quantile(bounds, cumulative, n, 0.5), p95: quantile(bounds, cumulative, n, 0.95), p99: quantile(bounds, cumulative, n, 0.99) };
}

function quantile(bounds, cumulative, count, q) {
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : cumulative[i - 1];
      const inBucket = cumulative[i] - below;
      return lower + (bounds[i] - lower) * (inBucket === 0 ? 0 : (rank - below) / inBucket);
    }
  }
  return bounds.at(-1);
}

const fixed = (v, digits) => (v === null || v === undefined ? "-" : v.toFixed(digits));

export function render(rows) {
  if (rows.length === 0) return "no traffic yet";
  return table(["REGION", "TIER", "REQUESTS", "REQ/S", "HIT%", "P50 ms", "P95 ms", "P99 ms"], rows.map((r) => [
    r.region, r.tier, r.requests, fixed(r.perSecond, 1), r.hitRatio === undefined ? "" : fixed(r.hitRatio === null ? null : r.hitRatio * 100, 1),
    fixed(r.p50, 1), fixed(r.p95, 1), fixed(r.p99, 1),
  ]));
}
