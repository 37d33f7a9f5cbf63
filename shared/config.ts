// Typed view of the wrangler vars, parsed once per isolate. Every tunable lives in wrangler.toml.
import { loadRateLimitSettings, type RateLimitSettings } from "./rate-limit/policy";
import { loadTierSettings, type TierSettings } from "./tiers/settings";

export interface Config {
  regions: string[];
  defaultRegion: string;
  devRegionHeader: boolean;
  anonymousRead: boolean;
  shieldShards: number;
  l1MetadataTtl: number;
  l1MaxObjectBytes: number;
  l2MetadataTtl: number;
  shieldMaxObjectBytes: number;
  shieldCapacityBytes: number;
  maxPublishBytes: number;
  tokenCacheSeconds: number;
  unpublishWindowHours: number;
  /** OCI: repository patterns anyone may pull when anonymousRead is on. */
  ociAnonymousPull: string[];
  ociTokenTtlSeconds: number;
  ociUploadTtlSeconds: number;
  ociMaxManifestBytes: number;
  /** Request filter (workers/middleware/request-filter.ts): longest URL, header block, small body. */
  maxUrlLength: number;
  maxHeaderBytes: number;
  maxRequestBodyBytes: number;
  /** Rate limits (shared/rate-limit/policy.ts): policies per scope, claim fraction, on/off. */
  rateLimit: RateLimitSettings;
  /** The edge cache engine (shared/tiers/settings.ts): invalidation, staleness, hot keys, failover, prefetch. */
  tiers: TierSettings;
}

const cache = new WeakMap<object, Config>();

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`wrangler var ${name} must be a non-negative number, got "${value}"`);
  return n;
}

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return value === "true" || value === "1";
}

export function loadConfig(env: Cloudflare.Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const regions = (env.REGIONS ?? "default").split(",").map((r) => r.trim()).filter(Boolean);
  const config: Config = {
    regions,
    defaultRegion: env.DEFAULT_REGION && regions.includes(env.DEFAULT_REGION) ? env.DEFAULT_REGION : regions[0]!,
    devRegionHeader: bool(env.DEV_REGION_HEADER, false),
    anonymousRead: bool(env.ANONYMOUS_READ, true),
    shieldShards: Math.max(1, int(env.SHIELD_SHARDS, 4, "SHIELD_SHARDS")),
    l1MetadataTtl: int(env.L1_METADATA_TTL, 30, "L1_METADATA_TTL"),
    l1MaxObjectBytes: int(env.L1_MAX_OBJECT_BYTES, 512 * 1024 * 1024, "L1_MAX_OBJECT_BYTES"),
    l2MetadataTtl: int(env.L2_METADATA_TTL, 300, "L2_METADATA_TTL"),
    shieldMaxObjectBytes: int(env.SHIELD_MAX_OBJECT_BYTES, 16 * 1024 * 1024, "SHIELD_MAX_OBJECT_BYTES"),
    shieldCapacityBytes: int(env.SHIELD_CAPACITY_BYTES, 1024 ** 3, "SHIELD_CAPACITY_BYTES"),
    maxPublishBytes: int(env.MAX_PUBLISH_BYTES, 32 * 1024 * 1024, "MAX_PUBLISH_BYTES"),
    tokenCacheSeconds: int(env.TOKEN_CACHE_SECONDS, 30, "TOKEN_CACHE_SECONDS"),
    unpublishWindowHours: int(env.UNPUBLISH_WINDOW_HOURS, 72, "UNPUBLISH_WINDOW_HOURS"),
    ociAnonymousPull: (env.OCI_ANONYMOUS_PULL ?? "*").split(",").map((p) => p.trim()).filter(Boolean),
    ociTokenTtlSeconds: Math.max(1, int(env.OCI_TOKEN_TTL_SECONDS, 300, "OCI_TOKEN_TTL_SECONDS")),
    ociUploadTtlSeconds: Math.max(1, int(env.OCI_UPLOAD_TTL_SECONDS, 3600, "OCI_UPLOAD_TTL_SECONDS")),
    ociMaxManifestBytes: int(env.OCI_MAX_MANIFEST_BYTES, 4 * 1024 * 1024, "OCI_MAX_MANIFEST_BYTES"),
    maxUrlLength: int(env.MAX_URL_LENGTH, 8192, "MAX_URL_LENGTH"),
    maxHeaderBytes: int(env.MAX_HEADER_BYTES, 16 * 1024, "MAX_HEADER_BYTES"),
    maxRequestBodyBytes: int(env.MAX_REQUEST_BODY_BYTES, 1024 * 1024, "MAX_REQUEST_BODY_BYTES"),
    rateLimit: loadRateLimitSettings(env as unknown as Record<string, unknown>),
    tiers: loadTierSettings(env as unknown as Record<string, unknown>, regions),
  };
  cache.set(env, config);
  return config;
}
