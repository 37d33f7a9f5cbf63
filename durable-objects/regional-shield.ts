// RegionalShield: the L2 cache of one region, one instance per shard of the consistent-hash ring.
// It keeps metadata and small objects in SQLite, collapses concurrent misses for a key into one
// origin read, sends the edge straight to the origin for objects too large to keep (their bytes
// never cross the Durable Object), remembers "not found" briefly,
// serves stale copies while revalidating (lazy invalidation) or while the origin is failing, and
// as a hot key's replica loads from the key's owner shard instead of the origin.
import { DurableObject } from "cloudflare:workers";
import { RegistryError } from "../shared/errors";
import { ObjectStore, type OriginObject } from "../shared/origin";
import type { InvalidationEvent, ObjectMeta, ShieldAnswer, ShieldPolicy, ShieldStats, TierRequest } from "../shared/tiers/types";
import { RequestRates } from "./request-rates";
import { ShieldStorage, type StoredObject } from "./shield-storage";

type ShieldStub = DurableObjectStub<RegionalShield>;

type Loaded =
  | { found: false }
  | { found: true; meta: ObjectMeta; bytes: Uint8Array }
  | { found: true; meta: ObjectMeta; direct: string };

export class RegionalShield extends DurableObject<Cloudflare.Env> {
  private readonly storage: ShieldStorage;
  private readonly origin: ObjectStore;
  /** Origin reads in progress, joinable by concurrent requests for the same key. */
  private readonly inflight = new Map<string, { load: Promise<Loaded>; startedAt: number }>();
  /** Newest change version seen per key: a load that began before it must not store what it read. */
  private readonly changes = new Map<string, number>();
  private readonly rates = new RequestRates();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.storage = new ShieldStorage(ctx.storage.sql);
    this.origin = new ObjectStore(env.BLOBS);
  }

  /** Answers one tier request: from storage, by joining a load in flight, or from the origin. */
  async get(req: TierRequest, policy: ShieldPolicy): Promise<ShieldAnswer> {
    if (policy.shieldFault) throw new RegistryError("ORIGIN_UNAVAILABLE", `shield ${policy.region} unavailable (injected fault)`, { detail: { tier: "shield" } });
    const rate = this.rates.hit(req.key);
    const answer = await this.lookup(req, policy);
    return { ...answer, rate };
  }

  /** Loads `req` into storage if it is not there yet (prefetch and warming); true if now stored. */
  async warm(req: TierRequest, policy: ShieldPolicy): Promise<boolean> {
    if (this.storage.has(req.key)) return true;
    const answer = await this.lookup(req, policy);
    if (answer.body instanceof ReadableStream) await answer.body.cancel();
    return answer.found;
  }

  /** Applies invalidation events to this shard: hard deletes or soft (stale) marks. */
  apply(events: InvalidationEvent[], mode: "hard" | "soft", lag?: { at: number }): number {
    let touched = 0;
    for (const event of events) {
      const keys = this.storage.invalidate({ keys: event.keys, tags: event.tags, prefix: event.prefix }, event.version, mode);
      for (const key of new Set([...event.keys, ...keys])) {
        if (this.changes.size > 50_000) this.changes.clear();
        this.changes.set(key, Math.max(this.changes.get(key) ?? 0, event.version));
        // A read that began before the change must not be joined by later requests.
        const running = this.inflight.get(key);
        if (running && running.startedAt <= event.version) this.inflight.delete(key);
      }
      touched += keys.length;
      if (lag) this.storage.recordLag(Math.max(0, lag.at - event.version));
    }
    return touched;
  }

  /**
   * Drops remembered "not found" answers at once, wherever the change has not arrived yet: a
   * just-published name must never be hidden while the change travels.
   */
  forgetNotFound(keys: string[], version: number): number {
    for (const key of keys) {
      // A read that began before the write must neither be joined nor store its "not found".
      this.changes.set(key, Math.max(this.changes.get(key) ?? 0, version));
      const running = this.inflight.get(key);
      if (running && running.startedAt <= version) this.inflight.delete(key);
    }
    return this.storage.forgetNegative(keys);
  }

  /** The most requested keys of this shard and how to load them (for `/_/warm`). */
  topRequests(limit: number): Array<{ request: TierRequest; requests: number }> {
    return this.storage.topRequests(limit);
  }

  stats(): ShieldStats {
    return this.storage.stats();
  }

  private async lookup(req: TierRequest, policy: ShieldPolicy): Promise<Omit<ShieldAnswer, "rate">> {
    const now = Date.now();
    const stored = this.storage.read(req.key, now);
    if (stored?.negative) {
      if (stored.fresh) {
        this.storage.count("negative_hits");
        return { found: false, state: "NEGATIVE" };
      }
    } else if (stored && stored.fresh && !stored.stale) {
      this.storage.count("hits");
      return { found: true, state: "L2-HIT", meta: stored.meta, body: stored.bytes };
    } else if (stored?.stale) {
      // Lazy invalidation (stale-while-revalidate): answer now, refresh once in the background.
      this.storage.count("stale_served");
      this.ctx.waitUntil(this.revalidate(req, policy, stored).catch(() => {}));
      return { found: true, state: "L2-STALE", meta: stored.meta, body: stored.bytes };
    }

    const pending = this.inflight.get(req.key);
    if (pending) {
      this.storage.count("coalesced");
      return this.answer(await pending.load, "COALESCED");
    }
    const usable = stored && !stored.negative ? stored : null;
    let loaded: Loaded;
    try {
      loaded = await this.collapse(req, this.load(req, policy, usable));
    } catch (err) {
      this.storage.count("origin_errors");
      // stale-if-error (RFC 5861): the last good copy beats an error while it is recent enough.
      if (usable && now <= usable.expiresAt + policy.staleIfErrorSeconds * 1000) {
        this.storage.count("stale_served");
        return { found: true, state: "L2-STALE", meta: usable.meta, body: usable.bytes };
      }
      // Tagged as the origin's failure so the edge does not count it against this shield's health.
      const message = err instanceof RegistryError ? err.message : "origin unavailable, try again";
      throw new RegistryError("ORIGIN_UNAVAILABLE", message, { retryAfter: 1, detail: { tier: "origin" }, cause: err });
    }
    return this.answer(loaded, usable ? "REVALIDATED" : "MISS");
  }

  /** Registers a load so concurrent requests for the key join it instead of reading again. */
  private async collapse(req: TierRequest, load: Promise<Loaded>): Promise<Loaded> {
    this.inflight.set(req.key, { load, startedAt: Date.now() });
    const forget = () => {
      if (this.inflight.get(req.key)?.load === load) this.inflight.delete(req.key);
    };
    try {
      const loaded = await load;
      forget();
      return loaded;
    } catch (err) {
      forget();
      throw err;
    }
  }

  private async revalidate(req: TierRequest, policy: ShieldPolicy, stale: StoredObject): Promise<void> {
    if (this.inflight.has(req.key)) return;
    await this.collapse(req, this.load(req, policy, stale));
  }

  private answer(loaded: Loaded, state: ShieldAnswer["state"]): ShieldAnswer {
    if (!loaded.found) {
      this.storage.count("misses");
      return { found: false, state };
    }
    if ("bytes" in loaded) return { found: true, state, meta: loaded.meta, body: loaded.bytes };
    return { found: true, state, meta: loaded.meta, direct: loaded.direct };
  }

  private async load(req: TierRequest, policy: ShieldPolicy, stale: StoredObject | null): Promise<Loaded> {
    const fetchedAt = Date.now();
    const expiresAt = req.immutable ? 0 : fetchedAt + policy.ttlSeconds * 1000;
    const extras = { fetchedAt, tags: req.tags, request: { ...req, via: undefined } };
    // Store only what was read after every change to the key the shield has heard of.
    const current = () => fetchedAt > (this.changes.get(req.key) ?? 0);

    if (req.via) return this.loadFromOwner(req, policy, extras, current);

    this.storage.count(req.kind === "blob" ? "origin_blob" : "origin_metadata");
    await injectFaults(policy);
    let obj: OriginObject | "unchanged" | null;
    if (stale) {
      obj = await this.origin.readIfChanged(req.originKey, stale.meta.etag);
      if (obj === "unchanged") {
        if (current()) this.storage.touchExpiry(req.key, expiresAt, fetchedAt);
        return { found: true, meta: { ...stale.meta, fetchedAt }, bytes: stale.bytes };
      }
    } else {
      // One more byte than the shield keeps: enough to tell a small object from a large one.
      obj = await this.origin.read(req.originKey, { firstBytes: policy.maxStoredBytes + 1 });
    }
    if (!obj) {
      if (current()) this.storage.writeNegative(req.key, fetchedAt + policy.negativeTtlSeconds * 1000, extras);
      return { found: false };
    }
    const meta: ObjectMeta = { size: obj.size, etag: obj.etag, contentType: obj.contentType, fetchedAt, ...(obj.digest ? { digest: obj.digest } : {}) };
    if (!obj.complete || obj.size > policy.maxStoredBytes) {
      // Bytes nobody needs (up to SHIELD_MAX_OBJECT_BYTES): cancelled, not read; workerd logs "pump canceled", harmless.
      await obj.body.cancel();
      return { found: true, meta, direct: obj.key };
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    if (current()) this.storage.write(req.key, meta, bytes, expiresAt, policy.capacityBytes, extras);
    return { found: true, meta, bytes };
  }

  /** A hot key's replica fills itself from the owner shard, so replication costs no origin reads. */
  private async loadFromOwner(req: TierRequest, policy: ShieldPolicy, extras: { fetchedAt: number; tags?: string[]; request: TierRequest },
    current: () => boolean): Promise<Loaded> {
    const owner = this.env.SHIELD.get(this.env.SHIELD.idFromName(req.via!)) as ShieldStub;
    const answer = (await owner.get({ ...req, via: undefined }, policy)) as ShieldAnswer;
    if (answer.found && answer.meta && answer.direct) return { found: true, meta: answer.meta, direct: answer.direct };
    if (!answer.found || !answer.meta || !answer.body || answer.body instanceof ReadableStream) return { found: false };
    const expiresAt = req.immutable ? 0 : extras.fetchedAt + policy.ttlSeconds * 1000;
    if (current() && answer.state !== "L2-STALE") this.storage.write(req.key, answer.meta, answer.body, expiresAt, policy.capacityBytes, extras);
    return { found: true, meta: answer.meta, bytes: answer.body };
  }
}

/** Dev-only origin faults (zero in production): added latency, then a failure at the given rate. */
async function injectFaults(policy: ShieldPolicy): Promise<void> {
  if (policy.originLatencyMs > 0) await new Promise((r) => setTimeout(r, policy.originLatencyMs));
  if (policy.originFaultRate > 0 && Math.random() < policy.originFaultRate) {
    throw new RegistryError("ORIGIN_UNAVAILABLE", "origin unavailable (injected fault)", { retryAfter: 1 });
  }
}
