// /_/metrics: this isolate's edge counters merged with every shield's counters.
import { COALESCED_HELP, LAG_BUCKETS_MS, ORIGIN_FETCHES_HELP, edgeMetrics, type HistogramSample, type MetricsRegistry } from "../../shared/metrics";
import { ObjectStore } from "../../shared/origin";
import type { Tiers } from "../../shared/tiers";
import { OPEN_UPLOADS_PREFIX } from "../oci/keys";

// Counting stops here (ten R2 list calls); the gauge then reads as "at least this many".
const MAX_COUNTED_UPLOADS = 10_000;

export async function renderMetrics(tiers: Tiers, bucket: R2Bucket): Promise<MetricsRegistry> {
  const shards = await tiers.shieldStats();
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
