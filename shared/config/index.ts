// Typed view of the wrangler vars, parsed once per env object (so once per isolate). Every var
// and its default is declared in ./defaults.ts and read through ./vars.ts; the cache engine's
// settings are grouped in ./cache.ts, the rate limits in shared/rate-limit/policy.ts.
import { loadRateLimitSettings, type RateLimitSettings } from "../rate-limit/policy";
import { loadTierSettings, type TierSettings } from "./cache";
import { loadUpstreamSettings, type UpstreamSettings } from "./upstream";
import { boolean, duration, list, number, text, type Vars } from "./vars";

export type { Strategy, TierSettings } from "./cache";
export type { UpstreamProtocol, UpstreamRegistry, UpstreamSettings } from "./upstream";

export interface Config {
  regions: string[];
  defaultRegion: string;
  devRegionHeader: boolean;
  anonymousRead: boolean;
  maxPublishBytes: number;
  tokenCacheSeconds: number;
  unpublishWindowHours: number;
  /** OCI: repository patterns anyone may pull when anonymousRead is on. */
  ociAnonymousPull: string[];
  ociTokenTtlSeconds: number;
  ociUploadTtlSeconds: number;
  ociMaxManifestBytes: number;
  /** PyPI: largest file one upload may carry (workers/pypi/upload.ts). */
  pypiMaxUploadBytes: number;
  /** Request filter (workers/middleware/request-filter.ts): longest URL, header block. */
  maxUrlLength: number;
  maxHeaderBytes: number;
  /** Body limit of every route that takes no publish or upload (workers/middleware/body-limit.ts). */
  maxRequestBodyBytes: number;
  /** How long an isolate reuses the shields' answers for /_/metrics (workers/admin/metrics.ts). */
  metricsShieldCacheMs: number;
  /** Rate limits (shared/rate-limit/policy.ts): policies per scope, claim fraction, on/off. */
  rateLimit: RateLimitSettings;
  /** Every setting of the edge cache engine, and the shield policy per region (./cache.ts). */
  tiers: TierSettings;
  /** Upstream registries for names not hosted here (./upstream.ts). */
  upstream: UpstreamSettings;
}

const cache = new WeakMap<object, Config>();

export function loadConfig(env: Cloudflare.Env | Vars): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const vars = env as Vars;
  const regions = list(vars, "REGIONS");
  if (regions.length === 0) throw new Error(`wrangler var REGIONS must name at least one region, got "${String(vars.REGIONS)}"`);
  const wanted = text(vars, "DEFAULT_REGION");
  const tiers = loadTierSettings(vars, regions);
  const config: Config = {
    regions,
    // A DEFAULT_REGION that names no configured region falls back to the first one.
    defaultRegion: regions.includes(wanted) ? wanted : regions[0]!,
    devRegionHeader: boolean(vars, "DEV_REGION_HEADER"),
    anonymousRead: boolean(vars, "ANONYMOUS_READ"),
    maxPublishBytes: number(vars, "MAX_PUBLISH_BYTES", { integer: true }),
    tokenCacheSeconds: duration(vars, "TOKEN_CACHE_SECONDS", "s"),
    unpublishWindowHours: duration(vars, "UNPUBLISH_WINDOW_HOURS", "h"),
    ociAnonymousPull: list(vars, "OCI_ANONYMOUS_PULL"),
    ociTokenTtlSeconds: Math.max(1, duration(vars, "OCI_TOKEN_TTL_SECONDS", "s")),
    ociUploadTtlSeconds: Math.max(1, duration(vars, "OCI_UPLOAD_TTL_SECONDS", "s")),
    ociMaxManifestBytes: number(vars, "OCI_MAX_MANIFEST_BYTES", { integer: true }),
    pypiMaxUploadBytes: number(vars, "PYPI_MAX_UPLOAD_BYTES", { integer: true }),
    maxUrlLength: number(vars, "MAX_URL_LENGTH", { integer: true }),
    maxHeaderBytes: number(vars, "MAX_HEADER_BYTES", { integer: true }),
    maxRequestBodyBytes: number(vars, "MAX_REQUEST_BODY_BYTES", { integer: true }),
    metricsShieldCacheMs: duration(vars, "METRICS_SHIELD_CACHE_MS", "ms", { max: 60_000 }),
    rateLimit: loadRateLimitSettings(vars),
    tiers,
    upstream: loadUpstreamSettings(vars),
  };
  cache.set(env, config);
  return config;
}
