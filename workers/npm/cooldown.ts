// The release-age cooldown (MIN_RELEASE_AGE npm:<age>) on an upstream packument: versions
// published after the cutoff, or whose publish time the upstream did not give, vanish; a
// dist-tag pointing at one is dropped, except `latest`, which moves to the newest version old
// enough; the `pkgedge-cooldown` field says what was hidden and where `latest` went. Hosted
// packages are never hidden: the cooldown guards against what others publish.
import semver from "semver";
import type { Packument, PackumentTime, VersionManifest } from "./packument";

export interface Cooldown {
  /** Versions published after this time (ms) are hidden. */
  cutoff: number;
  /** The policy as configured, for messages ("72h"). */
  age: string;
}

export interface CooldownField {
  minReleaseAge: string;
  hiddenVersions: string[];
  /** Set when `latest` moved: what the upstream tags as latest, and what is served instead. */
  latest?: { upstream: string; served: string | null };
}

/** Whether `version` of an upstream document is too young (or of unknown age) to serve. */
export function tooYoung(doc: Packument, version: string, cooldown: Cooldown | null): boolean {
  return !!doc._upstream && publishedTooRecently(doc.time, version, cooldown);
}

/** By an upstream document's publish times: too young, or no time given (fails closed). */
export function publishedTooRecently(time: PackumentTime | undefined, version: string, cooldown: Cooldown | null): boolean {
  if (!cooldown) return false;
  const published = Date.parse(String(time?.[version] ?? ""));
  return Number.isNaN(published) || published > cooldown.cutoff;
}

export function applyCooldown(doc: Packument, cooldown: Cooldown | null): Packument {
  if (!cooldown || !doc._upstream) return doc;
  const hidden = Object.keys(doc.versions).filter((v) => tooYoung(doc, v, cooldown));
  if (hidden.length === 0) return doc;
  const gone = new Set(hidden);
  const versions: Record<string, VersionManifest> = {};
  for (const [v, m] of Object.entries(doc.versions)) if (!gone.has(v)) versions[v] = m;
  const time = Object.fromEntries(Object.entries(doc.time ?? {}).filter(([k]) => !gone.has(k))) as PackumentTime;
  const tags: Record<string, string> = {};
  for (const [tag, v] of Object.entries(doc["dist-tags"])) if (!gone.has(v)) tags[tag] = v;
  const field: CooldownField = { minReleaseAge: cooldown.age, hiddenVersions: hidden };
  const upstreamLatest = doc["dist-tags"].latest;
  if (upstreamLatest && gone.has(upstreamLatest)) {
    const served = newestStable(Object.keys(versions), upstreamLatest);
    if (served) tags.latest = served;
    field.latest = { upstream: upstreamLatest, served };
  }
  return { ...doc, versions, time, "dist-tags": tags, "pkgedge-cooldown": field };
}

/** The highest version not above the upstream's `latest`, preferring releases over prereleases. */
function newestStable(versions: string[], ceiling: string): string | null {
  const valid = versions.filter((v) => semver.valid(v) && (!semver.valid(ceiling) || semver.lte(v, ceiling)));
  const releases = valid.filter((v) => !semver.prerelease(v));
  return semver.rsort(releases.length ? releases : valid)[0] ?? null;
}
