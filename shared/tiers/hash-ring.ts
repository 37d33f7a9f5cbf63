// Consistent-hash ring with virtual nodes: picks the shield shard for a cache key, so that adding
// a shard moves only about 1/N of the keys (Karger et al., 1997).
import { XXH64 } from "xxh3-ts/xxh64.js";
import type { ShieldStub } from "../../durable-objects/regional-shield";

const encoder = new TextEncoder();

export function hash64(text: string): bigint {
  const bytes = encoder.encode(text);
  return XXH64(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export class HashRing {
  private readonly points: bigint[];
  private readonly owners: string[];

  constructor(nodes: readonly string[], virtualNodes = 128) {
    if (nodes.length === 0) throw new Error("a hash ring needs at least one node");
    const entries: Array<[bigint, string]> = [];
    for (const node of nodes) {
      for (let v = 0; v < virtualNodes; v++) entries.push([hash64(`${node}#${v}`), node]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.points = entries.map((e) => e[0]);
    this.owners = entries.map((e) => e[1]);
  }

  /** The node owning `key`: the first virtual node clockwise from the key's hash. */
  pick(key: string): string {
    return this.owners[this.start(key)]!;
  }

  /** The first `n` distinct nodes clockwise from the key: its owner, then its replicas. */
  pickMany(key: string, n: number): string[] {
    const out: string[] = [];
    const begin = this.start(key);
    for (let i = 0; i < this.owners.length && out.length < n; i++) {
      const owner = this.owners[(begin + i) % this.owners.length]!;
      if (!out.includes(owner)) out.push(owner);
    }
    return out;
  }

  private start(key: string): number {
    const h = hash64(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }
}

const rings = new Map<string, HashRing>();

/** The name of one shield shard, which is also its Durable Object name. */
export const shardName = (region: string, index: number) => `${region}/${index}`;

function ringOf(region: string, shards: number): HashRing {
  const ringKey = `${region}/${shards}`;
  let ring = rings.get(ringKey);
  if (!ring) {
    ring = new HashRing(Array.from({ length: shards }, (_, i) => shardName(region, i)));
    rings.set(ringKey, ring);
  }
  return ring;
}

/** The shard of `region` owning `key`; the ring is memoised per isolate. */
export function shardFor(region: string, shards: number, key: string): string {
  return ringOf(region, shards).pick(key);
}

/** The owner of `key` followed by the shards that hold replicas of it when it is hot. */
export function replicasFor(region: string, shards: number, key: string, n: number): string[] {
  return ringOf(region, shards).pickMany(key, n);
}

/** The stub of one shield shard, addressed by its name (`shardName`). */
export function shieldShard(env: Cloudflare.Env, name: string): ShieldStub {
  return env.SHIELD.get(env.SHIELD.idFromName(name)) as ShieldStub;
}
