// `npm token list|create|revoke` on pkgedge tokens (GET, POST /-/npm/v1/tokens, DELETE
// /-/npm/v1/tokens/token/<key>). A token sees and revokes itself and the tokens it created; the
// admin secret (or an admin token) sees them all. A created token has at most its creator's
// rights: read-only if asked, its names within the creator's, its expiry no later.
import { Hono, type Context } from "hono";
import { matchesPattern, type Principal } from "../../shared/auth/permissions";
import { issueToken, looksLikeToken, revokeToken, secretsEqual, verifyToken, type TokenFields } from "../../shared/auth/tokens";
import { RegistryError, badRequest } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { TokenStore, type TokenRecord } from "../../shared/origin";
import { recordAudit } from "../audit";
import { credentialsFrom } from "../middleware/authenticate";

export const tokens = new Hono<{ Bindings: Cloudflare.Env }>();

/** The caller as a token owner: the admin, or one pkgedge token; anyone else is refused. */
function owner(c: Context): { admin: true } | { admin: false; token: TokenRecord } {
  if (c.get("badCredentials")) throw new RegistryError("UNAUTHORIZED", "invalid, expired or revoked token");
  const p: Principal = c.get("principal");
  if (p.kind === "admin" || (p.kind === "token" && p.token.scopes.includes("admin"))) return { admin: true };
  if (p.kind === "token") return { admin: false, token: p.token };
  throw new RegistryError("UNAUTHORIZED", "log in first (npm login) to manage tokens");
}

function visible(who: ReturnType<typeof owner>, record: TokenRecord): boolean {
  return who.admin || record.id === who.token.id || record.parent === who.token.id;
}

const listed = (r: TokenRecord) => ({
  // npm prints this as the token's beginning; the secret itself is never stored, so the id stands in.
  token: r.id.slice(0, 8),
  key: r.id,
  name: r.name,
  readonly: !r.scopes.includes("publish") && !r.scopes.includes("admin"),
  automation: false,
  cidr_whitelist: null,
  created: r.createdAt,
  updated: r.createdAt,
  ...(r.expiresAt ? { expires: r.expiresAt } : {}),
  ...(r.packages ? { packages: r.packages } : {}),
});

tokens.get("/", async (c) => {
  const who = owner(c);
  const all = (await new TokenStore(c.env.TOKENS).list()).filter((r) => visible(who, r));
  return c.json({ objects: all.map(listed), total: all.length, urls: {} });
});

/** What npm sends: older npm `readonly`; npm 11 granular fields (`packages`, `scopes`, permissions). */
interface CreateBody {
  password?: unknown;
  name?: unknown;
  readonly?: unknown;
  packages_and_scopes_permission?: unknown;
  cidr_whitelist?: unknown;
  expires?: unknown;
  packages?: unknown;
  /** npm scopes (`@acme`): every package in them. */
  scopes?: unknown;
  orgs?: unknown;
}

tokens.post("/", async (c) => {
  const who = owner(c);
  const body = await readJsonLimited<CreateBody>(c.req.raw, 16 * 1024);
  // npm asks for a password; for pkgedge it is the secret the caller is using now (or the admin secret).
  const presented = credentialsFrom(c.req.header("authorization")) || "";
  const password = typeof body?.password === "string" ? body.password : "";
  const confirmed = password !== "" && ((await secretsEqual(password, presented)) || (!!c.env.PKGEDGE_ADMIN_TOKEN && (await secretsEqual(password, c.env.PKGEDGE_ADMIN_TOKEN))));
  if (!confirmed) throw new RegistryError("UNAUTHORIZED", "the password must be the pkgedge token you are logged in with (or the admin secret)");
  if (Array.isArray(body.cidr_whitelist) && body.cidr_whitelist.length > 0) throw badRequest("pkgedge tokens cannot be limited to IP addresses; leave out --cidr");
  if (Array.isArray(body.orgs) && body.orgs.length > 0) throw badRequest("pkgedge has no organisations; limit a token with --packages or --scopes");
  const fields = createFields(who, body);
  const { record, token } = await issueToken(new TokenStore(c.env.TOKENS), fields);
  recordAudit(c, { action: "token.create", target: record.id, detail: { name: record.name, scopes: record.scopes, packages: record.packages, expiresAt: record.expiresAt, via: "npm token create" } });
  return c.json({ ...listed(record), token }, 200);
});

function createFields(who: ReturnType<typeof owner>, body: CreateBody): TokenFields {
  const name = typeof body.name === "string" && body.name.trim() ? body.name.trim() : "npm token";
  if (!/^[A-Za-z0-9._@ -]{1,64}$/.test(name)) throw badRequest("token name must be 1-64 characters of letters, digits, space, . _ @ -");
  const parentScopes = who.admin ? (["read", "publish"] as const) : who.token.scopes;
  const readOnly = body.readonly === true || body.packages_and_scopes_permission === "read-only";
  const scopes = readOnly ? ["read" as const] : [...parentScopes].filter((s) => s !== "admin");
  let packages = who.admin ? undefined : who.token.packages;
  const scopePatterns = Array.isArray(body.scopes) ? body.scopes.map((s) => (typeof s === "string" && /^@?[a-z0-9][a-z0-9._-]*$/.test(s) ? `@${s.replace(/^@/, "")}/*` : null)) : [];
  if (scopePatterns.includes(null)) throw badRequest("scopes must be npm scopes such as @acme");
  const named = body.packages === undefined && scopePatterns.length === 0 ? undefined : [...(Array.isArray(body.packages) ? body.packages : body.packages === undefined ? [] : [null]), ...scopePatterns];
  if (named !== undefined) {
    if (named.length === 0 || !named.every((p) => typeof p === "string" && p.length > 0 && p.length <= 256)) {
      throw badRequest("packages must be a non-empty list of name patterns such as @acme/* or left-pad");
    }
    const wanted = named as string[];
    // Each pattern must lie within the creator's: a pattern matched by one of the creator's patterns.
    if (packages && !wanted.every((w) => packages!.some((p) => matchesPattern(p, w)))) throw new RegistryError("FORBIDDEN", "a token cannot cover names its creator does not");
    packages = wanted;
  }
  let expiresAt = who.admin ? undefined : who.token.expiresAt;
  if (body.expires !== undefined) {
    const days = Number(body.expires);
    if (!Number.isSafeInteger(days) || days < 1 || days > 3650) throw badRequest("expires must be a whole number of days from 1 to 3650");
    const asked = new Date(Date.now() + days * 86_400_000).toISOString();
    expiresAt = expiresAt && expiresAt < asked ? expiresAt : asked;
  }
  return { name, scopes, ...(packages ? { packages } : {}), ...(expiresAt ? { expiresAt } : {}), ...(who.admin ? {} : { parent: who.token.id }) };
}

tokens.delete("/token/:key", async (c) => {
  const who = owner(c);
  const store = new TokenStore(c.env.TOKENS);
  const key = decodeURIComponent(c.req.param("key"));
  // npm sends a key from `npm token list`, or the token itself when the user gave one.
  const record = looksLikeToken(key) ? await verifyToken(store, key, 0) : (await store.list()).find((r) => r.id === key) ?? null;
  if (!record || !visible(who, record)) throw new RegistryError("NOT_FOUND", "no such token among yours");
  await revokeToken(store, record.id);
  recordAudit(c, { action: "token.revoke", target: record.id, detail: { via: "npm token revoke" } });
  return c.body(null, 204);
});
