// Which versions of a package are published: the packument is the commit point of every npm
// write, so a tarball is served only while its version is in it. An orphan (the tarballs of a
// publish that died before its packument, or those an unpublish had not yet deleted) is never
// served. The check reads the packument through the tiers, where an install just found it, and
// asks the origin itself only when the tiers' copy lacks the version (it may predate a publish).
// For a package served from the upstream it also says whether the release-age cooldown hides
// the version, which the tarball route refuses on every path, a lockfile's direct URL included.
import type { Context } from "hono";
import { ObjectStore } from "../../shared/origin";
import type { CacheState } from "../../shared/tiers";
import { RecentSet } from "../../shared/tiers/isolate-state";
import { describeAge, releaseCutoff } from "../../shared/upstream/policy";
import { recheckedUpstreamDocument } from "../upstream-recheck";
import { publishedTooRecently, type Cooldown } from "./cooldown";
import { packumentObject } from "./keys";
import { packumentRequest, upstreamPackumentRef } from "./objects";
import { isLive, type Packument } from "./packument";

/** What a tarball request needs of its packument. */
interface Versions {
  live: Set<string>;
  /** Served from the upstream: publish times by version (for the cooldown). */
  upstream?: Packument["time"];
}

// Live versions per package as this isolate last saw them: an install's tarballs then cost a
// lookup each, not a packument read. Held as long as an L1 packument copy, and dropped by this
// isolate's own writes (forgetLiveVersions).
const recent = new RecentSet<Versions>(2048, 30_000);

function versionsOf(doc: Packument | null): Versions {
  const live = new Set(doc && isLive(doc) ? Object.keys(doc.versions) : []);
  return doc?._upstream ? { live, upstream: doc.time ?? {} } : { live };
}

export interface VersionCheck {
  live: boolean;
  /** The tier state of the packument read that said so (a tarball's 404 reports it). */
  state: CacheState;
  /** The packument came from the upstream registry. */
  upstream: boolean;
  /** Hidden by the release-age cooldown (refuse with 403, not 404). */
  tooYoung: boolean;
}

/** The cooldown that applies to `name` now, or null. */
export function cooldownFor(c: Context, name: string): Cooldown | null {
  const config = c.get("config");
  const cutoff = releaseCutoff(config, "npm", name);
  return cutoff === null ? null : { cutoff, age: describeAge(config.upstream.minReleaseAgeMs.npm!) };
}

function check(versions: Versions, version: string, state: CacheState, c: Context, name: string): VersionCheck {
  const upstream = versions.upstream !== undefined;
  const young = upstream && versions.live.has(version) && publishedTooRecently(versions.upstream, version, cooldownFor(c, name));
  return { live: versions.live.has(version), state, upstream, tooYoung: young };
}

/**
 * Whether `version` is published. A package the tiers call absent is trusted (a publish drops
 * that answer everywhere); a hosted packument that lacks the version is checked at the origin,
 * since the tiers' copy may predate the publish.
 */
export async function isLiveVersion(c: Context, name: string, version: string): Promise<VersionCheck> {
  const known = recent.get(name);
  if (known?.live.has(version)) return check(known, version, "L1-HIT", c, name);
  const served = await c.get("tiers").get(packumentRequest(name));
  if (!served.found) return { live: false, state: served.state, upstream: false, tooYoung: false };
  const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
  let versions = versionsOf(JSON.parse(new TextDecoder().decode(bytes)) as Packument);
  let state = served.state;
  if (!versions.live.has(version) && !versions.upstream) {
    const stored = await new ObjectStore(c.env.BLOBS).readJson<Packument>(packumentObject(name));
    versions = versionsOf(stored?.doc ?? null);
    state = "MISS";
  } else if (!versions.live.has(version)) {
    // A lockfile newer than the tiers' copy (workers/upstream-recheck.ts).
    const doc = await recheckedUpstreamDocument<Packument>(c, upstreamPackumentRef(name), (d) => Object.hasOwn(d.versions, version));
    if (doc?._upstream) versions = versionsOf(doc);
    state = "MISS";
  }
  if (versions.live.size > 0) recent.set(name, versions);
  return check(versions, version, state, c, name);
}

/** A packument was just served: an install's tarball requests that follow need no lookup. */
export function rememberLiveVersions(name: string, doc: Packument): void {
  const versions = versionsOf(doc);
  if (versions.live.size > 0) recent.set(name, versions);
}

/** After a write to the package in this isolate: its next tarball read checks again. */
export function forgetLiveVersions(name: string): void {
  recent.delete(name);
}
