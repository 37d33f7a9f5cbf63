// What this isolate knows about L1 entries, since the Cache API cannot list them: a per-key
// epoch, so a fill that began before an invalidation can neither be joined nor land after it;
// the renderings made of stored objects, so invalidating an object drops every rendering of it;
// and the tags of the keys it filled, so a purge by tag or prefix can find them. Whatever drops
// an L1 key here drops its copy in the hot tier (shared/tiers/hot-tier.ts) too.
import { EdgeCache, NEGATIVE } from "./edge-cache";
import { dropHot, hotKeysSelected } from "./hot-tier";
import { RecentSet, regionKey } from "./isolate-state";

/**
 * Per-key epochs, bounded at MAX_EPOCHS keys. Epochs come from one counter and a key without an
 * entry reads as the counter's value at the last clear, so clearing the map can only make a fill
 * skip, never let a stale one through. Each entry also keeps the newest change version that
 * bumped it.
 */
const MAX_EPOCHS = 50_000;
const epochs = new Map<string, { epoch: number; version: number }>();
let epochCounter = 0;
let epochFloor = 0;

/**
 * Renderings are kept in L1 under `<object key>|<suffix>` (a packument for one host and form,
 * say). The suffixes this isolate has rendered are few (forms x hosts x encodings), kept per
 * family of keys (`npm:packument`, `oci:tag`: a key up to its second colon, so a tarball is
 * never asked for a packument's renderings) and bounded at MAX_RENDERINGS in all: invalidating
 * an object drops that object's key with every suffix known for its family, which also reaches
 * renderings other isolates of this PoP filled. A suffix past the bound is served without an L1
 * copy rather than left where no invalidation could find it.
 */
const MAX_RENDERINGS = 64;
const renderings = new Map<string, Set<string>>();
let renderingCount = 0;

function familyOf(key: string): string {
  const first = key.indexOf(":");
  const second = first < 0 ? -1 : key.indexOf(":", first + 1);
  return second < 0 ? key : key.slice(0, second);
}

/**
 * L1 keys this isolate filled, with their tags and when their content was read from the origin
 * (a copy read after a change already has it). Best effort and bounded at 20,000 (oldest
 * forgotten first): it serves purges by tag or prefix in dev; production purges by tag through
 * Cloudflare's API.
 */
const filled = new RecentSet<{ tags: string[]; fetchedAt: number }>(20_000, Number.POSITIVE_INFINITY);

/** The L1 key of one rendering of an object, or null when no more renderings can be tracked. */
export function renderingKey(key: string, suffix: string): string | null {
  const family = familyOf(key);
  let known = renderings.get(family);
  if (!known?.has(suffix)) {
    if (renderingCount >= MAX_RENDERINGS) return null;
    if (!known) renderings.set(family, (known = new Set()));
    known.add(suffix);
    renderingCount++;
  }
  return `${key}|${suffix}`;
}

/** The keys with every rendering of them this isolate knows of. */
function withRenderings(keys: Iterable<string>): Set<string> {
  const all = new Set<string>();
  for (const key of keys) {
    all.add(key);
    for (const suffix of renderings.get(familyOf(key)) ?? []) all.add(`${key}|${suffix}`);
  }
  return all;
}

export function epochOf(region: string, key: string): number {
  return epochs.get(regionKey(region, key))?.epoch ?? epochFloor;
}

/**
 * May a fill that began at `epoch` land? Yes if nothing invalidated the key since, or if its
 * content was read from the origin after every change that did (a late event must not throw
 * away a copy that already has the change).
 */
export function fillMayLand(region: string, key: string, epoch: number, fetchedAt: number | undefined): boolean {
  const entry = epochs.get(regionKey(region, key));
  const current = entry?.epoch ?? epochFloor;
  if (current === epoch) return true;
  return entry !== undefined && fetchedAt !== undefined && fetchedAt > entry.version;
}

export function rememberFill(region: string, key: string, tags: string[] = [], fetchedAt = 0): void {
  filled.set(regionKey(region, key), { tags, fetchedAt });
}

/** Drops remembered "not found" entries for these keys (and their renderings) from a region's L1. */
export async function forgetNegativeL1(region: string, keys: string[]): Promise<void> {
  const l1 = await EdgeCache.open(region);
  await Promise.all([...withRenderings(keys)].map(async (key) => {
    if ((await l1.match(key)) === NEGATIVE) await l1.delete(key);
  }));
}

/**
 * Drops keys (with their renderings, and keys filled with one of `tags` or under `prefix`) from
 * a region's L1, except copies this isolate knows were read from the origin after `version`
 * (they have the change).
 */
export async function forgetL1(region: string, keys: string[], select: { tags?: string[]; prefix?: string; version?: number } = {}): Promise<void> {
  const all = withRenderings(keys);
  const mine = regionKey(region, "");
  if (select.prefix || select.tags?.length) {
    for (const [id, { tags }] of filled) {
      if (!id.startsWith(mine)) continue;
      const key = id.slice(mine.length);
      if ((select.prefix && key.startsWith(select.prefix)) || select.tags?.some((t) => tags.includes(t))) all.add(key);
    }
    for (const key of hotKeysSelected(region, select)) all.add(key);
  }
  if (select.version !== undefined) {
    for (const key of all) if ((filled.get(regionKey(region, key))?.fetchedAt ?? 0) > select.version) all.delete(key);
  }
  if (epochs.size > MAX_EPOCHS) {
    epochs.clear();
    epochFloor = ++epochCounter;
  }
  const version = select.version ?? Number.POSITIVE_INFINITY;
  for (const key of all) {
    const id = regionKey(region, key);
    const previous = epochs.get(id)?.version ?? 0;
    epochs.set(id, { epoch: ++epochCounter, version: Math.max(previous, version) });
    filled.delete(id);
  }
  dropHot(region, all);
  const l1 = await EdgeCache.open(region);
  await Promise.all([...all].map((k) => l1.delete(k)));
}
