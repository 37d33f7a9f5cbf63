// Secrets and optional settings that `wrangler types` cannot see in wrangler.toml.
declare namespace Cloudflare {
  interface Env {
    /** Admin secret: a Worker secret in production, `.dev.vars` or `--var` locally. */
    PKGEDGE_ADMIN_TOKEN?: string;
    /** Key for the OCI bearer tokens /v2/token signs; derived from the admin secret when unset. */
    PKGEDGE_SIGNING_KEY?: string;
    /** Production L1 purge by tag (shared/tiers/zone-purge.ts): the zone and an API token with Cache Purge. */
    CF_ZONE_ID?: string;
    CF_API_TOKEN?: string;
    /** Read-only bearer for /_/metrics and the dashboard's data (a Prometheus scraper's credential). */
    METRICS_TOKEN?: string;
  }
}
