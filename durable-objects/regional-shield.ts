// RegionalShield: the L2 cache of one region, one instance per shard of the consistent-hash ring.
// It keeps metadata and small objects in SQLite, collapses concurrent misses for a key into one
// origin read, sends the edge straight to the origin for objects too large to keep (their bytes
// never cross the Durable Object), remembers "not found" briefly, serves stale copies while
// revalidating (lazy invalidation) or while the origin is failing, and as a hot key's replica
// loads from the key's owner shard instead of the origin.
import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../shared/config";
import { RegistryError } from "../shared/errors";
import { ObjectStore, type OriginObject } from "../shared/origin";
import { upstreamOf } from "../shared/upstream/policy";
import type { MirrorAnswer, UpstreamCall, UpstreamRef } from "../shared/upstream/types";
import { shieldShard } from "../shared/tiers/hash-ring";
import { SingleFlight } from "../shared/tiers/isolate-state";
import type { InvalidationEvent, ObjectMeta, ShieldAnswer, ShieldLoad, ShieldPolicy, ShieldStats, TierRequest } from "../shared/tiers/types";
import { RequestRates } from "./request-rates";
import { ShieldStorage, type StoredObject } from "./shield-storage";
import { upstreamMirror } from "./upstream-mirror";

export type ShieldStub = DurableObjectStub<RegionalShield>;

type Loaded = ShieldLoad;

// Origin reads in flight per shard; past this many, reads run uncollapsed.
const MAX_LOADS = 10_000;

/**
 * The newest change version heard of per key: a load that began before it must not store what it
 * read. Bounded at MAX_KEYS; on overflow it forgets every key but raises a floor to the present,
 * so every load already running is treated as predating a change (it serves, but stores nothing).
 */
class ChangeLog {
  private static readonly MAX_KEYS = 50_000;
  private readonly versions = new Map<string, number>();
  private floor = 0;

  record(key: string, version: number): void {
    if (this.versions.size >= ChangeLog.MAX_KEYS && !this.versions.has(key)) {
      this.versions.clear();
      this.floor = Date.now();
    }
    this.versions.set(key, Math.max(this.versions.get(key) ?? 0, version));
  }

  newest(key: string): number {
    return Math.max(this.floor, this.versions.get(key) ?? 0);
  }
}

export class RegionalShield extends DurableObject<Cloudflare.Env> {
  private readonly storage: ShieldStorage;
  private readonly origin: ObjectStore;
  /** Origin reads in progress, joinable by concurrent requests for the same key. */
  private readonly loads = new SingleFlight<Promise<Loaded>>(MAX_LOADS);
  private readonly changes = new ChangeLog();
  private readonly rates = new RequestRates();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.storage = new ShieldStorage(ctx.storage.sql);
    this.origin = new ObjectStore(env.BLOBS);
  }

  /** Answers one tier request: from storage, by joining a load in flight, or from the origin. */
  async get(req: TierRequest, policy: ShieldPolicy): Promise<ShieldAnswer> {
    if (policy.shieldFault) throw new RegistryError("ORIGIN_UNAVAILABLE", `shield ${policy.region} unavailable (injected fault)`, { detail: { tier: "shield" } });
    // A replica loading from this owner keeps its copy at most this long (stale-if-error
    // included): until then, changes to the key are passed on to it.
    if (req.replica) this.storage.noteReplica(req.key, req.replica, req.immutable ? 0 : Date.now() + (policy.ttlSeconds + policy.staleIfErrorSeconds) * 1000);
    const rate = this.rates.hit(req.key);
    const answer = await this.lookup(req, policy);
    answer.rate = rate;
    return answer;
  }

  /** Loads `req` into storage if it is not there yet (prefetch and warming); true if now stored. */
  async warm(req: TierRequest, policy: ShieldPolicy): Promise<boolean> {
    if (this.storage.has(req.key)) return true;
    return (await this.lookup(req, policy)).kind !== "missing";
  }

  /**
   * Applies invalidation events to this shard: hard deletes or soft (stale) marks. `lag.events`:
   * the events whose lag this shard records for its region (each is counted once there).
   * `forward`: this shard is the keys' owner, and passes the events on to the shards it knows
   * hold replicas of them (a hard change ends those copies, so they are forgotten here too).
   */
  async apply(events: InvalidationEvent[], mode: "hard" | "soft", opts: { lag?: { at: number; events: string[] }; forward?: boolean } = {}): Promise<number> {
    let touched = 0;
    const replicas = new Map<string, InvalidationEvent[]>();
    for (const event of events) {
      const keys = this.storage.invalidate({ keys: event.keys, tags: event.tags, prefix: event.prefix }, event.version, mode);
      for (const key of new Set([...event.keys, ...keys])) {
        this.changes.record(key, event.version);
        // A read that began before the change must not be joined by later requests.
        this.loads.forgetStartedBy(key, event.version);
      }
      touched += keys.length;
      if (opts.lag?.events.includes(event.id)) this.storage.recordLag(Math.max(0, opts.lag.at - event.version));
      if (!opts.forward) continue;
      for (const shard of this.storage.replicasOf(event.keys, Date.now(), mode === "hard")) replicas.set(shard, [...(replicas.get(shard) ?? []), event]);
    }
    await Promise.all([...replicas].map(([shard, list]) => shieldShard(this.env, shard).apply(list, mode)));
    return touched;
  }

  /**
   * Drops remembered "not found" answers at once, wherever the change has not arrived yet: a
   * just-published name must never be hidden while the change travels.
   */
  forgetNotFound(keys: string[], version: number): number {
    for (const key of keys) {
      // A read that began before the write must neither be joined nor store its "not found".
      this.changes.record(key, version);
      this.loads.forgetStartedBy(key, version);
    }
    return this.storage.forgetNegative(keys);
  }

  /** Counts upstream requests for the metrics: its own misses', and those the edge made for a key it owns. */
  countUpstream(calls: UpstreamCall[]): void {
    for (const call of calls) this.storage.count(`upstream|${call.protocol}|${call.kind}|${call.status}`);
  }

  /** The most requested keys of this shard and how to load them (for `/_/warm`). */
  topRequests(limit: number): Array<{ request: TierRequest; requests: number }> {
    return this.storage.topRequests(limit);
  }

  stats(): ShieldStats {
    return this.storage.stats();
  }

  /**
   * The lookup state machine: a fresh copy answers L2-HIT; a remembered not-found NEGATIVE; a
   * soft-invalidated copy L2-STALE while one background revalidation runs; otherwise the request
   * joins a load in flight (COALESCED) or starts one: MISS, or REVALIDATED when an expired copy
   * was checked against the origin. When the origin fails, the last good copy is served L2-STALE
   * within STALE_IF_ERROR_SECONDS of its expiry.
   */
  private async lookup(req: TierRequest, policy: ShieldPolicy): Promise<ShieldAnswer> {
    const now = Date.now();
    const stored = this.storage.read(req.key, now);
    if (stored?.negative) {
      if (stored.fresh) {
        this.storage.count("negative_hits");
        return { kind: "missing", state: "NEGATIVE" };
      }
    } else if (stored && stored.fresh && !stored.stale) {
      this.storage.count("hits");
      return { kind: "bytes", state: "L2-HIT", meta: stored.meta, bytes: stored.bytes };
    } else if (stored?.stale) {
      this.storage.count("stale_served");
      this.ctx.waitUntil(this.revalidate(req, policy, stored).catch(() => {}));
      return { kind: "bytes", state: "L2-STALE", meta: stored.meta, bytes: stored.bytes };
    }

    const usable = stored && !stored.negative ? stored : null;
    let flight: { promise: Promise<Loaded>; joined: boolean };
    let loaded: Loaded;
    try {
      flight = this.loads.run(req.key, () => this.load(req, policy, usable));
      if (flight.joined) this.storage.count("coalesced");
      loaded = await flight.promise;
    } catch (err) {
      this.storage.count("origin_errors");
      // stale-if-error (RFC 5861): the last good copy beats an error while it is recent enough.
      if (usable && now <= usable.expiresAt + policy.staleIfErrorSeconds * 1000) {
        this.storage.count("stale_served");
        return { kind: "bytes", state: "L2-STALE", meta: usable.meta, bytes: usable.bytes };
      }
      // Tagged as the origin's failure so the edge does not count it against this shield's health.
      const message = err instanceof RegistryError ? err.message : "origin unavailable, try again";
      throw new RegistryError("ORIGIN_UNAVAILABLE", message, { retryAfter: 1, detail: { tier: "origin" }, cause: err });
    }
    if (loaded.kind === "missing") this.storage.count("misses");
    return { ...loaded, state: flight.joined ? "COALESCED" : usable ? "REVALIDATED" : "MISS" };
  }

  private async revalidate(req: TierRequest, policy: ShieldPolicy, stale: StoredObject): Promise<void> {
    if (this.loads.join(req.key)) return;
    await this.loads.run(req.key, () => this.load(req, policy, stale)).promise;
  }

  private async load(req: TierRequest, policy: ShieldPolicy, stale: StoredObject | null): Promise<Loaded> {
    const fetchedAt = Date.now();
    const extras = { fetchedAt, tags: req.tags, request: { ...req, via: undefined, replica: undefined } };
    // Store only what was read after every change to the key the shield has heard of.
    const current = () => fetchedAt > this.changes.newest(req.key);

    if (req.via) return this.loadFromOwner(req, policy, extras, current);

    this.storage.count(req.kind === "blob" ? "origin_blob" : "origin_metadata");
    await injectFaults(policy);
    // One more byte than the shield keeps: enough to tell a small object from a large one.
    const firstBytes = policy.maxStoredBytes + 1;
    // Hosted content first, always: an upstream copy is only for names with nothing here.
    let obj: OriginObject | "unchanged" | null = stale && !stale.meta.upstream
      ? await this.origin.readIfChanged(req.originKey, stale.meta.etag)
      : await this.origin.read(req.originKey, { firstBytes });
    let upstream: ObjectMeta["upstream"];
    let ttlSeconds = policy.ttlSeconds;
    if (obj === null && req.upstream) {
      const config = loadConfig(this.env);
      if (upstreamOf(config, req.upstream.protocol, req.upstream.name)) {
        const mirrored = await this.fromUpstream(req.upstream);
        if (mirrored.state !== "missing") {
          upstream = mirrored.state === "stale" ? "stale" : "fresh";
          ttlSeconds = Math.min(ttlSeconds, config.upstream.metadataTtlSeconds);
          obj = stale?.meta.upstream
            ? await this.origin.readIfChanged(req.upstream.originKey, stale.meta.etag)
            : await this.origin.read(req.upstream.originKey, { firstBytes });
          if (obj === null && upstream === "stale") throw unavailableUpstream(mirrored);
        }
      }
    }
    const expiresAt = req.immutable ? 0 : fetchedAt + ttlSeconds * 1000;
    const marked = (meta: ObjectMeta): ObjectMeta => {
      const { upstream: _, ...rest } = meta;
      return upstream ? { ...rest, upstream } : rest;
    };
    if (obj === "unchanged") {
      const meta = marked({ ...stale!.meta, fetchedAt });
      if (current()) this.storage.touchExpiry(req.key, expiresAt, fetchedAt, meta);
      return { kind: "bytes", meta, bytes: stale!.bytes };
    }
    if (!obj) {
      if (current()) this.storage.writeNegative(req.key, fetchedAt + policy.negativeTtlSeconds * 1000, extras);
      return { kind: "missing" };
    }
    const meta: ObjectMeta = marked({ size: obj.size, etag: obj.etag, contentType: obj.contentType, fetchedAt, ...(obj.digest ? { digest: obj.digest } : {}) });
    if (!obj.complete || obj.size > policy.maxStoredBytes) {
      // Bytes nobody needs (up to SHIELD_MAX_OBJECT_BYTES): cancelled, not read; workerd logs "pump canceled", harmless.
      await obj.body.cancel();
      return { kind: "stream", meta, originKey: obj.key };
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    if (current()) this.storage.write(req.key, meta, bytes, expiresAt, policy.capacityBytes, extras);
    return { kind: "bytes", meta, bytes };
  }

  /**
   * Asks the object's mirror (one per object worldwide) to make the origin's upstream copy
   * current, and counts the upstream requests that took. No copy and no upstream: a 503, never
   * a 404, so installers neither give up nor fall back to another index.
   */
  private async fromUpstream(ref: UpstreamRef): Promise<MirrorAnswer> {
    const answer = (await upstreamMirror(this.env, ref.originKey).ensure(ref)) as MirrorAnswer;
    this.countUpstream(answer.calls);
    if (answer.state === "unavailable") throw unavailableUpstream(answer);
    return answer;
  }

  /** A hot key's replica fills itself from the owner shard, so replication costs no origin reads. */
  private async loadFromOwner(req: TierRequest, policy: ShieldPolicy, extras: { fetchedAt: number; tags?: string[]; request: TierRequest },
    current: () => boolean): Promise<Loaded> {
    const owner = shieldShard(this.env, req.via!);
    const answer = (await owner.get({ ...req, via: undefined }, policy)) as ShieldAnswer;
    if (answer.kind === "missing") return { kind: "missing" };
    if (answer.kind === "stream") return { kind: "stream", meta: answer.meta, originKey: answer.originKey };
    const expiresAt = req.immutable ? 0 : extras.fetchedAt + policy.ttlSeconds * 1000;
    if (current() && answer.state !== "L2-STALE") this.storage.write(req.key, answer.meta, answer.bytes, expiresAt, policy.capacityBytes, extras);
    return { kind: "bytes", meta: answer.meta, bytes: answer.bytes };
  }
}

function unavailableUpstream(answer: MirrorAnswer): RegistryError {
  return new RegistryError("ORIGIN_UNAVAILABLE", answer.message ?? "upstream registry unavailable and nothing cached; try again", { retryAfter: answer.retryAfter ?? 1 });
}

/** Dev-only origin faults (zero in production): added latency, then a failure at the given rate. */
async function injectFaults(policy: ShieldPolicy): Promise<void> {
  if (policy.originLatencyMs > 0) await new Promise((r) => setTimeout(r, policy.originLatencyMs));
  if (policy.originFaultRate > 0 && Math.random() < policy.originFaultRate) {
    throw new RegistryError("ORIGIN_UNAVAILABLE", "origin unavailable (injected fault)", { retryAfter: 1 });
  }
}
