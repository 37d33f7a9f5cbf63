// /_/metrics: this isolate's edge counters merged with every shield's counters, and the shields'
// most requested keys for the dashboard. Asking the shields is a fan-out to every shard of every
// region (REGIONS x SHIELD_SHARDS calls), so an isolate reuses their answers for
// METRICS_SHIELD_CACHE_MS (2 s by default): a Prometheus scrape every few seconds plus any number of
// open dashboards cost at most one fan-out per interval, and concurrent scrapes share one.
import type { Config } from "../../shared/config";
import { COALESCED_HELP, LAG_BUCKETS_MS, ORIGIN_FETCHES_HELP, edgeMetrics, type HistogramSample, type MetricsRegistry } from "../../shared/metrics";
import { ObjectStore } from "../../shared/origin";
import type { ShieldStats, Tiers } from "../../shared/tiers";
import { OPEN_UPLOADS_PREFIX } from "../oci/keys";

// Counting stops here (ten R2 list calls); the gauge then reads as "at least this many".
const MAX_COUNTED_UPLOADS = 10_000;

/** Keys each region's shields report (merged from their shards' own top lists). */
export const TOP_KEYS_PER_REGION = 10;

const FANOUTS_HELP = "Times this isolate asked every shield shard for its counters (at most once per METRICS_SHIELD_CACHE_MS).";

export interface TopKey {
  region: string;
  key: string;
  /** Requests for it that reached the region's shields (L1 misses) while they held it. */
  requests: number;
}

interface ShieldSnapshot {
  shards: Array<{ region: string; shard: number; stats: ShieldStats }>;
  top: TopKey[];
}

const UPSTREAM_HELP = "Requests pkgedge made to upstream registries (one per object however many clients asked), by protocol, kind and status.";

// Per isolate, one entry per configuration (tests run several configurations in one isolate).
// The promise is kept, not its value, so scrapes that arrive during a fan-out join it.
const snapshots = new WeakMap<Config, { at: number; snapshot: Promise<ShieldSnapshot> }>();

async function fanOut(tiers: Tiers, config: Config): Promise<ShieldSnapshot> {
  edgeMetrics.inc("pkgedge_metrics_fanouts_total", FANOUTS_HELP, {});
  const [shards, tops] = await Promise.all([
    tiers.shieldStats(),
    Promise.all(config.regions.map(async (region) =>
      (await tiers.topRequests(region, TOP_KEYS_PER_REGION)).map((t) => ({ region, key: t.request.key, requests: t.requests })))),
  ]);
  return { shards, top: tops.flat().sort((a, b) => b.requests - a.requests) };
}

/** The shields' counters and top keys, at most METRICS_SHIELD_CACHE_MS old. */
export function shieldSnapshot(tiers: Tiers, config: Config): Promise<ShieldSnapshot> {
  const now = Date.now();
  const cached = snapshots.get(config);
  if (cached && now - cached.at < config.metricsShieldCacheMs) return cached.snapshot;
  const snapshot = fanOut(tiers, config);
  if (config.metricsShieldCacheMs > 0) {
    const entry = { at: now, snapshot };
    snapshots.set(config, entry);
    // A failed fan-out is not remembered: the next scrape asks again.
    snapshot.catch(() => {
      if (snapshots.get(config) === entry) snapshots.delete(config);
    });
  }
  return snapshot;
}

export async function renderMetrics(tiers: Tiers, config: Config, bucket: R2Bucket): Promise<MetricsRegistry> {
  const { shards } = await shieldSnapshot(tiers, config);
  const totals = new Map<string, { metadata: number; blob: number; coalesced: number }>();
  for (const { region, stats } of shards) {
    const t = totals.get(region) ?? { metadata: 0, blob: 0, coalesced: 0 };
    t.metadata += stats.originFetches.metadata;
    t.blob += stats.originFetches.blob;
    t.coalesced += stats.coalesced;
    totals.set(region, t);
  }
  const extra: Array<{ name: string; help: string; labels: Record<string, string>; value: number }> = [...totals.entries()].flatMap(([region, t]) => [
    { name: "pkgedge_origin_fetches_total", help: ORIGIN_FETCHES_HELP, labels: { region, kind: "metadata" }, value: t.metadata },
    { name: "pkgedge_origin_fetches_total", help: ORIGIN_FETCHES_HELP, labels: { region, kind: "blob" }, value: t.blob },
    { name: "pkgedge_coalesced_total", help: COALESCED_HELP, labels: { region } as Record<string, string>, value: t.coalesced },
  ]);
  // Upstream requests are counted by the shard whose miss caused them; the metric has no region.
  const upstream = new Map<string, number>();
  for (const { stats } of shards) for (const [labels, n] of Object.entries(stats.upstream ?? {})) upstream.set(labels, (upstream.get(labels) ?? 0) + n);
  for (const [labels, value] of upstream) {
    const [protocol = "", kind = "", status = ""] = labels.split("|");
    extra.push({ name: "pkgedge_upstream_requests_total", help: UPSTREAM_HELP, labels: { protocol, kind, status }, value });
  }
  // The invalidation lag histogram: each region's shard 0 records when its region applied an event.
  const lag = new Map<string, { counts: number[]; sum: number; count: number }>();
  for (const { region, stats } of shards) {
    const l = lag.get(region) ?? { counts: LAG_BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
    stats.lag.buckets.forEach((n, i) => (l.counts[i]! += n));
    l.sum += stats.lag.sum;
    l.count += stats.lag.count;
    lag.set(region, l);
  }
  const histograms: HistogramSample[] = [...lag.entries()].map(([region, l]) => ({
    name: "pkgedge_invalidation_lag_ms",
    help: "Time from an origin write to a region's shields applying its invalidation.",
    labels: { region },
    bounds: LAG_BUCKETS_MS,
    ...l,
  }));
  const registry = edgeMetrics.merged(extra, histograms);
  // Uploads holding an R2 multipart upload open (the UploadSession marks each); an upload a crash
  // cut off stays counted until its session's alarm aborts it.
  const open = await new ObjectStore(bucket).list(OPEN_UPLOADS_PREFIX, { limit: MAX_COUNTED_UPLOADS });
  registry.set("pkgedge_oci_open_uploads", "OCI uploads with an R2 multipart upload open, abandoned ones included until their session expires.", {}, open.keys.length);
  return registry;
}

/** The most requested keys at the shields, most requested first (up to TOP_KEYS_PER_REGION per region). */
export async function topKeys(tiers: Tiers, config: Config): Promise<TopKey[]> {
  return (await shieldSnapshot(tiers, config)).top;
}
