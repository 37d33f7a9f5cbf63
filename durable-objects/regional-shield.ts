// RegionalShield: the L2 cache of one region, one instance per shard of the consistent-hash ring.
// It keeps metadata and small objects in SQLite, collapses concurrent misses for a key into one
// origin read, and streams large objects through to every waiter without storing them.
import { DurableObject } from "cloudflare:workers";
import { ObjectStore, type OriginObject } from "../shared/origin";
import type { ObjectMeta, ShieldAnswer, ShieldPolicy, ShieldStats, TierRequest } from "../shared/tiers/types";
import { Broadcast } from "./broadcast";
import { ShieldStorage } from "./shield-storage";

type Loaded =
  | { found: false }
  | { found: true; meta: ObjectMeta; bytes: Uint8Array }
  | { found: true; meta: ObjectMeta; broadcast: Broadcast };

export class RegionalShield extends DurableObject<Cloudflare.Env> {
  private readonly storage: ShieldStorage;
  private readonly origin: ObjectStore;
  private readonly inflight = new Map<string, Promise<Loaded>>();
  /** Bumped by invalidate(): a load that started before it must not store what it read. */
  private readonly generations = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.storage = new ShieldStorage(ctx.storage.sql);
    this.origin = new ObjectStore(env.BLOBS);
  }

  /** Answers one tier request: from storage, by joining a load in flight, or from the origin. */
  async get(req: TierRequest, policy: ShieldPolicy): Promise<ShieldAnswer> {
    const now = Date.now();
    const stored = this.storage.read(req.key, now);
    if (stored && stored.fresh) {
      this.storage.count("hits");
      return { found: true, state: "L2-HIT", meta: stored.meta, body: stored.bytes };
    }

    const pending = this.inflight.get(req.key);
    if (pending) {
      this.storage.count("coalesced");
      return this.answer(await pending, "COALESCED", req, policy);
    }

    const load = this.load(req, policy, stored ? { meta: stored.meta, bytes: stored.bytes } : null);
    this.inflight.set(req.key, load);
    const forget = () => {
      if (this.inflight.get(req.key) === load) this.inflight.delete(req.key);
    };
    let loaded: Loaded;
    try {
      loaded = await load;
    } catch (err) {
      forget();
      throw err;
    }
    // A broadcast stays joinable until its stream ends; stored objects are served from SQLite.
    if ("broadcast" in loaded) void loaded.broadcast.ended.then(forget);
    else forget();
    return this.answer(loaded, stored ? "REVALIDATED" : "MISS", req, policy);
  }

  /** Drops keys so the next request reads the origin again. Returns how many were stored. */
  invalidate(keys: string[]): number {
    let removed = 0;
    for (const key of keys) {
      this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
      this.inflight.delete(key);
      removed += this.storage.delete(key);
    }
    return removed;
  }

  stats(): ShieldStats {
    return this.storage.stats();
  }

  private answer(loaded: Loaded, state: ShieldAnswer["state"], req: TierRequest, policy: ShieldPolicy): ShieldAnswer | Promise<ShieldAnswer> {
    if (!loaded.found) {
      this.storage.count("misses");
      return { found: false, state };
    }
    if ("bytes" in loaded) return { found: true, state, meta: loaded.meta, body: loaded.bytes };
    const stream = loaded.broadcast.subscribe();
    if (stream) return { found: true, state, meta: loaded.meta, body: stream };
    // Too late to share this read: read the origin again rather than buffer a large object.
    return this.readThrough(req, policy);
  }

  private async readThrough(req: TierRequest, policy: ShieldPolicy): Promise<ShieldAnswer> {
    const loaded = await this.load(req, policy, null);
    return this.answer(loaded, "MISS", req, policy);
  }

  private async load(req: TierRequest, policy: ShieldPolicy, stale: { meta: ObjectMeta; bytes: Uint8Array } | null): Promise<Loaded> {
    const generation = this.generations.get(req.key) ?? 0;
    this.storage.count(req.kind === "blob" ? "origin_blob" : "origin_metadata");
    const expiresAt = req.immutable ? 0 : Date.now() + policy.ttlSeconds * 1000;
    let obj: OriginObject | "unchanged" | null;
    if (stale) {
      obj = await this.origin.readIfChanged(req.originKey, stale.meta.etag);
      if (obj === "unchanged") {
        this.storage.touchExpiry(req.key, expiresAt);
        return { found: true, meta: stale.meta, bytes: stale.bytes };
      }
    } else {
      obj = await this.origin.read(req.originKey);
    }
    if (!obj) {
      this.storage.delete(req.key);
      return { found: false };
    }
    const meta: ObjectMeta = { size: obj.size, etag: obj.etag, contentType: obj.contentType, ...(obj.digest ? { digest: obj.digest } : {}) };
    if (obj.size > policy.maxStoredBytes) {
      return { found: true, meta, broadcast: new Broadcast(obj.body) };
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    if ((this.generations.get(req.key) ?? 0) === generation) this.storage.write(req.key, meta, bytes, expiresAt, policy.capacityBytes);
    return { found: true, meta, bytes };
  }
}
