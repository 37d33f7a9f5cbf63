// Which versions of a package are published: the packument is the commit point of every npm
// write, so a tarball is served only while its version is in it. An orphan (the tarballs of a
// publish that died before its packument, or those an unpublish had not yet deleted) is never
// served. The check reads the packument through the tiers, where an install just found it, and
// asks the origin itself only when the tiers' copy lacks the version (it may predate a publish).
import type { Context } from "hono";
import { ObjectStore } from "../../shared/origin";
import { RecentSet } from "../../shared/tiers/prefetch";
import { packumentObject } from "./keys";
import { isLive, type Packument } from "./packument";
import { packumentRequest } from "./prefetch";

// Live versions per package as this isolate last saw them: an install's tarballs then cost a
// lookup each, not a packument read. Held as long as an L1 packument copy, and dropped by this
// isolate's own writes (forgetLiveVersions).
const recent = new RecentSet<Set<string>>(2048, 30_000);

function liveSet(doc: Packument | null): Set<string> {
  return new Set(doc && isLive(doc) ? Object.keys(doc.versions) : []);
}

export async function isLiveVersion(c: Context, name: string, version: string): Promise<boolean> {
  if (recent.get(name)?.has(version)) return true;
  const served = await c.get("tiers").get(packumentRequest(name));
  let live = new Set<string>();
  if (served.found && served.body) {
    const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
    live = liveSet(JSON.parse(new TextDecoder().decode(bytes)) as Packument);
  }
  if (!live.has(version)) {
    const stored = await new ObjectStore(c.env.BLOBS).readJson<Packument>(packumentObject(name));
    live = liveSet(stored?.doc ?? null);
  }
  if (live.size > 0) recent.set(name, live);
  return live.has(version);
}

/** After a write to the package in this isolate: its next tarball read checks again. */
export function forgetLiveVersions(name: string): void {
  recent.delete(name);
}
