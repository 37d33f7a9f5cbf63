// Who may pull and push which repository, and the token endpoint of docker's token auth flow:
// clients meet a 401 challenge, trade Basic credentials (a pkgedge token as the password) at
// /v2/token for a short-lived bearer grant, and retry with it.
import type { Context } from "hono";
import { issueGrant, type Action } from "../../shared/auth/grants";
import { authorize, matchesPattern, principalName, type Principal } from "../../shared/auth/permissions";
import type { Config } from "../../shared/config";
import { challenge, ociError } from "./errors";
import { isDigest } from "./names";

export type OciAction = "pull" | "push" | "delete";

const NAME_IN_SCOPE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** True when anyone may pull `name` without a token (decides public vs private caching too). */
export function isAnonymousPull(config: Config, name: string): boolean {
  return config.anonymousRead && config.ociAnonymousPull.some((p) => matchesPattern(p, name));
}

/** What `principal` may do to `name`, as token-endpoint actions. */
function allowedActions(principal: Principal, config: Config, name: string): Action[] {
  const actions: Action[] = [];
  if (isAnonymousPull(config, name) || authorize(principal, "read", name, false) === "allow") actions.push("pull");
  if (principal.kind !== "anonymous" && authorize(principal, "publish", name, false) === "allow") actions.push("push", "delete");
  return actions;
}

/** Throws the answer a client expects when it may not do `action` to `name`. */
export function requireRepositoryAccess(c: Context, name: string, action: OciAction): void {
  const config = c.get("config");
  const origin = new URL(c.req.url).origin;
  const scope = `repository:${name}:${action === "pull" ? "pull" : "pull,push"}`;
  if (c.get("badCredentials")) {
    throw ociError("UNAUTHORIZED", "invalid, expired or revoked credentials", { headers: { "www-authenticate": challenge(origin, scope) } });
  }
  if (action === "pull" && isAnonymousPull(config, name)) return;
  const principal = c.get("principal");
  if (principal.kind === "anonymous") {
    throw ociError("UNAUTHORIZED", `authentication required to ${action} ${name}`, { headers: { "www-authenticate": challenge(origin, scope) } });
  }
  const needed = action === "pull" ? "read" : "publish";
  if (authorize(principal, needed, name, false) === "allow") return;
  if (principal.kind === "grant") {
    // A bearer grant without this scope: send the client back to the token endpoint for one.
    throw ociError("UNAUTHORIZED", `token does not grant ${action} on ${name}`, {
      headers: { "www-authenticate": `${challenge(origin, scope)},error="insufficient_scope"` },
    });
  }
  throw ociError("DENIED", `token may not ${action} ${name}`);
}

/** Repositories the caller may list in the catalog. */
export function canList(c: Context, name: string): boolean {
  const principal = c.get("principal");
  if (principal.kind !== "grant") return allowedActions(principal, c.get("config"), name).includes("pull");
  // A grant carries its token's scopes and patterns, so the catalog can be filtered as for the token.
  const { scopes, packages } = principal.grant;
  const reads = scopes.length > 0;
  // Only an absent list covers every name; an empty one covers none.
  const covers = scopes.includes("admin") || packages === undefined || packages.some((p) => matchesPattern(p, name));
  return isAnonymousPull(c.get("config"), name) || (reads && covers);
}

/** GET /v2/token: a bearer grant for the requested scopes, cut down to what the caller may do. */
export async function tokenEndpoint(c: Context): Promise<Response> {
  if (c.get("badCredentials")) throw ociError("UNAUTHORIZED", "invalid username or password (use a pkgedge token as the password)");
  const principal = c.get("principal");
  if (principal.kind === "grant") throw ociError("UNAUTHORIZED", "present a pkgedge token (Basic auth password), not a bearer grant");
  const config = c.get("config");
  // Null prototype: the client names the repositories, `constructor` included.
  const access: Record<string, Action[]> = Object.create(null);
  for (const scope of c.req.queries("scope") ?? []) {
    // "repository:<name>:<actions>"; several may be space-separated in one parameter.
    for (const item of scope.split(" ")) {
      const parts = item.split(":");
      if (parts.length !== 3 || parts[0] !== "repository" || !NAME_IN_SCOPE.test(parts[1]!) || isDigest(parts[1]!)) continue;
      const name = parts[1]!;
      const allowed = allowedActions(principal, config, name);
      const wanted = parts[2]!.split(",").flatMap((a) => (a === "*" ? ["pull", "push", "delete"] : [a]));
      const granted = allowed.filter((a) => wanted.includes(a));
      if (granted.length > 0) access[name] = [...new Set([...(Object.hasOwn(access, name) ? access[name]! : []), ...granted])];
    }
  }
  const now = Date.now();
  const { token } = await issueGrant(c.env, {
    subject: principalName(principal),
    ...(principal.kind === "token" ? { tokenId: principal.token.id } : {}),
    scopes: principal.kind === "token" ? principal.token.scopes : principal.kind === "admin" ? ["admin"] : [],
    ...(principal.kind === "token" && principal.token.packages ? { packages: principal.token.packages } : {}),
    access,
  }, config.ociTokenTtlSeconds, now);
  return c.json(
    { token, access_token: token, expires_in: config.ociTokenTtlSeconds, issued_at: new Date(now).toISOString() },
    200,
    { "cache-control": "no-store" },
  );
}
