// Hot keys as seen from this edge isolate. A shard reports each key's recent request rate; when
// the rate (times the number of shards it is spread over) crosses HOT_KEY_THRESHOLD the key is
// spread over HOT_KEY_REPLICAS shards, and it returns to its owner alone once the rate has
// stayed below the threshold for HOT_KEY_COOLDOWN_SECONDS.
import { RecentSet, regionKey } from "./isolate-state";
import type { TierSettings } from "../config";

// At most 1,000 hot keys per isolate (oldest forgotten first); a forgotten key only goes back to
// its owner shard until the shard reports it hot again.
const hot = new RecentSet<true>(1_000, 10_000);

export function isHot(region: string, key: string, now = Date.now()): boolean {
  return hot.has(regionKey(region, key), now);
}

/** Updates the key's state from a shard's reported rate; `spread` is how many shards share it. */
export function observeRate(region: string, key: string, rate: number | undefined, spread: number, settings: TierSettings, now = Date.now()): void {
  if (rate === undefined || settings.hotKeyReplicas <= 1) return;
  if (rate * spread < settings.hotKeyThreshold) return;
  hot.set(regionKey(region, key), true, now, settings.hotKeyCooldownSeconds * 1000);
}
