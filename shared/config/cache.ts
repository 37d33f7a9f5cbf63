// Every setting of the edge cache engine (shared/tiers/) in one place: L1 and shield sizes and
// lifetimes, invalidation strategy and propagation delay per region, stale windows, negative
// caching, hot keys, failover, prefetch, the dev-only fault injection, and the ShieldPolicy each
// region's shield calls carry, built here once per configuration. Dev-only knobs are zero unless
// DEV_MODE is true, which only `npm run dev`, the e2e harness and the test pool set.
import type { ShieldPolicy } from "../tiers/types";
import { boolean, duration, list, number, parseDuration, perRegion, type Vars } from "./vars";

export type Strategy = "eager" | "lazy";

export interface TierSettings {
  devMode: boolean;
  /** Shield Durable Objects per region (consistent-hash ring). */
  shards: number;
  /** L1 (Cache API) lifetime of mutable metadata, in seconds. */
  l1MetadataTtl: number;
  /** Objects larger than this are not kept in L1. */
  l1MaxObjectBytes: number;
  /** The hot tier (isolate memory in front of L1): total bytes; 0 turns it off. */
  hotTierBytes: number;
  /** Larger objects never enter the hot tier. */
  hotTierMaxObjectBytes: number;
  /** An object is copied into memory on its Nth L1 hit within HOT_WINDOW_MS (shared/tiers/hot-tier.ts). */
  hotTierAdmitHits: number;
  /** Lifetime of a mutable object's memory copy, in seconds (at most what is left of its L1 lifetime). */
  hotTierMetadataTtl: number;
  /** Shield lifetime of mutable metadata before it revalidates against the origin, in seconds. */
  l2MetadataTtl: number;
  /** Objects up to this size are kept in shield storage. */
  shieldMaxObjectBytes: number;
  /** Bytes one shield shard keeps before evicting the least recently used objects. */
  shieldCapacityBytes: number;
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
  /**
   * What a call to `region`'s shields carries, for every configured region and every failover
   * target: built once here so a shield call does not assemble it again. Frozen: shared by
   * every request of the isolate.
   */
  shieldPolicy: Readonly<Record<string, Readonly<ShieldPolicy>>>;
}

const STRATEGIES: readonly Strategy[] = ["eager", "lazy"];

export function loadTierSettings(env: Vars, regions: string[]): TierSettings {
  const devMode = boolean(env, "DEV_MODE");
  const strategies = perRegion(env, "INVALIDATION_STRATEGY", (v) => STRATEGIES.find((s) => s === v), "eager or lazy");
  const delays = perRegion(env, "PROPAGATION_DELAY_MS", (v) => parseDuration(v, "ms") ?? undefined, "a delay (bare numbers in ms)");
  const strategy: Record<string, Strategy> = {};
  const propagationDelayMs: Record<string, number> = {};
  for (const region of regions) {
    strategy[region] = strategies[region] ?? "eager";
    propagationDelayMs[region] = devMode ? delays[region] ?? 0 : 0;
  }
  const failover = perRegion(env, "FAILOVER_REGIONS", (v) => v || undefined, "a region");
  // Dev-only vars are read (and refused when malformed) in every mode, and take effect only in dev.
  const originFaultRate = number(env, "ORIGIN_FAULT_RATE", { max: 1 });
  const originLatencyMs = duration(env, "ORIGIN_LATENCY_MS", "ms");
  const shieldFaultRegions = list(env, "SHIELD_FAULT_REGIONS");
  const settings: Omit<TierSettings, "shieldPolicy"> = {
    devMode,
    shards: Math.max(1, number(env, "SHIELD_SHARDS", { integer: true })),
    l1MetadataTtl: duration(env, "L1_METADATA_TTL", "s"),
    l1MaxObjectBytes: number(env, "L1_MAX_OBJECT_BYTES", { integer: true }),
    hotTierBytes: number(env, "HOT_TIER_BYTES", { integer: true, max: 100 * 1024 * 1024 }),
    hotTierMaxObjectBytes: number(env, "HOT_TIER_MAX_OBJECT_BYTES", { integer: true }),
    hotTierAdmitHits: number(env, "HOT_TIER_ADMIT_HITS", { integer: true, min: 1 }),
    hotTierMetadataTtl: duration(env, "HOT_TIER_METADATA_TTL", "s"),
    l2MetadataTtl: duration(env, "L2_METADATA_TTL", "s"),
    shieldMaxObjectBytes: number(env, "SHIELD_MAX_OBJECT_BYTES", { integer: true }),
    shieldCapacityBytes: number(env, "SHIELD_CAPACITY_BYTES", { integer: true }),
    strategy,
    propagationDelayMs,
    staleIfErrorSeconds: duration(env, "STALE_IF_ERROR_SECONDS", "s"),
    negativeTtlSeconds: duration(env, "NEGATIVE_TTL_SECONDS", "s"),
    hotKeyThreshold: number(env, "HOT_KEY_THRESHOLD"),
    hotKeyReplicas: Math.max(1, number(env, "HOT_KEY_REPLICAS", { integer: true })),
    hotKeyCooldownSeconds: duration(env, "HOT_KEY_COOLDOWN_SECONDS", "s"),
    failover,
    failoverErrorRate: number(env, "FAILOVER_ERROR_RATE", { max: 1 }),
    failoverLatencyMs: duration(env, "FAILOVER_LATENCY_MS", "ms"),
    failoverWindow: Math.max(1, number(env, "FAILOVER_WINDOW", { integer: true })),
    failoverRecoverySeconds: duration(env, "FAILOVER_RECOVERY_SECONDS", "s"),
    prefetch: boolean(env, "PREFETCH"),
    prefetchDepth: number(env, "PREFETCH_DEPTH", { integer: true }),
    prefetchFanout: number(env, "PREFETCH_FANOUT", { integer: true }),
    originFaultRate: devMode ? originFaultRate : 0,
    originLatencyMs: devMode ? originLatencyMs : 0,
    shieldFaultRegions: devMode ? shieldFaultRegions : [],
  };
  return { ...settings, shieldPolicy: shieldPolicies(settings, [...regions, ...Object.values(failover)]) };
}

function shieldPolicies(t: Omit<TierSettings, "shieldPolicy">, regions: string[]): TierSettings["shieldPolicy"] {
  const out: Record<string, Readonly<ShieldPolicy>> = {};
  for (const region of regions) {
    out[region] = Object.freeze({
      ttlSeconds: t.l2MetadataTtl,
      maxStoredBytes: t.shieldMaxObjectBytes,
      capacityBytes: t.shieldCapacityBytes,
      region,
      negativeTtlSeconds: t.negativeTtlSeconds,
      staleIfErrorSeconds: t.staleIfErrorSeconds,
      originFaultRate: t.originFaultRate,
      originLatencyMs: t.originLatencyMs,
      shieldFault: t.shieldFaultRegions.includes(region),
    });
  }
  return Object.freeze(out);
}
