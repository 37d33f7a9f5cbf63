// Reading /_/metrics the way an operator's scraper would (with the admin secret), for tests that
// count what the tiers did.
import { ADMIN_SECRET, bearer } from "./tokens";
import { worker, type Fetch } from "./worker";

export interface MetricSample {
  labels: Record<string, string>;
  /** Counters. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  buckets?: Record<string, number>;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
}

export type MetricsJson = Record<string, { type: string; help: string; samples: MetricSample[] } | undefined>;

/** GET /_/metrics?format=json with the admin secret; throws unless it answers 200. */
export async function metricsJson(fetch: Fetch = worker): Promise<MetricsJson> {
  const res = await fetch("/_/metrics?format=json", { headers: bearer(ADMIN_SECRET) });
  if (res.status !== 200) throw new Error(`/_/metrics answered ${res.status}: ${await res.text()}`);
  return res.json<MetricsJson>();
}

/** A counter from /_/metrics?format=json, summed over the samples matching `labels`. */
export async function metric(name: string, labels: Record<string, string>, fetch: Fetch = worker): Promise<number> {
  const json = await metricsJson(fetch);
  return (json[name]?.samples ?? [])
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + (s.value ?? 0), 0);
}
