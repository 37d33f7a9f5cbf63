// `npm login` and `npm logout`. npm 9+ logs in on the web by default: POST /-/v1/login gives it a
// login URL (a pkgedge page where the person proves who they are with the admin secret or a
// pkgedge token) and a done URL it polls until a new token is ready. `--auth-type=legacy` PUTs
// the user document with a pkgedge token as the password. Either way npm receives a new token
// with at most the rights of the credential that proved it, so `npm logout` (which revokes the
// token npm holds) never takes away the credential the person logged in with.
import { Hono } from "hono";
import type { LoginSession } from "../../durable-objects/login-session";
import { issueToken, revokeToken, secretsEqual, verifyToken, type TokenFields } from "../../shared/auth/tokens";
import { sha256Hex } from "../../shared/digest";
import { RegistryError, badRequest } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { TokenStore } from "../../shared/origin";
import { recordAudit } from "../audit";
import { loginPage } from "./login-page";

export const login = new Hono<{ Bindings: Cloudflare.Env }>();

const ID = /^[A-Za-z0-9_-]{22,64}$/;

function session(env: Cloudflare.Env, id: string): DurableObjectStub<LoginSession> {
  return env.LOGIN_SESSION.get(env.LOGIN_SESSION.idFromName(id)) as DurableObjectStub<LoginSession>;
}

function randomId(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The rights a new token gets from the secret that proved who is logging in: the admin secret
 * gives read and publish on every name (an admin token is made with the admin API, not by a
 * login); a pkgedge token gives its own scopes, names and expiry; anything else nothing.
 */
export async function rightsFrom(env: Cloudflare.Env, secret: string, name: string, cacheSeconds: number): Promise<TokenFields | null> {
  if (env.PKGEDGE_ADMIN_TOKEN && (await secretsEqual(secret, env.PKGEDGE_ADMIN_TOKEN))) return { name, scopes: ["read", "publish"] };
  const parent = await verifyToken(new TokenStore(env.TOKENS), secret, cacheSeconds);
  if (!parent) return null;
  return {
    name,
    scopes: parent.scopes,
    ...(parent.packages ? { packages: parent.packages } : {}),
    ...(parent.expiresAt ? { expiresAt: parent.expiresAt } : {}),
    parent: parent.id,
  };
}

function tokenName(value: unknown, fallback: string): string {
  const name = typeof value === "string" && value.trim() ? value.trim() : fallback;
  if (!/^[A-Za-z0-9._@ -]{1,64}$/.test(name)) throw badRequest("token name must be 1-64 characters of letters, digits, space, . _ @ -");
  return name;
}

// ---- web login ----
login.post("/-/v1/login", async (c) => {
  const id = randomId(18);
  const done = randomId(32);
  if (!(await session(c.env, id).open(await sha256Hex(done)))) throw new RegistryError("CONFLICT", "login id in use, try again");
  const origin = new URL(c.req.url).origin;
  return c.json({ loginUrl: `${origin}/npm/-/v1/login/${id}`, doneUrl: `${origin}/npm/-/v1/done/${id}/${done}` });
});

login.get("/-/v1/login/:id", async (c) => {
  const id = c.req.param("id");
  const open = ID.test(id) && (await session(c.env, id).pending());
  return loginPage(c, open ? "form" : "expired");
});

login.post("/-/v1/login/:id", async (c) => {
  const id = c.req.param("id");
  if (!ID.test(id) || !(await session(c.env, id).pending())) return loginPage(c, "expired");
  const form = await c.req.parseBody();
  const secret = typeof form.secret === "string" ? form.secret.trim() : "";
  const rights = secret ? await rightsFrom(c.env, secret, tokenName(form.name, "npm login"), c.get("config").tokenCacheSeconds) : null;
  if (!rights) {
    recordAudit(c, { action: "npm.login.refused", target: "web" });
    return loginPage(c, "refused");
  }
  if (!(await session(c.env, id).approve(rights))) return loginPage(c, "expired");
  return loginPage(c, "approved");
});

login.get("/-/v1/done/:id/:done", async (c) => {
  const id = c.req.param("id");
  if (!ID.test(id)) throw new RegistryError("NOT_FOUND", "no such login; run npm login again");
  const answer = await session(c.env, id).collect(await sha256Hex(c.req.param("done")));
  if (answer.state === "unknown") throw new RegistryError("NOT_FOUND", "this login expired or was already used; run npm login again");
  if (answer.state === "pending") return c.json({}, 202, { "retry-after": "1", "cache-control": "no-store" });
  const { record, token } = await issueToken(new TokenStore(c.env.TOKENS), answer.fields);
  recordAudit(c, { action: "npm.login", target: record.id, detail: { name: record.name, scopes: record.scopes, packages: record.packages } });
  return c.json({ token }, 200, { "cache-control": "no-store" });
});

// ---- legacy login: PUT /-/user/org.couchdb.user:<name> with a pkgedge token as the password ----
login.put("/-/user/:user", async (c) => {
  const body = await readJsonLimited<{ name?: unknown; password?: unknown }>(c.req.raw, 16 * 1024);
  const password = typeof body?.password === "string" ? body.password : "";
  const user = typeof body?.name === "string" ? body.name : "npm";
  const rights = password ? await rightsFrom(c.env, password, tokenName(`npm login ${user}`.slice(0, 64).replace(/[^A-Za-z0-9._@ -]/g, "-"), "npm login"), c.get("config").tokenCacheSeconds) : null;
  if (!rights) {
    recordAudit(c, { action: "npm.login.refused", target: "legacy" });
    // Answered here rather than thrown, without the WWW-Authenticate challenge npm errors carry:
    // with one, npm prints its own generic text instead of this message.
    return c.json({ error: "the password must be a pkgedge token (pke_...) or the admin secret; create a token with `npm run pkgedge -- token create`, or use `npm login` without --auth-type=legacy" }, 401, { "cache-control": "no-store" });
  }
  const { record, token } = await issueToken(new TokenStore(c.env.TOKENS), rights);
  recordAudit(c, { action: "npm.login", target: record.id, detail: { name: record.name, scopes: record.scopes, packages: record.packages } });
  return c.json({ ok: true, id: `org.couchdb.user:${user}`, token }, 201);
});

// ---- npm logout: DELETE /-/user/token/<the token npm holds> ----
login.delete("/-/user/token/:token", async (c) => {
  const store = new TokenStore(c.env.TOKENS);
  // Holding the secret is what proves the right to revoke it; an unknown one is already gone.
  const record = await verifyToken(store, decodeURIComponent(c.req.param("token")), 0);
  if (record) {
    await revokeToken(store, record.id);
    recordAudit(c, { action: "token.revoke", target: record.id, detail: { via: "npm logout" } });
  }
  return c.json({ ok: true });
});

