// Rate-limit policies from wrangler vars: "<requests>/<window>" per scope, the claim fraction,
// and the on/off switch. Parsed once per isolate inside loadConfig().

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

const VARS: Record<Scope, string> = {
  token: "RATE_LIMIT_TOKEN",
  ip: "RATE_LIMIT_IP",
  read: "RATE_LIMIT_READ",
  publish: "RATE_LIMIT_PUBLISH",
  auth: "RATE_LIMIT_AUTH",
};

// Used when a var is absent; wrangler.toml states the same values. Generous on purpose: a CI
// runner doing a cold install or an npm benchmark from one address stays far below them.
const DEFAULTS: Record<Scope, string> = {
  token: "100000",
  ip: "100000",
  read: "100000",
  publish: "1000",
  auth: "300",
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * "600/60s", "600/1m", "30/1500ms", or a bare "600" that takes `defaultWindowMs`; "off" or "0"
 * disables the limit (null). Anything else is a configuration error, raised at start-up.
 */
export function parsePolicy(value: string, defaultWindowMs: number, name = "rate limit"): Policy | null {
  const text = value.trim().toLowerCase();
  if (text === "off" || text === "0") return null;
  const m = /^(\d+)\s*(?:\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?)?$/.exec(text);
  if (!m) throw new Error(`wrangler var ${name} must look like "600/60s" (requests/window) or "off", got "${value}"`);
  const limit = Number(m[1]);
  const windowMs = m[2] === undefined ? defaultWindowMs : Math.round(Number(m[2]) * UNIT_MS[m[3] ?? "s"]!);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`wrangler var ${name}: the request count must be a positive integer`);
  if (!(windowMs >= 100)) throw new Error(`wrangler var ${name}: the window must be at least 100 ms`);
  return { limit, windowMs };
}

/** Requests one PoP admits locally per window before it must ask the coordinator (at least 1). */
export function claimThreshold(policy: Policy, fraction: number): number {
  return Math.max(1, Math.floor(policy.limit * fraction));
}

export function loadRateLimitSettings(env: Record<string, unknown>): RateLimitSettings {
  const str = (name: string): string | undefined => {
    const v = env[name];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const windowSeconds = Number(str("RATE_LIMIT_WINDOW_SECONDS") ?? "60");
  if (!(windowSeconds > 0)) throw new Error(`wrangler var RATE_LIMIT_WINDOW_SECONDS must be a positive number`);
  const fraction = Number(str("RATE_LIMIT_CLAIM_FRACTION") ?? "0.1");
  if (!(fraction > 0 && fraction < 1)) throw new Error(`wrangler var RATE_LIMIT_CLAIM_FRACTION must be between 0 and 1 (exclusive)`);
  const enabledVar = str("RATE_LIMIT_ENABLED");
  const policies: Partial<Record<Scope, Policy>> = {};
  for (const scope of SCOPES) {
    const raw = str(VARS[scope]) ?? DEFAULTS[scope];
    const policy = parsePolicy(raw, windowSeconds * 1000, VARS[scope]);
    if (policy) policies[scope] = policy;
  }
  return {
    enabled: enabledVar === undefined ? true : enabledVar === "true" || enabledVar === "1",
    policies,
    claimFraction: fraction,
  };
}
