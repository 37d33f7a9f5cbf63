// /_/audit: the audit log of writes, newest first, for admins (the guard is in ./index.ts).
import { Hono } from "hono";
import { badRequest } from "../../shared/errors";
import { AuditStore } from "../../shared/origin/audit-store";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export const audit = new Hono<{ Bindings: Cloudflare.Env }>();

// GET /_/audit?limit=&cursor=&action=&actor= -> {entries, cursor?}; `actor` is `admin`,
// `anonymous`, `token:<id>` or a token's name.
audit.get("/", async (c) => {
  const raw = c.req.query("limit");
  const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  const page = await new AuditStore(c.env.BLOBS).list({
    limit,
    cursor: c.req.query("cursor") || undefined,
    action: c.req.query("action") || undefined,
    actor: c.req.query("actor") || undefined,
  });
  if (!page) throw badRequest("cursor is not one this endpoint handed out");
  return c.json(page, 200, { "cache-control": "no-store" });
});
