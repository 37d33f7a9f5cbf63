// /_/tokens: create (the secret is shown once), list (never the secret), revoke.
import { Hono } from "hono";
import { issueToken, revokeToken } from "../../shared/auth/tokens";
import { badRequest, notFound } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { TokenStore, type Scope, type TokenRecord } from "../../shared/origin";
import { recordAudit } from "../audit";

const SCOPES: readonly Scope[] = ["read", "publish", "admin"];
// Ten years: far enough for any real use, near enough that the expiry is a valid date.
const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;

interface CreateBody {
  name?: unknown;
  scopes?: unknown;
  packages?: unknown;
  /** Seconds until the token expires. */
  expiresIn?: unknown;
}

function parseCreate(body: CreateBody): Omit<TokenRecord, "id" | "createdAt"> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("token request must be a JSON object");
  if (typeof body.name !== "string" || !/^[A-Za-z0-9._@-]{1,64}$/.test(body.name)) {
    throw badRequest("name must be 1-64 characters of letters, digits, . _ @ -");
  }
  if (!Array.isArray(body.scopes) || body.scopes.length === 0 || !body.scopes.every((s) => SCOPES.includes(s as Scope))) {
    throw badRequest(`scopes must be a non-empty list of ${SCOPES.join(", ")}`);
  }
  let packages: string[] | undefined;
  if (body.packages !== undefined) {
    if (!Array.isArray(body.packages) || !body.packages.every((p) => typeof p === "string" && p.length > 0 && p.length <= 256)) {
      throw badRequest("packages must be a list of name patterns such as @acme/* or left-pad");
    }
    // An empty list would read as "no restriction" to anyone skimming the listing: refuse it.
    if (body.packages.length === 0) throw badRequest('packages must name at least one pattern; leave it out (or use ["*"]) for every name');
    if (body.packages.length > 100) throw badRequest("packages may list at most 100 patterns");
    packages = body.packages as string[];
  }
  let expiresAt: string | undefined;
  if (body.expiresIn !== undefined) {
    if (typeof body.expiresIn !== "number" || !Number.isFinite(body.expiresIn) || body.expiresIn <= 0 || body.expiresIn > MAX_EXPIRES_IN) {
      throw badRequest(`expiresIn must be a positive number of seconds, at most ${MAX_EXPIRES_IN} (10 years)`);
    }
    expiresAt = new Date(Date.now() + body.expiresIn * 1000).toISOString();
  }
  return { name: body.name, scopes: [...new Set(body.scopes as Scope[])], ...(packages ? { packages } : {}), ...(expiresAt ? { expiresAt } : {}) };
}

export const tokens = new Hono<{ Bindings: Cloudflare.Env }>();

tokens.post("/", async (c) => {
  const fields = parseCreate(await readJsonLimited<CreateBody>(c.req.raw, 16 * 1024));
  const { record, token } = await issueToken(new TokenStore(c.env.TOKENS), fields);
  recordAudit(c, { action: "token.create", target: record.id, detail: { name: record.name, scopes: record.scopes, packages: record.packages, expiresAt: record.expiresAt } });
  return c.json({ ...record, token }, 201);
});

tokens.get("/", async (c) => c.json({ tokens: await new TokenStore(c.env.TOKENS).list() }));

tokens.delete("/:id", async (c) => {
  if (!(await revokeToken(new TokenStore(c.env.TOKENS), c.req.param("id")))) throw notFound("no token with that id");
  recordAudit(c, { action: "token.revoke", target: c.req.param("id") });
  return c.json({ ok: true });
});
