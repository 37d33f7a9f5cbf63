// Global rate limits per token, client address and route class (see README "Rate limiting").
// Runs after authenticate(), so it knows the token; the admin secret is never limited.
import type { MiddlewareHandler } from "hono";
import { RegistryError } from "../../shared/errors";
import { edgeMetrics } from "../../shared/metrics";
import { decide } from "../../shared/rate-limit/claim";
import { coordinatorName } from "../../shared/rate-limit/coordinator";
import { rateLimitHeaders, secondsFromMs } from "../../shared/rate-limit/headers";
import { LocalCounters } from "../../shared/rate-limit/local-counter";
import { clientIp, limitKeys, routeClass } from "../../shared/rate-limit/subjects";

// This isolate's counts: the "PoP" in the design. Module scope, so they outlive a request.
const counters = new LocalCounters();

export const RATE_LIMITED_HELP = "Requests refused with 429 by a rate limit.";

export function rateLimit(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function rateLimit(c, next) {
    const config = c.get("config");
    const principal = c.get("principal");
    if (!config.rateLimit.enabled || principal.kind === "admin") return next();

    const cls = routeClass(c.req.method, c.req.path);
    const keys = limitKeys(config.rateLimit, cls, {
      tokenId: principal.kind === "token" ? principal.token.id : undefined,
      ip: clientIp(c.req.raw.headers, config.devRegionHeader),
    });
    const namespace = c.env.RATE_LIMITER;
    const verdict = await decide(keys, {
      counters,
      region: c.get("region"),
      claimFraction: config.rateLimit.claimFraction,
      failClosed: cls !== "read",
      coordinatorFor: async (key) => namespace.get(namespace.idFromName(await coordinatorName(key))),
    });
    if (!verdict.allowed) {
      edgeMetrics.inc("pkgedge_rate_limited_total", RATE_LIMITED_HELP, { region: c.get("region"), scope: verdict.scope });
      const retryAfter = secondsFromMs(verdict.retryAfterMs);
      const window = secondsFromMs(verdict.policy.windowMs);
      throw new RegistryError(
        "RATE_LIMITED",
        `rate limit exceeded (${verdict.scope}: ${verdict.policy.limit} requests per ${window} s); retry in ${retryAfter} s`,
        { retryAfter, headers: rateLimitHeaders(verdict.scope, verdict.policy, verdict.remaining, verdict.retryAfterMs) },
      );
    }
    await next();
  };
}
