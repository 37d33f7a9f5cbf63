// /_/warm: pre-populates one region's shields (a new region, or one after an outage) so its
// first requests are shield hits, reporting progress as it goes (the guard is in ./index.ts).
//
// POST {region, from, top?}   warm `region` with the `top` (default 100) most requested keys
//                             of region `from`'s shields;
// POST {region, keys}         warm `region` with these cache keys. A key is warmed the way a
//                             shield somewhere last loaded it (the request it recorded), so only
//                             keys cached in some region can be warmed; others count as failed.
//                             Warming never takes a caller-supplied origin location, so it cannot
//                             store one object under another's key.
// The answer is NDJSON (application/x-ndjson): one line per finished batch,
// {"done":false,"completed":n,"total":t,"warmed":w,"failed":f}, then a last line with
// "done":true and the keys that failed. Validation errors come before the stream, as 400.
import { Hono } from "hono";
import * as z from "../../shared/zod";
import { badRequest } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import type { TierRequest, Tiers } from "../../shared/tiers";
import { recordAudit } from "../audit";

const MAX_BODY_BYTES = 256 * 1024;
const MAX_ITEMS = 1000;
/** Requests warmed at once: enough to overlap origin reads, few enough to spare the origin. */
const BATCH = 8;
/** How many of each region's most requested keys are searched to resolve explicit keys. */
const KEY_LOOKUP_LIMIT = 10_000;

const key = z.string().check(z.minLength(1), z.maxLength(1024), z.regex(/^[^\u0000-\u001f\u007f]+$/, "no control characters"));

const WarmBody = z
  .strictObject({
    region: z.string().check(z.minLength(1)),
    from: z.optional(z.string().check(z.minLength(1))),
    top: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_ITEMS))),
    keys: z.optional(z.array(key).check(z.minLength(1), z.maxLength(MAX_ITEMS))),
  })
  .check(
    z.refine((b) => (b.from === undefined) !== (b.keys === undefined), { message: "give either from (a region) or keys, not both" }),
    z.refine((b) => b.top === undefined || b.from !== undefined, { message: "top goes with from" }),
  );

type WarmRequest = z.infer<typeof WarmBody>;

export interface WarmProgress {
  done: boolean;
  completed: number;
  total: number;
  warmed: number;
  failed: number;
  /** Keys that could not be warmed (last line only). */
  failures?: Array<{ key: string; reason: string }>;
}

function parseWarm(body: unknown, regions: string[]): WarmRequest {
  const parsed = WarmBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw badRequest(`invalid warm request: ${where}${issue.message}`);
  }
  for (const region of [parsed.data.region, parsed.data.from]) {
    if (region !== undefined && !regions.includes(region)) throw badRequest(`unknown region ${region}; regions are ${regions.join(", ")}`);
  }
  return parsed.data;
}

/** The requests to warm, and the keys that cannot be (not cached anywhere). */
async function plan(tiers: Tiers, regions: string[], body: WarmRequest): Promise<{ requests: TierRequest[]; unknown: string[] }> {
  if (body.from !== undefined) {
    const top = await tiers.topRequests(body.from, body.top ?? 100);
    return { requests: top.map((t) => t.request), unknown: [] };
  }
  const wanted = new Set(body.keys);
  const found = new Map<string, TierRequest>();
  for (const region of regions) {
    for (const { request } of await tiers.topRequests(region, KEY_LOOKUP_LIMIT)) {
      if (wanted.has(request.key) && !found.has(request.key)) found.set(request.key, request);
    }
    if (found.size === wanted.size) break;
  }
  return { requests: [...found.values()], unknown: [...wanted].filter((k) => !found.has(k)) };
}

export const warm = new Hono<{ Bindings: Cloudflare.Env }>();

warm.post("/", async (c) => {
  const regions = c.get("config").regions;
  const body = parseWarm(await readJsonLimited(c.req.raw, MAX_BODY_BYTES), regions);
  const tiers = c.get("tiers");
  const { requests, unknown } = await plan(tiers, regions, body);
  const total = requests.length + unknown.length;
  const failures = unknown.map((k) => ({ key: k, reason: "not cached in any region" }));
  recordAudit(c, { action: "warm", target: body.region, detail: { from: body.from ?? null, top: body.top ?? null, keys: body.keys?.length ?? 0, total } });

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const line = (p: WarmProgress) => writer.write(encoder.encode(`${JSON.stringify(p)}\n`));
  const run = (async () => {
    let warmed = 0;
    let completed = unknown.length;
    try {
      for (let i = 0; i < requests.length; i += BATCH) {
        const batch = requests.slice(i, i + BATCH);
        const results = await tiers.warmRegion(body.region, batch);
        results.forEach((ok, j) => {
          if (ok) warmed++;
          else failures.push({ key: batch[j]!.key, reason: "not found at the origin, or the origin failed" });
        });
        completed += batch.length;
        await line({ done: false, completed, total, warmed, failed: failures.length });
      }
      await line({ done: true, completed, total, warmed, failed: failures.length, failures });
      await writer.close();
    } catch (err) {
      // The client went away (or the stream broke): stop warming; what is stored stays stored.
      await writer.abort(err).catch(() => {});
    }
  })();
  c.executionCtx.waitUntil(run);
  return c.body(readable, 200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
});
