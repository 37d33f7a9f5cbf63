// Invalidation across regions. A write applies its change in its own region at once, pushes it
// to the other regions' shields right after answering (the fast path, whose lag is the regions'
// distance), and sends one event onto the INVALIDATIONS queue as the backstop that reaches a
// region the push missed; both apply it, after
// that region's PROPAGATION_DELAY_MS in dev, eagerly (delete) or lazily (mark stale and serve
// while one background revalidation runs) as INVALIDATION_STRATEGY says. Events carry the time
// the write committed, so a duplicated or late event never brings back older data.
import type { Config } from "../config";
import { forgetL1 } from "./l1-index";
import { shardFor, shardName, shieldShard } from "./hash-ring";
import type { InvalidationEvent } from "./types";


export interface Change {
  /** Keys the write made stale, in the shields and in L1 (with every rendering of them). */
  keys: string[];
  /**
   * Immutable keys the write created (a new version's tarball): nothing can hold an older copy,
   * so only remembered not-founds of them go, in every region at once; no event carries them.
   */
  appeared?: string[];
  tags?: string[];
  prefix?: string;
  /**
   * Content was removed (unpublish, delete): applied in every region at once rather than when
   * the queue delivers it, since a removal is often urgent (a leaked secret, malware) and rare.
   */
  removal?: boolean;
}

export function newEvent(change: Change, from: string, mode: InvalidationEvent["mode"] = "auto", everyShard = change.removal): InvalidationEvent {
  return {
    id: crypto.randomUUID(),
    version: Date.now(),
    keys: change.keys,
    ...(change.tags?.length ? { tags: change.tags } : {}),
    ...(change.prefix ? { prefix: change.prefix } : {}),
    mode,
    from,
    ...(everyShard ? { everyShard: true } : {}),
  };
}

/**
 * The shards of `region` an event goes to, and whether they pass it on to the replicas they
 * know of. Keys alone: each key's owner, which knows which shards hold replicas of it (they
 * load from it), so a publish asks one shard per key instead of all of them. Tags and prefixes
 * can select keys anywhere, and removals and purges must reach every copy: every shard.
 */
function shardsFor(config: Config, region: string, event: InvalidationEvent): { shards: string[]; forward: boolean } {
  const n = config.tiers.shards;
  if (event.tags?.length || event.prefix || event.everyShard) return { shards: Array.from({ length: n }, (_, i) => shardName(region, i)), forward: false };
  return { shards: [...new Set(event.keys.map((key) => shardFor(region, n, key)))], forward: true };
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
  // One call per shard and mode, carrying every event that shard can hold; each event's lag is
  // recorded by the first shard it goes to, so the region counts it once.
  const calls = new Map<string, { shard: string; mode: "hard" | "soft"; forward: boolean; events: InvalidationEvent[]; lagged: string[] }>();
  for (const [m, list] of byMode) {
    for (const event of list) {
      const { shards, forward } = shardsFor(config, region, event);
      shards.forEach((shard, i) => {
        const id = `${shard}|${m}|${forward}`;
        const call = calls.get(id) ?? calls.set(id, { shard, mode: m, forward, events: [], lagged: [] }).get(id)!;
        call.events.push(event);
        if (i === 0) call.lagged.push(event.id);
      });
    }
  }
  const at = Date.now();
  await Promise.all([...calls.values()].map((c) =>
    shieldShard(env, c.shard).apply(c.events, c.mode, { lag: { at, events: c.lagged }, forward: c.forward })));
  if (opts.l1) {
    for (const event of events) await forgetL1(region, event.keys, { tags: event.tags, prefix: event.prefix, version: event.version });
  }
}

/**
 * Every event in each of `regions` (all of them for the queue consumer) that the event is for,
 * each after its region's delay. Resolves to the regions it could not reach.
 */
export async function deliverEverywhere(env: Cloudflare.Env, config: Config, events: InvalidationEvent[], regions = config.regions): Promise<string[]> {
  const results = await Promise.allSettled(regions.map(async (region) => {
    const mine = events.filter((e) => !e.regions || e.regions.includes(region));
    if (mine.length === 0) return;
    const delay = config.tiers.propagationDelayMs[region] ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (config.tiers.shieldFaultRegions.includes(region)) throw new Error(`${region}'s shields fail (SHIELD_FAULT_REGIONS)`);
    await applyInRegion(env, config, region, mine, { l1: config.devRegionHeader });
  }));
  return regions.filter((_, i) => results[i]!.status === "rejected");
}

/**
 * The fast path after a write: the writer pushes the event to `regions` itself, and only the
 * regions that push missed are left to the queue, the backstop (one send, none when every
 * region was reached). A crash before the push is done leaves those regions the old state until
 * L2_METADATA_TTL + L1_METADATA_TTL, as a lost queue send would.
 */
export async function pushWithBackstop(env: Cloudflare.Env, config: Config, event: InvalidationEvent, regions: string[]): Promise<void> {
  const missed = await deliverEverywhere(env, config, [event], regions).catch(() => regions);
  if (missed.length > 0) await env.INVALIDATIONS.send({ ...event, regions: missed });
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
    await env.INVALIDATIONS.send(event);
  } else {
    await pushWithBackstop(env, config, event, config.regions);
  }
}
