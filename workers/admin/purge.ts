// /_/purge: drop (hard) or mark stale (soft) cached objects by exact key, purge tag or key prefix,
// in every region (the guard is in ./index.ts). Applied in this region before the answer, in the
// others through the invalidation queue, hence 202.
import { Hono } from "hono";
import * as z from "../../shared/zod";
import { badRequest } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { recordAudit } from "../audit";

const MAX_BODY_BYTES = 64 * 1024;

// Cache keys and tags are opaque strings chosen by the protocol adapters (npm:packument:<name>,
// oci:<repository>, ...): bounded, never empty, no control characters.
const selector = z.string().check(z.minLength(1), z.maxLength(1024), z.regex(/^[^\u0000-\u001f\u007f]+$/, "no control characters"));

const PurgeBody = z
  .strictObject({
    keys: z.optional(z.array(selector).check(z.maxLength(1000))),
    tags: z.optional(z.array(selector).check(z.maxLength(100))),
    prefix: z.optional(selector),
    mode: z.enum(["hard", "soft"]),
  })
  // An empty purge would be a silent no-op; purging everything is not offered on purpose.
  .check(z.refine((b) => (b.keys?.length ?? 0) > 0 || (b.tags?.length ?? 0) > 0 || b.prefix !== undefined, {
    message: "name at least one of keys, tags or prefix",
  }));

export type PurgeRequest = z.infer<typeof PurgeBody>;

/** Validates a purge body; a RegistryError 400 naming the first problem otherwise. */
export function parsePurge(body: unknown): PurgeRequest {
  const parsed = PurgeBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw badRequest(`invalid purge: ${where}${issue.message}`);
  }
  return parsed.data;
}

export const purge = new Hono<{ Bindings: Cloudflare.Env }>();

// POST /_/purge {keys?, tags?, prefix?, mode} -> 202 {id, mode, keys, tags, prefix}
purge.post("/", async (c) => {
  const body = parsePurge(await readJsonLimited(c.req.raw, MAX_BODY_BYTES));
  const keys = body.keys ?? [];
  const tags = body.tags ?? [];
  const id = await c.get("tiers").purge({ keys, tags, ...(body.prefix !== undefined ? { prefix: body.prefix } : {}), mode: body.mode });
  const target = [...keys, ...tags.map((t) => `tag:${t}`), ...(body.prefix !== undefined ? [`prefix:${body.prefix}`] : [])].join(",").slice(0, 512);
  recordAudit(c, { action: "purge", target, detail: { id, mode: body.mode, keys, tags, prefix: body.prefix ?? null } });
  return c.json({ id, mode: body.mode, keys, tags, prefix: body.prefix ?? null }, 202, { "cache-control": "no-store" });
});
