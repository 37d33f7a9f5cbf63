// Shield health as seen from this edge isolate, for failover: the outcomes of the last calls to
// each region's shields. A region whose error rate or mean latency crosses its threshold is
// degraded and its requests go to its failover region; every FAILOVER_RECOVERY_SECONDS one
// request probes the home region again, and a success brings traffic back.
import type { TierSettings } from "../config";

interface RegionHealth {
  outcomes: Array<{ ok: boolean; ms: number }>;
  degradedSince?: number;
  lastProbe?: number;
}

// One entry per region this isolate has called (bounded by REGIONS); each keeps the last
// FAILOVER_WINDOW outcomes.
const health = new Map<string, RegionHealth>();

function of(region: string): RegionHealth {
  let h = health.get(region);
  if (!h) {
    h = { outcomes: [] };
    health.set(region, h);
  }
  return h;
}

/** The region whose shields should serve `region` now, and whether this call is a recovery probe. */
export function routeRegion(region: string, settings: TierSettings, now = Date.now()): { region: string; probe: boolean } {
  const h = of(region);
  const target = settings.failover[region];
  if (h.degradedSince === undefined || !target || target === region) return { region, probe: false };
  if (now - (h.lastProbe ?? h.degradedSince) >= settings.failoverRecoverySeconds * 1000) {
    h.lastProbe = now;
    return { region, probe: true };
  }
  return { region: target, probe: false };
}

/** Records one call to `region`'s shields. */
export function recordOutcome(region: string, ok: boolean, ms: number, settings: TierSettings, now = Date.now()): void {
  const h = of(region);
  if (h.degradedSince !== undefined) {
    // Only probes reach a degraded region: one success means it is back.
    if (ok && ms <= settings.failoverLatencyMs) {
      h.degradedSince = undefined;
      h.outcomes = [];
    }
    return;
  }
  h.outcomes.push({ ok, ms });
  if (h.outcomes.length > settings.failoverWindow) h.outcomes.shift();
  // Judge only a full enough window, so one early failure does not move a region.
  if (h.outcomes.length < Math.min(5, settings.failoverWindow)) return;
  const errors = h.outcomes.filter((o) => !o.ok).length / h.outcomes.length;
  const meanMs = h.outcomes.reduce((s, o) => s + o.ms, 0) / h.outcomes.length;
  if (errors >= settings.failoverErrorRate || meanMs > settings.failoverLatencyMs) {
    h.degradedSince = now;
    h.lastProbe = now;
  }
}

/** Regions currently failed over, for metrics and tests. */
export function degradedRegions(): string[] {
  return [...health.entries()].filter(([, h]) => h.degradedSince !== undefined).map(([r]) => r);
}
