// The hot tier: copies of small, frequently read L1 entries (packument renderings, manifests,
// small tarballs and blobs) in this isolate's memory, in front of L1, as CDNs keep their hottest
// objects in RAM. A hit costs a map lookup instead of a Cache API round trip (locally ~40% of an
// L1 hit's CPU; in production the Cache API's own latency). Same keys as L1, and the same
// epochs (shared/tiers/l1-index.ts): every invalidation that reaches this isolate's L1 drops the
// copy too, and a copy made before one is never served. What may read a key is decided before
// any tier, so a copy is bytes only; public and private responses differ in headers alone.
//
// Admission: an object enters on its HOT_TIER_ADMIT_HITS-th L1 hit within HOT_WINDOW_MS, so a
// key read a few times stays in L1 and only what is hot takes memory. Bound: HOT_TIER_BYTES of
// bodies in all (plus a small per-entry overhead), least recently used out first; objects over
// HOT_TIER_MAX_OBJECT_BYTES never enter. Mutable objects' copies are read again from L1 every
// HOT_TIER_METADATA_TTL, and never served past their L1 entry's own lifetime: other isolates of
// this PoP do not see this one's invalidations (nor it theirs), and the short life bounds how
// long one can serve an old copy. While one request refreshes a copy from L1, the others keep
// getting it (for at most REFRESH_GRACE_MS), so a busy key does not send a herd to L1 each time.
import type { TierSettings } from "../config/cache";
import { ByteLru, RecentSet, regionKey } from "./isolate-state";
import type { ObjectMeta } from "./types";

export const HOT_WINDOW_MS = 10_000;
// Keys, headers and bookkeeping of one entry, counted against the bound with its body.
const ENTRY_OVERHEAD = 512;
// L1 hits counted toward admission: at most this many keys (oldest forgotten first).
const MAX_COUNTED = 10_000;
// How long a copy due for refresh is still served while one request re-reads it from L1.
export const REFRESH_GRACE_MS = 1000;

export interface HotCopy {
  meta: ObjectMeta;
  bytes: Uint8Array;
  /** The key's L1 epoch when it was copied. */
  epoch: number;
  /** When it is read again from L1 (ms); immutable objects: never. */
  until: number;
  /** When its L1 entry expires (ms): never served past that, not even while refreshing. */
  expires: number;
  /** Set when one request went to re-read it from L1. */
  refreshingSince?: number;
  tags: string[];
}

type HotSettings = Pick<TierSettings, "hotTierBytes" | "hotTierMaxObjectBytes" | "hotTierAdmitHits" | "hotTierMetadataTtl" | "l1MetadataTtl">;

const copies = new ByteLru<HotCopy>(0, (c) => c.bytes.byteLength + ENTRY_OVERHEAD);
const l1Hits = new RecentSet<{ count: number; first: number }>(MAX_COUNTED, HOT_WINDOW_MS);

/** The copy of `key` if it is current (made at `epoch`, not expired). */
export function hotCopy(region: string, key: string, epoch: number, settings: HotSettings, now = Date.now()): HotCopy | undefined {
  copies.resize(settings.hotTierBytes);
  if (copies.size === 0) return undefined;
  const id = regionKey(region, key);
  const copy = copies.get(id);
  if (!copy) return undefined;
  if (copy.epoch !== epoch || copy.expires <= now || (copy.refreshingSince !== undefined && now - copy.refreshingSince >= REFRESH_GRACE_MS)) {
    copies.delete(id);
    return undefined;
  }
  if (copy.until > now || copy.refreshingSince !== undefined) return copy;
  // Due: this request re-reads L1 (and copies it again); the others keep this copy meanwhile.
  copy.refreshingSince = now;
  return undefined;
}

/** Counts one L1 hit of `key`; true when this hit should copy it into memory. */
export function countL1Hit(region: string, key: string, size: number, settings: HotSettings, now = Date.now()): boolean {
  if (settings.hotTierBytes <= 0 || size > settings.hotTierMaxObjectBytes || size + ENTRY_OVERHEAD > settings.hotTierBytes) return false;
  const id = regionKey(region, key);
  // A copy due for refresh is copied again on this hit.
  if (copies.peek(id)) return true;
  const seen = l1Hits.get(id, now);
  const fresh = !seen || now - seen.first > HOT_WINDOW_MS;
  const count = fresh ? 1 : seen.count + 1;
  l1Hits.set(id, { count, first: fresh ? now : seen.first }, now);
  return count >= settings.hotTierAdmitHits;
}

/**
 * How long a copy may be served: immutable objects until evicted; mutable ones until
 * HOT_TIER_METADATA_TTL from now (then read again from L1), never past their L1 entry's expiry
 * (`storedAt` + L1_METADATA_TTL). A mutable entry whose storing time is unknown is not copied (null).
 */
export function copyLifetime(immutable: boolean, storedAt: number | undefined, settings: HotSettings, now = Date.now()): { until: number; expires: number } | null {
  if (immutable) return { until: Number.POSITIVE_INFINITY, expires: Number.POSITIVE_INFINITY };
  if (storedAt === undefined) return null;
  const expires = storedAt + settings.l1MetadataTtl * 1000;
  const until = Math.min(now + settings.hotTierMetadataTtl * 1000, expires);
  return until > now ? { until, expires } : null;
}

export function keepHot(region: string, key: string, copy: HotCopy, settings: HotSettings): void {
  copies.resize(settings.hotTierBytes);
  copies.set(regionKey(region, key), copy);
}

/** Keys of `region` whose copies carry one of `tags` or start with `prefix` (purges). */
export function hotKeysSelected(region: string, select: { tags?: string[]; prefix?: string }): string[] {
  if (copies.size === 0 || (!select.prefix && !select.tags?.length)) return [];
  const mine = regionKey(region, "");
  const out: string[] = [];
  for (const [id, copy] of copies) {
    if (!id.startsWith(mine)) continue;
    const key = id.slice(mine.length);
    if ((select.prefix && key.startsWith(select.prefix)) || select.tags?.some((t) => copy.tags.includes(t))) out.push(key);
  }
  return out;
}

/** Drops the copies of `keys` in `region` (an invalidation reached this isolate's L1). */
export function dropHot(region: string, keys: Iterable<string>): void {
  if (copies.size === 0) return;
  for (const key of keys) copies.delete(regionKey(region, key));
}

/** For tests and /_/metrics: entries and bytes held. */
export function hotTierSize(): { entries: number; bytes: number } {
  return { entries: copies.size, bytes: copies.bytes };
}

/** Tests only: empty memory and admission counts. */
export function clearHotTier(): void {
  copies.clear();
  for (const [key] of l1Hits) l1Hits.delete(key);
}
