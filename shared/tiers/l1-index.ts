// What this isolate knows about L1 entries: a per-key epoch, so a fill that began before an
// invalidation can neither be joined nor land after it, and the tags of the keys it filled, so
// a purge by tag or prefix can find them (the Cache API cannot list its entries).
import { EdgeCache, NEGATIVE } from "./edge-cache";

// Epochs come from one counter, and a forgotten key reads as the counter's value at the last
// clear, so bounding the map can only make a fill skip, never let a stale one through. Each
// also keeps the newest change version that bumped it.
const epochs = new Map<string, { epoch: number; version: number }>();
let epochCounter = 0;
let epochFloor = 0;
const MAX_EPOCHS = 50_000;

// region -> L1 key -> its tags, when its content was read from the origin, and the shield key it
// was rendered from (a packument rendering's L1 key differs from its shield key, and a purge by
// the shield key must reach it too); bounded, best effort: production purges by tag through Cloudflare.
const filled = new Map<string, Map<string, { tags: string[]; fetchedAt: number; base?: string }>>();
const MAX_FILLED = 20_000;

const id = (region: string, key: string) => `${region}\n${key}`;

export function epochOf(region: string, key: string): number {
  return epochs.get(id(region, key))?.epoch ?? epochFloor;
}

/**
 * May a fill that began at `epoch` land? Yes if nothing invalidated the key since, or if its
 * content was read from the origin after every change that did (a late event must not throw
 * away a copy that already has the change).
 */
export function fillMayLand(region: string, key: string, epoch: number, fetchedAt: number | undefined): boolean {
  const entry = epochs.get(id(region, key));
  const current = entry?.epoch ?? epochFloor;
  if (current === epoch) return true;
  return entry !== undefined && fetchedAt !== undefined && fetchedAt > entry.version;
}

export function rememberFill(region: string, key: string, tags: string[] = [], fetchedAt = 0, base?: string): void {
  let keys = filled.get(region);
  if (!keys) {
    keys = new Map();
    filled.set(region, keys);
  }
  if (keys.size >= MAX_FILLED) keys.clear();
  keys.set(key, { tags, fetchedAt, ...(base !== undefined && base !== key ? { base } : {}) });
}

/** Drops remembered "not found" entries for these keys from a region's L1, leaving the rest. */
export async function forgetNegativeL1(region: string, keys: string[]): Promise<void> {
  const l1 = await EdgeCache.open(region);
  await Promise.all(keys.map(async (key) => {
    if ((await l1.match(key)) === NEGATIVE) await l1.delete(key);
  }));
}

/**
 * Drops keys (with the renderings made from them, and keys filled with one of `tags` or under
 * `prefix`) from a region's L1, except copies this isolate knows were read from the origin after
 * `version` (they have the change).
 */
export async function forgetL1(region: string, keys: string[], select: { tags?: string[]; prefix?: string; version?: number } = {}): Promise<void> {
  const all = new Set(keys);
  const known = filled.get(region);
  if (known) {
    const bases = new Set(keys);
    for (const [key, { tags, base }] of known) {
      if ((base !== undefined && bases.has(base)) || (select.prefix && key.startsWith(select.prefix)) || select.tags?.some((t) => tags.includes(t))) all.add(key);
    }
  }
  if (known && select.version !== undefined) {
    for (const key of all) if ((known.get(key)?.fetchedAt ?? 0) > select.version) all.delete(key);
  }
  if (epochs.size > MAX_EPOCHS) {
    epochs.clear();
    epochFloor = ++epochCounter;
  }
  const version = select.version ?? Number.POSITIVE_INFINITY;
  for (const key of all) {
    const previous = epochs.get(id(region, key))?.version ?? 0;
    epochs.set(id(region, key), { epoch: ++epochCounter, version: Math.max(previous, version) });
    known?.delete(key);
  }
  const l1 = await EdgeCache.open(region);
  await Promise.all([...all].map((k) => l1.delete(k)));
}
