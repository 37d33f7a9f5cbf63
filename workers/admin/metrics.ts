// /_/metrics: this isolate's edge counters merged with every shield's counters.
import { COALESCED_HELP, ORIGIN_FETCHES_HELP, edgeMetrics, type MetricsRegistry } from "../../shared/metrics";
import type { Tiers } from "../../shared/tiers";

export async function renderMetrics(tiers: Tiers): Promise<MetricsRegistry> {
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
  return edgeMetrics.merged(extra);
}
