// The edge cache engine's tunables, parsed from wrangler vars: invalidation strategy and
// propagation delay per region, stale windows, negative caching, hot keys, failover, prefetch,
// and the dev-only fault injection. Dev-only knobs are ignored unless DEV_MODE is true, which
// only `npm run dev`, the e2e harness and the test pool set.

export type Strategy = "eager" | "lazy";

export interface TierSettings {
  devMode: boolean;
  /** Per region: delete on invalidation (eager) or mark stale and revalidate in the background (lazy). */
  strategy: Record<string, Strategy>;
  /** Dev only: extra delay before a region applies an invalidation, to reproduce geography. */
  propagationDelayMs: Record<string, number>;
  /** How long a shield may serve its last good copy when the origin fails. */
  staleIfErrorSeconds: number;
  /** How long "not found at the origin" is remembered (shield and L1). */
  negativeTtlSeconds: number;
  hotKeyThreshold: number;
  hotKeyReplicas: number;
  hotKeyCooldownSeconds: number;
  /** Per region: the region whose shields take over when this region's are degraded. */
  failover: Record<string, string>;
  failoverErrorRate: number;
  failoverLatencyMs: number;
  failoverWindow: number;
  failoverRecoverySeconds: number;
  prefetch: boolean;
  prefetchDepth: number;
  prefetchFanout: number;
  /** Dev only: fraction of origin reads that fail, and latency added to each. */
  originFaultRate: number;
  originLatencyMs: number;
  /** Dev only: regions whose shields answer every call with an error. */
  shieldFaultRegions: string[];
}

type Vars = Record<string, unknown>;

function str(env: Vars, name: string): string | undefined {
  const v = env[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(env: Vars, name: string, fallback: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`wrangler var ${name} must be a non-negative number, got "${raw}"`);
  return n;
}

/** "us-east:eager,eu-west:lazy" -> { "us-east": "eager", ... } */
function perRegion(env: Vars, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (str(env, name) ?? "").split(",")) {
    const [region, value] = item.split(":").map((s) => s.trim());
    if (region && value) out[region] = value;
  }
  return out;
}

export function loadTierSettings(env: Vars, regions: string[]): TierSettings {
  const devMode = str(env, "DEV_MODE") === "true";
  const strategies = perRegion(env, "INVALIDATION_STRATEGY");
  const delays = perRegion(env, "PROPAGATION_DELAY_MS");
  const strategy: Record<string, Strategy> = {};
  const propagationDelayMs: Record<string, number> = {};
  for (const region of regions) {
    strategy[region] = strategies[region] === "lazy" ? "lazy" : "eager";
    propagationDelayMs[region] = devMode ? Math.max(0, Number(delays[region] ?? 0) || 0) : 0;
  }
  const rate = num(env, "ORIGIN_FAULT_RATE", 0);
  return {
    devMode,
    strategy,
    propagationDelayMs,
    staleIfErrorSeconds: num(env, "STALE_IF_ERROR_SECONDS", 86_400),
    negativeTtlSeconds: num(env, "NEGATIVE_TTL_SECONDS", 10),
    hotKeyThreshold: num(env, "HOT_KEY_THRESHOLD", 50),
    hotKeyReplicas: Math.max(1, num(env, "HOT_KEY_REPLICAS", 3)),
    hotKeyCooldownSeconds: num(env, "HOT_KEY_COOLDOWN_SECONDS", 10),
    failover: perRegion(env, "FAILOVER_REGIONS"),
    failoverErrorRate: num(env, "FAILOVER_ERROR_RATE", 0.5),
    failoverLatencyMs: num(env, "FAILOVER_LATENCY_MS", 2000),
    failoverWindow: Math.max(1, num(env, "FAILOVER_WINDOW", 20)),
    failoverRecoverySeconds: num(env, "FAILOVER_RECOVERY_SECONDS", 10),
    prefetch: str(env, "PREFETCH") !== "false",
    prefetchDepth: num(env, "PREFETCH_DEPTH", 2),
    prefetchFanout: num(env, "PREFETCH_FANOUT", 16),
    originFaultRate: devMode ? Math.min(1, rate) : 0,
    originLatencyMs: devMode ? num(env, "ORIGIN_LATENCY_MS", 0) : 0,
    shieldFaultRegions: devMode ? (str(env, "SHIELD_FAULT_REGIONS") ?? "").split(",").map((s) => s.trim()).filter(Boolean) : [],
  };
}
