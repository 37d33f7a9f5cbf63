// Global rate limits per token, client address and route class (see README "Rate limiting").
// Runs after authenticate(), so it knows the token; the admin secret is never limited.
import type { MiddlewareHandler } from "hono";
import { RegistryError } from "../../shared/errors";
import { edgeMetrics } from "../../shared/metrics";
import { decide } from "../../shared/rate-limit/claim";
import { coordinatorName } from "../../shared/rate-limit/coordinator";
import { rateLimitHeaders, secondsFromMs } from "../../shared/rate-limit/headers";
import { GuessBlocks, type Blocked } from "../../shared/rate-limit/guess-blocks";
import { LocalCounters } from "../../shared/rate-limit/local-counter";
import { clientIp, limitKeys, routeClass } from "../../shared/rate-limit/subjects";

// This isolate's counts: the "PoP" in the design. Module scope, so they outlive a request.
const counters = new LocalCounters();

const guessing = new GuessBlocks();

export const RATE_LIMITED_HELP = "Requests refused with 429 by a rate limit.";

export function rateLimit(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function rateLimit(c, next) {
    const config = c.get("config");
    const principal = c.get("principal");
    if (!config.rateLimit.enabled) return next();

    const ip = clientIp(c.req.raw.headers, config.devRegionHeader);
    const badCredentials = c.get("badCredentials");
    // Per PoP: in dev one process plays every region, so the region is part of the key.
    const guesser = `${c.get("region")}\n${ip}`;
    // Checked before the admin exemption: a right guess of the admin secret must not answer
    // differently from a wrong one either.
    const presented = badCredentials || principal.kind !== "anonymous";
    const blocked = presented ? guessing.blockedFor(guesser, Date.now()) : null;
    if (blocked) throw tooManyGuesses(c.get("region"), blocked);
    if (principal.kind === "admin") return next();

    // Credentials that did not verify are a guess, wherever they were sent: they count against
    // the caller's auth limit, not the route's class.
    const cls = badCredentials ? "auth" : routeClass(c.req.method, c.req.path);
    // A grant counts against the token it was minted from, on every route.
    const tokenId = principal.kind === "token" ? principal.token.id : principal.kind === "grant" ? principal.grant.tokenId : undefined;
    const keys = limitKeys(config.rateLimit, cls, { tokenId, ip });
    const namespace = c.env.RATE_LIMITER;
    const verdict = await decide(keys, {
      counters,
      region: c.get("region"),
      claimFraction: config.rateLimit.claimFraction,
      failClosed: cls !== "read",
      background: (work) => c.executionCtx.waitUntil(work),
      coordinatorFor: async (key) => namespace.get(namespace.idFromName(await coordinatorName(key))),
    });
    if (!verdict.allowed) {
      // Once an address is out of authentication attempts, a right guess must not answer
      // differently from a wrong one: this PoP refuses every credential from it until then.
      if (verdict.scope === "auth" && badCredentials) guessing.block(guesser, verdict, Date.now());
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

function tooManyGuesses(region: string, blocked: Blocked): RegistryError {
  edgeMetrics.inc("pkgedge_rate_limited_total", RATE_LIMITED_HELP, { region, scope: "auth" });
  const retryAfter = secondsFromMs(blocked.retryAfterMs);
  return new RegistryError(
    "RATE_LIMITED",
    `rate limit exceeded (auth: too many failed authentications from this address); retry in ${retryAfter} s`,
    { retryAfter, headers: rateLimitHeaders("auth", blocked.policy, 0, blocked.retryAfterMs) },
  );
}
