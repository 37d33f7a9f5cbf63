// Types of stats.mjs's pure parts, for the e2e test that feeds it real metrics.
export interface StatsSample {
  at: number;
  m: Record<string, { type: string; help: string; samples: unknown[] }>;
}
export interface StatsRow {
  region: string;
  tier: string;
  requests: number;
  perSecond: number | null;
  hitRatio?: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
export function summarize(now: StatsSample, prev?: StatsSample): StatsRow[];
export function render(rows: StatsRow[]): string;
