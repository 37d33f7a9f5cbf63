// The one order every mirrored document (a packument, a project page) is replaced in, so a crash
// at any instant leaves either the old copy or the new one and never loses a takedown: the
// removal first (tarballs or files deleted, every region told, audited), then the new copy, and
// for a change that removed nothing the invalidation that lets every region see it.
import { crashPoint } from "../crash-point";
import { invalidateEverywhere, type Change } from "../tiers/invalidation";
import type { MirrorContext } from "./types";

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
