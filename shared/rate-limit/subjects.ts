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

/** The keys this request counts against, in the order a 429 reports them. */
export function limitKeys(settings: RateLimitSettings, cls: RouteClass, caller: Caller): LimitKey[] {
  const { policies } = settings;
  const keys: LimitKey[] = [];
  if (caller.tokenId !== undefined && policies.token) keys.push({ scope: "token", key: `token:${caller.tokenId}`, policy: policies.token });
  if (policies.ip) keys.push({ scope: "ip", key: `ip:${caller.ip}`, policy: policies.ip });
  const classPolicy = policies[cls];
  // A route class is limited per caller: the token when there is one, else the address.
  const who = caller.tokenId !== undefined ? `token:${caller.tokenId}` : `ip:${caller.ip}`;
  if (classPolicy) keys.push({ scope: cls, key: `${cls}:${who}`, policy: classPolicy });
  return keys;
}
