// A lock file can name a version or a file the upstream published after the copy the tiers hold
// was read (a lockfile made against the upstream a moment ago, or in a region whose copy is
// newer). Before a 404, the origin's copy is read and, if it lacks the name too, the object's
// mirror checks the upstream again: at most once every UPSTREAM_RECHECK_MS per object for the
// whole deployment, so requests for names that do not exist cannot make the upstream a target.
import type { Context } from "hono";
import { mirroredDocumentHaving } from "../durable-objects/upstream-mirror";
import { ObjectStore } from "../shared/origin";
import { UpstreamFailure } from "../shared/upstream/http";
import type { UpstreamCall, UpstreamRef } from "../shared/upstream/types";

export const UPSTREAM_RECHECK_MS = 5_000;

/** The upstream document `ref` names, rechecked if it fails `has`; null when the upstream cannot tell. */
export async function recheckedUpstreamDocument<T>(c: Context, ref: UpstreamRef, has: (doc: T) => boolean): Promise<T | null> {
  const calls: UpstreamCall[] = [];
  try {
    return await mirroredDocumentHaving<T>({ env: c.env, store: new ObjectStore(c.env.BLOBS), calls }, ref, has, UPSTREAM_RECHECK_MS);
  } catch (err) {
    if (err instanceof UpstreamFailure) return null;
    throw err;
  } finally {
    // Counted as a shield counts its misses' upstream requests, by the document's owner shard.
    await c.get("tiers").countUpstream(ref.key, calls);
  }
}
