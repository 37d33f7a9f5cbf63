// The tier walk: the hot tier (this isolate's memory) -> L1 (this PoP's Cache API) -> L2 (the
// region's shield shard) -> origin. Protocol adapters hand in opaque keys
// (workers/<protocol>/objects.ts builds them): `get` serves an object as stored, `render` a
// per-request rendering of a stored document (packuments with this host's tarball URLs, say),
// which is what L1 keeps; renderings that ask for it are stored gzip-coded too, under their own
// L1 key, for clients that accept gzip. Routing to a shard honours failover (a degraded region's
// requests go to its failover region) and hot keys (spread over several shards). After a write,
// `invalidate` applies the change here and sends it to every region.
import type { Config } from "../config";
import { RegistryError } from "../errors";
import { log } from "../log";
import { COALESCED_HELP, ORIGIN_FETCHES_HELP, edgeMetrics } from "../metrics";
import { ObjectStore } from "../origin";
import { Broadcast } from "./broadcast";
import { EdgeCache, NEGATIVE } from "./edge-cache";
import { replicasFor, shardFor, shardName, shieldShard } from "./hash-ring";
import { recordOutcome, routeRegion } from "./health";
import { isHot, observeRate } from "./hot-keys";
import { applyInRegion, newEvent, pushWithBackstop, type Change } from "./invalidation";
import { SingleFlight, regionKey } from "./isolate-state";
import { encode, encodedEtag, ENCODINGS, type Encoding } from "../http/encoding";
import { copyLifetime, countL1Hit, dropHot, hotCopy, keepHot } from "./hot-tier";
import { epochOf, fillMayLand, forgetL1, forgetNegativeL1, rememberFill, renderingKey } from "./l1-index";
import { lockstepTee } from "./lockstep-tee";
import { purgeZoneTags } from "./zone-purge";
import type { ShieldStub } from "../../durable-objects/regional-shield";
import type { UpstreamCall } from "../upstream/types";
import type { CacheState, ObjectMeta, ShieldAnswer, ShieldPolicy, ShieldStats, TierRequest } from "./types";

export type { CacheState, InvalidationEvent, ObjectKind, ObjectMeta, ShieldStats, TierRequest } from "./types";
export type { Change } from "./invalidation";

/** What the tiers served for one request: the object's bytes, or "not found" and which tier said so. */
export type Served =
  | { found: true; state: CacheState; meta: ObjectMeta; body: ReadableStream<Uint8Array> | Uint8Array; document?: unknown; encoding?: Encoding }
  | { found: false; state: CacheState };

/**
 * A per-request rendering of a stored document (a packument naming this host's tarball URLs, in
 * the form the client asked for). L1 keeps the rendering under the document's key plus
 * `suffix`, which must name everything the rendering depends on. `render` answers null when the
 * document says the object does not exist (an unpublished package's tombstone), and may hand
 * back the document it parsed, so the route's follow-up work (prefetch) need not parse it again.
 */
export interface Variant {
  suffix: string;
  /** Also store the rendering gzip-coded (large text such as JSON documents). */
  compress?: boolean;
  render: (bytes: Uint8Array, meta: ObjectMeta) => { bytes: Uint8Array; meta: ObjectMeta; document?: unknown } | null;
}

export interface Purge {
  keys?: string[];
  tags?: string[];
  prefix?: string;
  mode: "hard" | "soft";
}

// Per-isolate flights (shared/tiers/isolate-state.ts), each bounded: past the bound, work runs
// uncollapsed. Keys carry the region and, where a fill depends on it, the key's L1 epoch.
const MAX_FLIGHTS = 10_000;
// Renderings in progress: a 5 MB packument asked for by 20 clients at once is parsed once.
const renderings = new SingleFlight<Promise<Served>>(MAX_FLIGHTS);
// Shield calls in flight: concurrent L1 misses for one key share one call.
const shieldCalls = new SingleFlight<Promise<ShieldAnswer>>(MAX_FLIGHTS);
// L1 writes in progress: one per key is enough, and concurrent puts of one key would make every
// teed stream wait for the slowest writer.
const l1Writes = new SingleFlight<Promise<void>>(MAX_FLIGHTS);
// Large objects streamed from the origin, joinable by requests that arrive while they stream;
// each holds at most Broadcast's replay buffer, so the bound also bounds their memory.
const originStreams = new SingleFlight<Broadcast>(64);

const STALE_HELP = "Responses served from a stale shield copy (lazy invalidation or origin failure).";
const NEGATIVE_HELP = "Requests answered from a remembered not-found (L1 or shield).";

export class Tiers {
  constructor(
    private readonly env: Cloudflare.Env,
    private readonly config: Config,
    readonly region: string,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  private shard(name: string): ShieldStub {
    return shieldShard(this.env, name);
  }

  /** How the shield treats a request from `region` (built once per configuration). */
  private policy(region: string): ShieldPolicy {
    return this.config.tiers.shieldPolicy[region]!;
  }

  /** An object as stored: L1, then the region's shield, then the origin (through the shield). */
  async get(req: TierRequest): Promise<Served> {
    const epoch = epochOf(this.region, req.key);
    const hot = this.fromHot(req.key, epoch);
    if (hot) return hot;
    const l1 = await EdgeCache.open(this.region);
    const hit = await this.fromL1(l1, req.key, epoch, req);
    if (hit) return hit;
    const { answer, joined } = await this.askShieldOnce(req);
    if (answer.kind === "missing") return this.notFound(l1, req, req.key, epoch, answer.state);
    let state: CacheState = joined ? "COALESCED" : answer.state;
    let body: ReadableStream<Uint8Array> | Uint8Array;
    if (answer.kind === "stream") {
      const stream = this.streamFromOrigin(req, answer.originKey, answer.meta.size);
      body = stream.body;
      if (stream.joined) state = "COALESCED";
    } else {
      body = answer.bytes;
    }
    // A stale answer is for this request only: L1 would keep it after the shield has moved on.
    if (answer.state !== "L2-STALE" && answer.meta.size <= this.config.tiers.l1MaxObjectBytes) {
      const fillId = regionKey(this.region, req.key);
      if (!l1Writes.join(fillId)) {
        let forCache = body;
        if (body instanceof ReadableStream) [body, forCache] = lockstepTee(body);
        const fill = this.fillL1(l1, epoch, req.key, answer.meta, forCache, req);
        l1Writes.lead(fillId, fill, fill);
      }
    }
    return { found: true, state, meta: answer.meta, body };
  }

  /**
   * A rendering of a stored document: L1 keeps the rendering, the shield keeps the document.
   * `accepted` are the codings the client takes (best first): a stored coded rendering of a
   * compressing variant is served when there is one; the first request renders and answers
   * uncoded, and the coded renderings are made after it, for the requests that follow.
   */
  async render(req: TierRequest, variant: Variant, accepted: readonly Encoding[] = []): Promise<Served> {
    const l1Key = renderingKey(req.key, variant.suffix);
    const coded = l1Key && variant.compress ? this.codedKeys(req.key, variant.suffix) : [];
    const epoch = l1Key ? epochOf(this.region, l1Key) : -1;
    const candidates = [...coded.filter((k) => accepted.includes(k.encoding)), ...(l1Key ? [{ key: l1Key, epoch, encoding: undefined }] : [])];
    for (const k of candidates) {
      const hot = this.fromHot(k.key, k.epoch);
      if (hot) return k.encoding ? { ...hot, encoding: k.encoding } : hot;
    }
    // A rendering made or being made for this epoch is served from memory until its L1 copy has
    // landed: a burst of requests for a large document reads it neither from L1 nor twice.
    const id = regionKey(this.region, `${req.key}|${variant.suffix}\n${epoch}`);
    const running = renderings.join(id);
    if (running) return this.joinRendering(running);
    const l1 = await EdgeCache.open(this.region);
    for (const k of candidates) {
      const hit = await this.fromL1(l1, k.key, k.epoch, req);
      // A remembered "not found" lives under the uncoded key only.
      if (hit?.found && k.encoding) return { ...hit, encoding: k.encoding };
      if (hit) return hit;
    }
    const started = renderings.join(id);
    if (started) return this.joinRendering(started);
    let landed: Promise<unknown> = Promise.resolve();
    const rendering = this.renderOnce(l1, l1Key, req, variant, epoch, coded, (fill) => (landed = fill));
    renderings.lead(id, rendering, rendering.then(() => landed, () => undefined));
    return rendering;
  }

  private async joinRendering(flight: Promise<Served>): Promise<Served> {
    edgeMetrics.inc("pkgedge_coalesced_total", COALESCED_HELP, { region: this.region });
    const served = await flight;
    return served.found ? { ...served, state: "COALESCED" } : served;
  }

  /** The L1 keys (and their epochs now) of a rendering's coded forms, for every coding stored. */
  private codedKeys(key: string, suffix: string): Array<{ key: string; epoch: number; encoding: Encoding }> {
    const out: Array<{ key: string; epoch: number; encoding: Encoding }> = [];
    for (const encoding of ENCODINGS) {
      const coded = renderingKey(key, `${suffix}|${encoding}`);
      if (coded) out.push({ key: coded, epoch: epochOf(this.region, coded), encoding });
    }
    return out;
  }

  /** The hot tier's copy of `key`, made at `epoch` (the key's epoch when this request began). */
  private fromHot(key: string, epoch: number): (Served & { found: true }) | null {
    const copy = hotCopy(this.region, key, epoch, this.config.tiers);
    return copy ? { found: true, state: "HOT-HIT", meta: copy.meta, body: copy.bytes } : null;
  }

  /**
   * L1's entry for `key`. The hit that makes a key hot (shared/tiers/hot-tier.ts) reads the
   * small body into memory, serves it from there and keeps the copy, unless the key was
   * invalidated since `epoch`.
   */
  private async fromL1(l1: EdgeCache, key: string, epoch: number, req: TierRequest): Promise<Served | null> {
    const hit = await l1.match(key);
    if (hit === NEGATIVE) {
      edgeMetrics.inc("pkgedge_negative_hits_total", NEGATIVE_HELP, { region: this.region });
      return { found: false, state: "NEGATIVE" };
    }
    if (!hit) {
      // Gone from L1 (expired, evicted, or deleted by another isolate's invalidation): a copy due
      // for refresh must not outlive it.
      dropHot(this.region, [key]);
      return null;
    }
    const t = this.config.tiers;
    const lifetime = countL1Hit(this.region, key, hit.meta.size, t) ? copyLifetime(req.immutable, hit.storedAt, t) : null;
    if (lifetime === null) return { found: true, state: "L1-HIT", meta: hit.meta, body: hit.body };
    const bytes = new Uint8Array(await new Response(hit.body).arrayBuffer());
    if (bytes.byteLength !== hit.meta.size) {
      // Never served, never copied: the entry is damaged, so ask the next tier.
      await l1.delete(key);
      return null;
    }
    if (epochOf(this.region, key) === epoch) keepHot(this.region, key, { meta: hit.meta, bytes, epoch, ...lifetime, tags: req.tags ?? [] }, t);
    return { found: true, state: "L1-HIT", meta: hit.meta, body: bytes };
  }

  /** Renders from the shield's copy; `filling` is handed the L1 write of the rendering, if any. */
  private async renderOnce(l1: EdgeCache, l1Key: string | null, req: TierRequest, variant: Variant, epoch: number,
    coded: Array<{ key: string; epoch: number; encoding: Encoding }>, filling: (fill: Promise<void>) => void): Promise<Served> {
    const { answer } = await this.askShieldOnce(req);
    if (answer.kind === "missing") return this.notFound(l1, req, l1Key, epoch, answer.state);
    // A document too large for the shield is still rendered whole (it has to be parsed).
    const source = answer.kind === "bytes"
      ? answer.bytes
      : new Uint8Array(await new Response(this.streamFromOrigin(req, answer.originKey, answer.meta.size).body).arrayBuffer());
    const rendered = variant.render(source, answer.meta);
    if (!rendered) return this.notFound(l1, req, l1Key, epoch, answer.state);
    const meta = { ...rendered.meta, ...(answer.meta.fetchedAt ? { fetchedAt: answer.meta.fetchedAt } : {}) };
    if (l1Key && answer.state !== "L2-STALE") {
      filling(this.fillL1(l1, epoch, l1Key, meta, rendered.bytes, req));
      for (const c of coded) this.fillCoded(l1, c, meta, rendered.bytes, req);
    }
    return { found: true, state: answer.state, meta, body: rendered.bytes, ...(rendered.document !== undefined ? { document: rendered.document } : {}) };
  }

  /**
   * A large object the shield does not keep: streamed from the origin range by range, once per
   * isolate however many requests want it at the same moment.
   */
  private streamFromOrigin(req: TierRequest, originKey: string, size: number): { body: ReadableStream<Uint8Array>; joined: boolean } {
    const joined = originStreams.join(originKey)?.subscribe();
    if (joined) {
      edgeMetrics.inc("pkgedge_coalesced_total", COALESCED_HELP, { region: this.region });
      return { body: joined, joined: true };
    }
    edgeMetrics.inc("pkgedge_origin_fetches_total", ORIGIN_FETCHES_HELP, { region: this.region, kind: req.kind });
    const broadcast = new Broadcast(new ObjectStore(this.env.BLOBS).readRanges(originKey, size));
    originStreams.lead(originKey, broadcast, broadcast.ended);
    return { body: broadcast.subscribe()!, joined: false };
  }

  /** One shield call per key and epoch in this isolate, however many requests missed L1 at once. */
  private async askShieldOnce(req: TierRequest): Promise<{ answer: ShieldAnswer; joined: boolean }> {
    const id = regionKey(this.region, `${req.key}\n${epochOf(this.region, req.key)}`);
    const flight = shieldCalls.run(id, () => this.askShield(req));
    if (flight.joined) edgeMetrics.inc("pkgedge_coalesced_total", COALESCED_HELP, { region: this.region });
    return { answer: await flight.promise, joined: flight.joined };
  }

  /** Asks the shield to hold `req` (prefetch); true once it is stored there. */
  async warm(req: TierRequest): Promise<boolean> {
    const route = this.route(req);
    return this.shard(route.shard).warm(viaOwner(req, route.shard, route.via), this.policy(route.region)) as Promise<boolean>;
  }

  /** Warms `region`'s shields with explicit requests; resolves to how many are now stored. */
  async warmRegion(region: string, requests: TierRequest[]): Promise<boolean[]> {
    return Promise.all(requests.map((req) =>
      (this.shard(shardFor(region, this.config.tiers.shards, req.key)).warm(req, this.policy(region)) as Promise<boolean>).catch(() => false)));
  }

  /** The most requested keys of a region's shields (for warming another region). */
  async topRequests(region: string, limit: number): Promise<Array<{ request: TierRequest; requests: number }>> {
    const lists = await Promise.all(Array.from({ length: this.config.tiers.shards }, (_, i) =>
      this.shard(shardName(region, i)).topRequests(limit) as Promise<Array<{ request: TierRequest; requests: number }>>));
    return lists.flat().sort((a, b) => b.requests - a.requests).slice(0, limit);
  }

  /**
   * After a write: the change applies here at once (so the writer reads its own write, and a
   * just-published name is never hidden by a remembered 404), then travels to every region.
   */
  async invalidate(change: Change): Promise<void> {
    const event = newEvent(change, this.region);
    const others = this.config.regions.filter((r) => r !== this.region);
    if (change.removal) {
      // Every region's shields at once, and the queue (idempotent) for one that was unreachable
      // just now: all before the answer.
      await Promise.all([
        applyInRegion(this.env, this.config, this.region, [event], { mode: "hard", l1: true }),
        ...others.map((r) => applyInRegion(this.env, this.config, r, [event], { mode: "hard", l1: this.config.devRegionHeader })),
        this.enqueue(event),
      ]);
      return;
    }
    const appeared = change.appeared ?? [];
    await Promise.all([
      applyInRegion(this.env, this.config, this.region, [event], { mode: "hard", l1: true }),
      appeared.length > 0 ? forgetL1(this.region, appeared, { version: event.version }) : null,
      this.dropNegativesIn([this.region], appeared, event.version),
      this.dropNegativesIn(others, [...event.keys, ...appeared], event.version),
    ]);
    // The other regions after the response: the writer's own push (without it a change waits
    // for the queue's batching, 0.4-0.7 s locally), and the queue only for a region it missed.
    if (others.length > 0) {
      this.waitUntil(pushWithBackstop(this.env, this.config, event, others).catch((err) =>
        log.error("invalidation event neither pushed nor queued", { event: event.id, error: err instanceof Error ? err.message : "unknown" })));
    }
  }

  /**
   * Content appeared under immutable keys (a blob or a manifest pushed by digest): the bytes of
   * a digest never change, so only remembered "not found" answers can be wrong, and dropping
   * those everywhere is the whole change; no event needs to travel.
   */
  async forgetNotFound(keys: string[]): Promise<void> {
    const version = Date.now();
    // This region before the response (the pusher's next read comes here); the others after it:
    // nobody there can have been told yet that the push succeeded.
    const others = this.config.regions.filter((r) => r !== this.region);
    if (others.length > 0) this.waitUntil(this.dropNegativesIn(others, keys, version).catch(() => {}));
    await Promise.all([
      forgetL1(this.region, keys, { version }),
      this.dropNegativesIn([this.region], keys, version),
    ]);
  }

  /**
   * Other regions learn of a change through the queue, but a remembered "not found" there would
   * hide a just-published name until then: those few entries are dropped now, in the given
   * regions' shields (and, in dev, their L1; other PoPs' L1 keeps one for NEGATIVE_TTL_SECONDS
   * at most).
   */
  private async dropNegativesIn(regions: string[], keys: string[], version: number): Promise<void> {
    if (keys.length === 0) return;
    await Promise.all(regions.map(async (region) => {
      const byShard = Map.groupBy(keys, (key) => shardFor(region, this.config.tiers.shards, key));
      await Promise.all([...byShard].map(([shard, list]) => this.shard(shard).forgetNotFound(list, version)));
      if (this.config.devRegionHeader && region !== this.region) await forgetNegativeL1(region, keys);
    }));
  }

  /** `/_/purge`: by key, tag or prefix, hard or soft, in every region (and, when configured, by tag in every PoP's L1). */
  async purge(purge: Purge): Promise<string> {
    const event = newEvent({ keys: purge.keys ?? [], tags: purge.tags, prefix: purge.prefix }, this.region, purge.mode, true);
    await applyInRegion(this.env, this.config, this.region, [event], { mode: purge.mode, l1: true });
    await this.enqueue(event);
    if (purge.tags?.length) this.waitUntil(purgeZoneTags(this.env, purge.tags));
    return event.id;
  }

  private async enqueue(event: ReturnType<typeof newEvent>): Promise<void> {
    try {
      await this.env.INVALIDATIONS.send(event);
    } catch (err) {
      // The write stands; other regions then converge by expiry (L2_METADATA_TTL) instead.
      log.error("invalidation event not queued", { event: event.id, error: err instanceof Error ? err.message : "unknown" });
    }
  }

  /** Upstream requests the edge made itself for `key` (not a shield's miss): counted by the key's owner shard. */
  async countUpstream(key: string, calls: UpstreamCall[]): Promise<void> {
    if (calls.length > 0) await this.shard(shardFor(this.region, this.config.tiers.shards, key)).countUpstream(calls);
  }

  /** Stats of every shard of every region, for /_/metrics. */
  async shieldStats(): Promise<Array<{ region: string; shard: number; stats: ShieldStats }>> {
    const jobs: Array<Promise<{ region: string; shard: number; stats: ShieldStats }>> = [];
    for (const region of this.config.regions) {
      for (let shard = 0; shard < this.config.tiers.shards; shard++) {
        const stats = this.shard(shardName(region, shard)).stats() as Promise<ShieldStats>;
        jobs.push(stats.then((s) => ({ region, shard, stats: s })));
      }
    }
    return Promise.all(jobs);
  }

  private notFound(l1: EdgeCache, req: TierRequest, l1Key: string | null, epoch: number, state: CacheState): Served {
    if (state === "NEGATIVE") edgeMetrics.inc("pkgedge_negative_hits_total", NEGATIVE_HELP, { region: this.region });
    const ttl = Math.min(this.config.tiers.negativeTtlSeconds, this.config.tiers.l1MetadataTtl);
    if (l1Key && epochOf(this.region, l1Key) === epoch) {
      rememberFill(this.region, l1Key, req.tags, 0);
      this.waitUntil(l1.putNegative(l1Key, ttl, req.tags).catch(logCacheError));
    }
    return { found: false, state };
  }

  /**
   * Compresses a rendering after the response and stores it under its coded key, with its own
   * ETag, unless the rendering's key was invalidated meanwhile (fillL1 checks the coded key's epoch).
   */
  private fillCoded(l1: EdgeCache, coded: { key: string; epoch: number; encoding: Encoding }, meta: ObjectMeta, bytes: Uint8Array, req: TierRequest): void {
    this.waitUntil(encode(bytes, coded.encoding)
      .then((out) => this.fillL1(l1, coded.epoch, coded.key, { ...meta, size: out.byteLength, etag: encodedEtag(meta.etag, coded.encoding) }, out, req))
      .catch(logCacheError));
  }

  /** Writes L1 in the background unless the key was invalidated since the request began. */
  private fillL1(l1: EdgeCache, epoch: number, key: string, meta: ObjectMeta, body: ReadableStream<Uint8Array> | Uint8Array, req: TierRequest): Promise<void> {
    const job = (async () => {
      if (!fillMayLand(this.region, key, epoch, meta.fetchedAt)) {
        if (body instanceof ReadableStream) await body.cancel();
        return;
      }
      rememberFill(this.region, key, req.tags, meta.fetchedAt);
      await l1.put(key, meta, body, req.immutable, this.config.tiers.l1MetadataTtl, req.tags);
      // An invalidation that arrived while we were writing wins (unless this copy already has it).
      if (!fillMayLand(this.region, key, epoch, meta.fetchedAt)) await l1.delete(key);
    })().catch(logCacheError);
    this.waitUntil(job);
    return job;
  }

  /** Which shard answers `req`: failover first, then hot-key spreading. */
  private route(req: TierRequest): { region: string; shard: string; via?: string; spread: number; probe: boolean } {
    const { region, probe } = routeRegion(this.region, this.config.tiers);
    const t = this.config.tiers;
    if (!isHot(region, req.key)) return { region, shard: shardFor(region, this.config.tiers.shards, req.key), spread: 1, probe };
    const replicas = replicasFor(region, this.config.tiers.shards, req.key, t.hotKeyReplicas);
    const pick = Math.floor(Math.random() * replicas.length);
    return { region, shard: replicas[pick]!, ...(pick > 0 ? { via: replicas[0]! } : {}), spread: replicas.length, probe };
  }

  private async askShield(req: TierRequest): Promise<ShieldAnswer> {
    const route = this.route(req);
    try {
      return await this.call(route.region, route.shard, route.via, route.spread, req);
    } catch (err) {
      const failover = this.config.tiers.failover[this.region];
      // A shield that failed (not the origin behind it) is worth one try in the failover region.
      if (!isShieldFailure(err) || !failover || route.region === failover) throw err;
      return this.call(failover, shardFor(failover, this.config.tiers.shards, req.key), undefined, 1, req);
    }
  }

  private async call(region: string, shard: string, via: string | undefined, spread: number, req: TierRequest): Promise<ShieldAnswer> {
    const started = Date.now();
    try {
      const answer = (await this.shard(shard).get(viaOwner(req, shard, via), this.policy(region))) as ShieldAnswer;
      recordOutcome(region, true, Date.now() - started, this.config.tiers);
      observeRate(region, req.key, answer.rate, spread, this.config.tiers);
      if (answer.state === "L2-STALE") edgeMetrics.inc("pkgedge_stale_served_total", STALE_HELP, { region: this.region });
      return answer;
    } catch (err) {
      recordOutcome(region, !isShieldFailure(err), Date.now() - started, this.config.tiers);
      throw err;
    }
  }
}

/** A request to a hot key's replica `shard` names its owner, and the replica itself for the owner to remember. */
function viaOwner(req: TierRequest, shard: string, via: string | undefined): TierRequest {
  return via ? { ...req, via, replica: shard } : req;
}

/** Origin failures are reported by a healthy shield; anything else means the shield itself failed. */
function isShieldFailure(err: unknown): boolean {
  const detail = (err as { detail?: { tier?: string } } | null)?.detail;
  if (detail?.tier === "origin") return false;
  return !(err instanceof RegistryError) || detail?.tier === "shield";
}

function logCacheError(err: unknown): void {
  log.warn("L1 cache write failed", { error: err });
}
