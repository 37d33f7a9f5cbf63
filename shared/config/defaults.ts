// Every wrangler var pkgedge reads, with the value it takes when the var is unset: written once
// here, as wrangler.toml's [vars] states it and the README's configuration tables show it
// (test/unit/config/defaults.test.ts fails when the three disagree).

export const DEFAULTS = {
  REGIONS: "us-east,eu-west,ap-south",
  DEFAULT_REGION: "us-east",
  // Production-safe: only [env.dev] and the test pool let a header choose the region.
  DEV_REGION_HEADER: "false",
  ANONYMOUS_READ: "true",
  SHIELD_SHARDS: "4",
  L1_METADATA_TTL: "30",
  L1_MAX_OBJECT_BYTES: "536870912",
  // The hot tier in isolate memory (shared/tiers/hot-tier.ts): a Worker isolate has 128 MB.
  HOT_TIER_BYTES: "33554432",
  HOT_TIER_MAX_OBJECT_BYTES: "2097152",
  HOT_TIER_ADMIT_HITS: "4",
  HOT_TIER_METADATA_TTL: "1",
  L2_METADATA_TTL: "300",
  SHIELD_MAX_OBJECT_BYTES: "16777216",
  SHIELD_CAPACITY_BYTES: "1073741824",
  MAX_PUBLISH_BYTES: "33554432",
  TOKEN_CACHE_SECONDS: "30",
  UNPUBLISH_WINDOW_HOURS: "72",
  MAX_URL_LENGTH: "8192",
  MAX_HEADER_BYTES: "16384",
  MAX_REQUEST_BODY_BYTES: "1048576",
  OCI_ANONYMOUS_PULL: "*",
  OCI_TOKEN_TTL_SECONDS: "300",
  OCI_UPLOAD_TTL_SECONDS: "3600",
  OCI_MAX_MANIFEST_BYTES: "4194304",
  METRICS_SHIELD_CACHE_MS: "2000",
  PYPI_MAX_UPLOAD_BYTES: "104857600",

  RATE_LIMIT_ENABLED: "true",
  RATE_LIMIT_WINDOW_SECONDS: "60",
  // Generous on purpose: a CI runner doing a cold install or an npm benchmark from one address
  // stays far below them.
  RATE_LIMIT_TOKEN: "100000/60s",
  RATE_LIMIT_IP: "100000/60s",
  RATE_LIMIT_READ: "100000/60s",
  RATE_LIMIT_PUBLISH: "1000/60s",
  RATE_LIMIT_AUTH: "300/60s",
  RATE_LIMIT_CLAIM_FRACTION: "0.1",

  DEV_MODE: "false",
  INVALIDATION_STRATEGY: "us-east:eager,eu-west:lazy,ap-south:lazy",
  PROPAGATION_DELAY_MS: "",
  STALE_IF_ERROR_SECONDS: "86400",
  NEGATIVE_TTL_SECONDS: "10",
  HOT_KEY_THRESHOLD: "50",
  HOT_KEY_REPLICAS: "3",
  HOT_KEY_COOLDOWN_SECONDS: "10",
  FAILOVER_REGIONS: "us-east:eu-west,eu-west:us-east,ap-south:eu-west",
  FAILOVER_ERROR_RATE: "0.5",
  FAILOVER_LATENCY_MS: "2000",
  FAILOVER_WINDOW: "20",
  FAILOVER_RECOVERY_SECONDS: "10",
  PREFETCH: "true",
  PREFETCH_DEPTH: "2",
  PREFETCH_FANOUT: "16",
  ORIGIN_FAULT_RATE: "0",
  ORIGIN_LATENCY_MS: "0",
  SHIELD_FAULT_REGIONS: "",

  // Upstream registries (pull-through): each off while its URL is empty.
  NPM_UPSTREAM: "",
  OCI_UPSTREAM: "",
  OCI_UPSTREAMS: "",
  PYPI_UPSTREAM: "",
  UPSTREAM_METADATA_TTL: "300",
  UPSTREAM_TIMEOUT_MS: "10000",
  UPSTREAM_PRIVATE: "",
  MIN_RELEASE_AGE: "",
  MIN_RELEASE_AGE_EXEMPT: "",
} as const satisfies Record<string, string>;

export type VarName = keyof typeof DEFAULTS;

/**
 * Secrets are never in wrangler.toml (its [vars] is committed): `.dev.vars` locally,
 * `wrangler secret put` in production. Read where they are used; listed here so the README and
 * wrangler.toml can be checked against them.
 */
export const SECRETS = {
  PKGEDGE_ADMIN_TOKEN: "required",
  PKGEDGE_SIGNING_KEY: "optional",
  CF_ZONE_ID: "optional",
  CF_API_TOKEN: "optional",
  METRICS_TOKEN: "optional",
  NPM_UPSTREAM_TOKEN: "optional",
  OCI_UPSTREAM_CREDENTIALS: "optional",
} as const satisfies Record<string, "required" | "optional">;
