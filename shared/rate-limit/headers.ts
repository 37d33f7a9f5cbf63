// RateLimit-Policy and RateLimit response fields, draft-ietf-httpapi-ratelimit-headers-10:
// both are Structured Field Lists of items named by a String, e.g.
//   RateLimit-Policy: "token";q=600;w=60      (quota q per window w seconds)
//   RateLimit: "token";r=0;t=17               (r remaining, t seconds until quota is back)
import type { Policy, Scope } from "./policy";

/** Whole seconds, at least 1: `Retry-After` and `t` are integers and 0 would invite a retry storm. */
export function secondsFromMs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function rateLimitHeaders(scope: Scope, policy: Policy, remaining: number, retryAfterMs: number): Record<string, string> {
  return {
    "ratelimit-policy": `"${scope}";q=${policy.limit};w=${secondsFromMs(policy.windowMs)}`,
    ratelimit: `"${scope}";r=${Math.max(0, remaining)};t=${secondsFromMs(retryAfterMs)}`,
  };
}
