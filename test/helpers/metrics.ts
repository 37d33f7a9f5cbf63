// Reading /_/metrics the way an operator's scraper would, for tests that count what the tiers did.
import { exports } from "cloudflare:workers";
import { BASE } from "./worker";

interface MetricsJson {
  [name: string]: { samples: Array<{ labels: Record<string, string>; value?: number }> } | undefined;
}

/** A counter from /_/metrics?format=json, summed over the samples matching `labels`. */
export async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const res = await exports.default.fetch(`${BASE}/_/metrics?format=json`);
  const json = (await res.json()) as MetricsJson;
  return (json[name]?.samples ?? [])
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + (s.value ?? 0), 0);
}
