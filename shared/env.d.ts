// Secrets and optional settings that `wrangler types` cannot see in wrangler.toml.
declare namespace Cloudflare {
  interface Env {
    /** Admin secret: a Worker secret in production, `.dev.vars` or `--var` locally. */
    PKGEDGE_ADMIN_TOKEN?: string;
  }
}
