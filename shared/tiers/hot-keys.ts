// Hot keys as seen from this edge isolate. A shard reports each key's recent request rate; when
// the rate (times the number of shards it is spread over) crosses HOT_KEY_THRESHOLD the key is
// spread over HOT_KEY_REPLICAS shards, and it returns to its owner alone once the rate has
// stayed below the threshold for HOT_KEY_COOLDOWN_SECONDS.
import type { TierSettings } from "./settings";

const MAX_KEYS = 1_000;
const hot = new Map<string, number>(); // region\nkey -> hot until (ms)

export function isHot(region: string, key: string, now = Date.now()): boolean {
  const id = `${region}\n${key}`;
  const until = hot.get(id);
  if (until === undefined) return false;
  if (until > now) return true;
  hot.delete(id);
  return false;
}

/** Updates the key's state from a shard's reported rate; `spread` is how many shards share it. */
export function observeRate(region: string, key: string, rate: number | undefined, spread: number, settings: TierSettings, now = Date.now()): void {
  if (rate === undefined || settings.hotKeyReplicas <= 1) return;
  if (rate * spread < settings.hotKeyThreshold) return;
  if (hot.size >= MAX_KEYS && !hot.has(`${region}\n${key}`)) hot.clear();
  hot.set(`${region}\n${key}`, now + settings.hotKeyCooldownSeconds * 1000);
}
