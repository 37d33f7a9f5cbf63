// Invalidation across regions. A write applies its change in its own region at once, pushes it
// to the other regions' shields right after answering (the fast path, whose lag is the regions'
// distance), and sends one event onto the INVALIDATIONS queue as the backstop that reaches a
// region the push missed; both apply it, after
// that region's PROPAGATION_DELAY_MS in dev, eagerly (delete) or lazily (mark stale and serve
// while one background revalidation runs) as INVALIDATION_STRATEGY says. Events carry the time
// the write committed, so a duplicated or late event never brings back older data.
import type { Config } from "../config";
import { forgetL1 } from "./l1-index";
import { shardName, shieldShard } from "./hash-ring";
import type { InvalidationEvent } from "./types";


export interface Change {
  /** Keys the write made stale, in the shields and in L1 (with every rendering of them). */
  keys: string[];
  tags?: string[];
  prefix?: string;
  /**
   * Content was removed (unpublish, delete): applied in every region at once rather than when
   * the queue delivers it, since a removal is often urgent (a leaked secret, malware) and rare.
   */
  removal?: boolean;
}

export function newEvent(change: Change, from: string, mode: InvalidationEvent["mode"] = "auto"): InvalidationEvent {
  return {
    id: crypto.randomUUID(),
    version: Date.now(),
    keys: change.keys,
    ...(change.tags?.length ? { tags: change.tags } : {}),
    ...(change.prefix ? { prefix: change.prefix } : {}),
    mode,
    from,
  };
}

function shards(env: Cloudflare.Env, config: Config, region: string) {
  // Every shard, not only the key's owner: hot keys have replicas, and tags and prefixes can
  // select keys anywhere on the ring.
  return Array.from({ length: config.tiers.shards }, (_, i) => shieldShard(env, shardName(region, i)));
}

/**
 * Applies events in one region: its shields, and its L1 where this process can reach it (the
 * writer's own PoP, or every region in dev where one process plays them all). Other PoPs' L1
 * copies of mutable metadata expire within L1_METADATA_TTL, or sooner by tag purge.
 */
export async function applyInRegion(env: Cloudflare.Env, config: Config, region: string, events: InvalidationEvent[],
  opts: { mode?: "hard" | "soft"; l1: boolean }): Promise<void> {
  if (events.length === 0) return;
  const mode = opts.mode ?? (config.tiers.strategy[region] === "lazy" ? "soft" : "hard");
  const byMode = new Map<"hard" | "soft", InvalidationEvent[]>();
  for (const event of events) {
    const m = event.mode === "auto" ? mode : event.mode;
    byMode.set(m, [...(byMode.get(m) ?? []), event]);
  }
  const stubs = shards(env, config, region);
  const at = Date.now();
  await Promise.all([...byMode].flatMap(([m, list]) => stubs.map((stub, i) => stub.apply(list, m, i === 0 ? { at } : undefined))));
  if (opts.l1) {
    for (const event of events) await forgetL1(region, event.keys, { tags: event.tags, prefix: event.prefix, version: event.version });
  }
}

/**
 * Every event in each of `regions` (all of them for the queue consumer), each after its
 * region's delay.
 */
export async function deliverEverywhere(env: Cloudflare.Env, config: Config, events: InvalidationEvent[], regions = config.regions): Promise<void> {
  await Promise.all(regions.map(async (region) => {
    const delay = config.tiers.propagationDelayMs[region] ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await applyInRegion(env, config, region, events, { l1: config.devRegionHeader });
  }));
}

/**
 * A change found away from any request's region (an upstream mirror saw the upstream change):
 * removals apply in every region now, other changes after each region's delay, with the queue
 * as the backstop either way.
 */
export async function invalidateEverywhere(env: Cloudflare.Env, config: Config, change: Change, from: string): Promise<void> {
  const event = newEvent(change, from);
  if (change.removal) {
    await Promise.all(config.regions.map((r) => applyInRegion(env, config, r, [event], { mode: "hard", l1: config.devRegionHeader })));
  } else {
    await deliverEverywhere(env, config, [event]);
  }
  await env.INVALIDATIONS.send(event);
}
