// Which limits a request counts against: its route class, its client address, and the keys
// (token, IP, route class per caller) that name one global counter each.
import type { Policy, RateLimitSettings, RouteClass, Scope } from "./policy";

/** One global counter: `key` is the same in every PoP, so it names one coordinator. */
export interface LimitKey {
  scope: Scope;
  key: string;
  policy: Policy;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * auth: endpoints that check or mint credentials (credential stuffing lands here): the OCI token
 * endpoint, the admin token API, npm's logins (`PUT /-/user/...`, the web login page) and npm's
 * token API. publish: any other write.
 * read: everything else.
 */
export function routeClass(method: string, path: string): RouteClass {
  if (path === "/v2/token" || path === "/_/tokens" || path.startsWith("/_/tokens/") || path.startsWith("/npm/-/user/") || path.startsWith("/npm/-/v1/login") || path.startsWith("/npm/-/npm/v1/tokens")) return "auth";
  return SAFE_METHODS.has(method.toUpperCase()) ? "read" : "publish";
}

/**
 * The client's address. Cloudflare sets `cf-connecting-ip` and overwrites any value a client
 * sends, so in production it is the only source. Under wrangler dev the local proxy sets it from
 * the socket unless the request already has one; in dev only (`devRegionHeader`) a request with
 * neither falls back to `x-forwarded-for`, so tests and benchmarks can play many clients.
 */
export function clientIp(headers: Headers, dev: boolean): string {
  const cf = headers.get("cf-connecting-ip");
  if (cf) return cf.trim();
  if (dev) {
    const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  return "unknown";
}

export interface Caller {
  /** The id (never the secret) of a verified pkgedge token, if the request carried one. */
  tokenId?: string;
  ip: string;
}

/**
 * The keys this request counts against, in the order a 429 reports them. A route class key
 * that can never be the one refused is left out: `read:token:X` counts a subset of what
 * `token:X` counts (reads of that token), so with the same window and a limit at least as high
 * it is always under it, and one counter (and one coordinator) does for both. The same holds for
 * `read:ip:X` against `ip:X`. With the defaults this drops one key of three for every read.
 */
export function limitKeys(settings: RateLimitSettings, cls: RouteClass, caller: Caller): LimitKey[] {
  const { policies } = settings;
  const keys: LimitKey[] = [];
  const tokenKey = caller.tokenId !== undefined && policies.token ? { scope: "token" as const, key: `token:${caller.tokenId}`, policy: policies.token } : null;
  const ipKey = policies.ip ? { scope: "ip" as const, key: `ip:${caller.ip}`, policy: policies.ip } : null;
  if (tokenKey) keys.push(tokenKey);
  if (ipKey) keys.push(ipKey);
  const classPolicy = policies[cls];
  // A route class is limited per caller: the token when there is one, else the address.
  const who = caller.tokenId !== undefined ? `token:${caller.tokenId}` : `ip:${caller.ip}`;
  const wider = caller.tokenId !== undefined ? tokenKey : ipKey;
  if (classPolicy && !(wider && covers(wider.policy, classPolicy))) keys.push({ scope: cls, key: `${cls}:${who}`, policy: classPolicy });
  return keys;
}

/** True when a limit `outer` on a superset of requests makes `inner` unreachable. */
function covers(outer: Policy, inner: Policy): boolean {
  return outer.windowMs === inner.windowMs && outer.limit <= inner.limit;
}
