// A mirrored document's refresh (a packument, a project page), the same for every protocol: one
// conditional GET against the held copy, and the one order the copy is replaced in, so a crash at
// any instant leaves either the old copy or the new one and never loses a takedown: the removal
// first (tarballs or files deleted, every region told, audited), then the new copy, and for a
// change that removed nothing the invalidation that lets every region see it.
import { crashPoint } from "../crash-point";
import { invalidateEverywhere, type Change } from "../tiers/invalidation";
import { upstreamFetch } from "./http";
import type { MirrorContext, RefreshOutcome } from "./types";

/**
 * GETs the document at `url`, conditionally when a copy is held (its ETag): an outcome when the
 * upstream says the copy is current, else its answer with the copy it would replace.
 */
export async function fetchMirroredDocument<T>(ctx: MirrorContext, url: string, headers: Headers): Promise<RefreshOutcome | { res: Response; previous: T | null }> {
  if (ctx.etag) headers.set("if-none-match", ctx.etag);
  const res = await upstreamFetch(url, { headers }, { protocol: ctx.ref.protocol, kind: "metadata", timeoutMs: ctx.config.upstream.timeoutMs, calls: ctx.calls });
  if (res.status === 304) return ctx.hadCopy ? { kind: "unchanged" } : { kind: "missing" };
  const previous = ctx.hadCopy ? (await ctx.store.readJson<T>(ctx.ref.originKey))?.doc ?? null : null;
  return { res, previous };
}

export async function replaceMirroredDocument(ctx: MirrorContext, copyKey: string, previous: unknown, next: unknown,
  steps: { removed: number; takeDown: () => Promise<void>; change: () => Change }): Promise<boolean> {
  const body = JSON.stringify(next);
  const changed = previous === null || JSON.stringify(previous) !== body;
  if (steps.removed > 0) {
    // Until the new copy lands, the old one's next revalidation finds the same removal again.
    await steps.takeDown();
    await crashPoint("upstream-takedown-applied");
  }
  if (changed) await ctx.store.write(copyKey, body, { contentType: "application/json" });
  if (steps.removed === 0 && previous !== null && changed) await invalidateEverywhere(ctx.env, ctx.config, steps.change(), "upstream");
  return changed;
}
