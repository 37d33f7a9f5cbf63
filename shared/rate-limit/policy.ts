// Rate-limit policies from wrangler vars: "<requests>/<window>" per scope, the claim fraction,
// and the on/off switch, read through shared/config/vars.ts once per isolate inside loadConfig().
import type { VarName } from "../config/defaults";
import { boolean, configError, duration, number, parseDuration, text, type Vars } from "../config/vars";

/** What a limit counts: one token, one client IP, or one caller's use of a route class. */
export type Scope = "token" | "ip" | RouteClass;
export type RouteClass = "read" | "publish" | "auth";

export const SCOPES: readonly Scope[] = ["token", "ip", "read", "publish", "auth"];

export interface Policy {
  /** Requests allowed in any window of `windowMs`. */
  limit: number;
  windowMs: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  /** A scope whose var is "off" (or 0) has no entry. */
  policies: Partial<Record<Scope, Policy>>;
  /** Share of a limit one PoP may count on its own before it claims the key at the coordinator. */
  claimFraction: number;
}

const VARS = {
  token: "RATE_LIMIT_TOKEN",
  ip: "RATE_LIMIT_IP",
  read: "RATE_LIMIT_READ",
  publish: "RATE_LIMIT_PUBLISH",
  auth: "RATE_LIMIT_AUTH",
} as const satisfies Record<Scope, VarName>;

/**
 * "600/60s", "600/1m", "30/1500ms", or a bare "600" that takes `defaultWindowMs`; "off" or "0"
 * disables the limit (null). Anything else is a configuration error, raised at start-up.
 */
export function parsePolicy(value: string, defaultWindowMs: number, name = "rate limit"): Policy | null {
  const lower = value.trim().toLowerCase();
  if (lower === "off" || lower === "0") return null;
  const m = /^(\d+)\s*(?:\/\s*(.*))?$/.exec(lower);
  const seconds = m?.[2] === undefined ? defaultWindowMs / 1000 : parseDuration(m[2], "s");
  if (!m || seconds === null) throw configError(name, value, `"<requests>/<window>" such as "600/60s", or "off"`);
  const limit = Number(m[1]);
  if (!Number.isSafeInteger(limit) || limit < 1) throw configError(name, value, "a request count of at least 1 per window");
  const windowMs = Math.round(seconds * 1000);
  if (!(windowMs >= 100)) throw configError(name, value, "a window of at least 100 ms");
  return { limit, windowMs };
}

/** Requests one PoP admits locally per window before it must ask the coordinator (at least 1). */
export function claimThreshold(policy: Policy, fraction: number): number {
  return Math.max(1, Math.floor(policy.limit * fraction));
}

export function loadRateLimitSettings(env: Vars): RateLimitSettings {
  const windowMs = duration(env, "RATE_LIMIT_WINDOW_SECONDS", "s", { above: 0 }) * 1000;
  const policies: Partial<Record<Scope, Policy>> = {};
  for (const scope of SCOPES) {
    const policy = parsePolicy(text(env, VARS[scope]), windowMs, VARS[scope]);
    if (policy) policies[scope] = policy;
  }
  return {
    enabled: boolean(env, "RATE_LIMIT_ENABLED"),
    policies,
    claimFraction: number(env, "RATE_LIMIT_CLAIM_FRACTION", { above: 0, below: 1 }),
  };
}
