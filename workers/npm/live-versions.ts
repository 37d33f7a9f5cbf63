// Which versions of a package are published: the packument is the commit point of every npm
// write, so a tarball is served only while its version is in it. An orphan (the tarballs of a
// publish that died before its packument, or those an unpublish had not yet deleted) is never
// served. The check reads the packument through the tiers, where an install just found it, and
// asks the origin itself only when the tiers' copy lacks the version (it may predate a publish).
import type { Context } from "hono";
import { ObjectStore } from "../../shared/origin";
import type { CacheState } from "../../shared/tiers";
import { RecentSet } from "../../shared/tiers/isolate-state";
import { packumentObject } from "./keys";
import { packumentRequest } from "./objects";
import { isLive, type Packument } from "./packument";

// Live versions per package as this isolate last saw them: an install's tarballs then cost a
// lookup each, not a packument read. Held as long as an L1 packument copy, and dropped by this
// isolate's own writes (forgetLiveVersions).
const recent = new RecentSet<Set<string>>(2048, 30_000);

function liveSet(doc: Packument | null): Set<string> {
  return new Set(doc && isLive(doc) ? Object.keys(doc.versions) : []);
}

/**
 * Whether `version` is published, and the tier state of the packument read that said so (a
 * tarball's 404 reports it). A package the tiers call absent is trusted (a publish drops that
 * answer everywhere); a packument that lacks the version is checked at the origin, since the
 * tiers' copy may predate the publish.
 */
export async function isLiveVersion(c: Context, name: string, version: string): Promise<{ live: boolean; state: CacheState }> {
  if (recent.get(name)?.has(version)) return { live: true, state: "L1-HIT" };
  const served = await c.get("tiers").get(packumentRequest(name));
  if (!served.found) return { live: false, state: served.state };
  const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
  let live = liveSet(JSON.parse(new TextDecoder().decode(bytes)) as Packument);
  let state = served.state;
  if (!live.has(version)) {
    const stored = await new ObjectStore(c.env.BLOBS).readJson<Packument>(packumentObject(name));
    live = liveSet(stored?.doc ?? null);
    state = "MISS";
  }
  if (live.size > 0) recent.set(name, live);
  return { live: live.has(version), state };
}

/** A packument was just served: an install's tarball requests that follow need no lookup. */
export function rememberLiveVersions(name: string, doc: Packument): void {
  const live = liveSet(doc);
  if (live.size > 0) recent.set(name, live);
}

/** After a write to the package in this isolate: its next tarball read checks again. */
export function forgetLiveVersions(name: string): void {
  recent.delete(name);
}
