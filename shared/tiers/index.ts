// The tiers in order: L1 (this PoP's Cache API) -> L2 (the region's shield shard) -> origin.
// Protocol adapters hand in opaque keys and, for documents they rewrite per request (packuments
// with this host's tarball URLs, say), a transform whose output is what L1 keeps.
import type { Config } from "../config";
import { COALESCED_HELP, edgeMetrics } from "../metrics";
import { EdgeCache } from "./edge-cache";
import { shardFor, shardName } from "./hash-ring";
import type { CacheState, ObjectMeta, ShieldAnswer, ShieldStats, TierRequest } from "./types";

type ShieldStub = DurableObjectStub<import("../../durable-objects/regional-shield").RegionalShield>;

export type { CacheState, ObjectKind, ObjectMeta, ShieldStats, TierRequest } from "./types";

export interface Served {
  found: boolean;
  state: CacheState;
  meta?: ObjectMeta;
  body?: ReadableStream<Uint8Array> | Uint8Array;
}

export interface Variant {
  /** The L1 key of the rendered variant (include everything the rendering depends on). */
  key: string;
  render: (bytes: Uint8Array, meta: ObjectMeta) => { bytes: Uint8Array; meta: ObjectMeta };
}

// Concurrent L1 misses for one rendered variant in this isolate share one shield call and one
// rendering (a 5 MB packument asked for by 20 clients at once is parsed once, not 20 times).
const rendering = new Map<string, Promise<Served>>();
// L1 writes in progress in this isolate: one write per key is enough, and concurrent puts of one
// key would make every teed stream wait for the slowest writer.
const l1Writes = new Set<string>();
// Bumped per region and L1 key by invalidate(): a fill that began before an invalidation must
// neither be joined by later requests nor land in L1 after it.
// Epochs come from one counter, and a forgotten key reads as the counter's value at the last
// clear, so bounding the map can only make a fill skip, never let a stale one through.
const epochs = new Map<string, number>();
let epochCounter = 0;
let epochFloor = 0;
const epochOf = (key: string) => epochs.get(key) ?? epochFloor;

export class Tiers {
  constructor(
    private readonly env: Cloudflare.Env,
    private readonly config: Config,
    readonly region: string,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /** The shield stub that owns `key` in `region`. */
  shield(key: string, region = this.region): ShieldStub {
    return this.shard(shardFor(region, this.config.shieldShards, key));
  }

  private shard(name: string): ShieldStub {
    return this.env.SHIELD.get(this.env.SHIELD.idFromName(name)) as ShieldStub;
  }

  async get(req: TierRequest, variant?: Variant): Promise<Served> {
    const l1 = await EdgeCache.open(this.region);
    const l1Key = variant?.key ?? req.key;
    const fillKey = `${this.region}\n${l1Key}`;
    const epoch = epochOf(fillKey);
    const hit = await l1.match(l1Key);
    if (hit) return { found: true, state: "L1-HIT", meta: hit.meta, body: hit.body };

    if (variant) {
      const collapseKey = `${fillKey}\n${epoch}`;
      const pending = rendering.get(collapseKey);
      if (pending) {
        edgeMetrics.inc("pkgedge_coalesced_total", COALESCED_HELP, { region: this.region });
        const served = await pending;
        return served.found ? { ...served, state: "COALESCED" } : served;
      }
      const leader = this.renderVariant(l1, req, variant, fillKey, epoch).finally(() => rendering.delete(collapseKey));
      rendering.set(collapseKey, leader);
      return leader;
    }

    const answer = await this.askShield(req);
    if (!answer.found || !answer.meta || !answer.body) return { found: false, state: answer.state };
    let body = answer.body;
    if (!l1Writes.has(fillKey)) {
      let forCache: ReadableStream<Uint8Array> | Uint8Array = body;
      if (body instanceof ReadableStream) [body, forCache] = body.tee();
      l1Writes.add(fillKey);
      this.fillL1(l1, fillKey, epoch, l1Key, answer.meta, forCache, req.immutable).finally(() => l1Writes.delete(fillKey));
    }
    return { found: true, state: answer.state, meta: answer.meta, body };
  }

  private async renderVariant(l1: EdgeCache, req: TierRequest, variant: Variant, fillKey: string, epoch: number): Promise<Served> {
    const answer = await this.askShield(req);
    if (!answer.found || !answer.meta || !answer.body) return { found: false, state: answer.state };
    const source = answer.body instanceof Uint8Array ? answer.body : new Uint8Array(await new Response(answer.body).arrayBuffer());
    const { bytes, meta } = variant.render(source, answer.meta);
    void this.fillL1(l1, fillKey, epoch, variant.key, meta, bytes, req.immutable);
    return { found: true, state: answer.state, meta, body: bytes };
  }

  /** Writes L1 in the background unless the key was invalidated since the request began. */
  private fillL1(l1: EdgeCache, fillKey: string, epoch: number, key: string, meta: ObjectMeta,
    body: ReadableStream<Uint8Array> | Uint8Array, immutable: boolean): Promise<void> {
    const job = (async () => {
      if (epochOf(fillKey) !== epoch) {
        if (body instanceof ReadableStream) await body.cancel();
        return;
      }
      await l1.put(key, meta, body, immutable, this.config.l1MetadataTtl);
      // An invalidation that arrived while we were writing wins.
      if (epochOf(fillKey) !== epoch) await l1.delete(key);
    })().catch(logCacheError);
    this.waitUntil(job);
    return job;
  }

  private askShield(req: TierRequest): Promise<ShieldAnswer> {
    const policy = {
      ttlSeconds: this.config.l2MetadataTtl,
      maxStoredBytes: this.config.shieldMaxObjectBytes,
      capacityBytes: this.config.shieldCapacityBytes,
    };
    return this.shield(req.key).get(req, policy) as Promise<ShieldAnswer>;
  }

  /**
   * Forgets keys after a write: in every region's shield, and in L1 of this PoP (and, in dev
   * where one process plays every region, in every region's L1). Other PoPs' L1 entries for
   * mutable metadata expire within L1_METADATA_TTL.
   */
  async invalidate(shieldKeys: string[], l1Keys: string[]): Promise<void> {
    const regions = this.config.regions;
    await Promise.all(regions.flatMap((region) => {
      // One call per shard that owns any of the keys.
      const byShard = Map.groupBy(shieldKeys, (key) => shardFor(region, this.config.shieldShards, key));
      return [...byShard].map(([shard, keys]) => this.shard(shard).invalidate(keys));
    }));
    const l1Regions = this.config.devRegionHeader ? regions : [this.region];
    if (epochs.size > 50_000) {
      epochs.clear();
      epochFloor = ++epochCounter;
    }
    for (const region of l1Regions) {
      for (const key of l1Keys) epochs.set(`${region}\n${key}`, ++epochCounter);
    }
    await Promise.all(l1Regions.map(async (region) => {
      const l1 = await EdgeCache.open(region);
      await Promise.all(l1Keys.map((k) => l1.delete(k)));
    }));
  }

  /** Stats of every shard of every region, for /_/metrics. */
  async shieldStats(): Promise<Array<{ region: string; shard: number; stats: ShieldStats }>> {
    const jobs: Array<Promise<{ region: string; shard: number; stats: ShieldStats }>> = [];
    for (const region of this.config.regions) {
      for (let shard = 0; shard < this.config.shieldShards; shard++) {
        const stats = this.shard(shardName(region, shard)).stats() as Promise<ShieldStats>;
        jobs.push(stats.then((s) => ({ region, shard, stats: s })));
      }
    }
    return Promise.all(jobs);
  }
}

function logCacheError(err: unknown): void {
  console.warn("L1 cache write failed", err);
}
