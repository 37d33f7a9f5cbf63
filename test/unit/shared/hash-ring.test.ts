import { describe, expect, it } from "vitest";
import { HashRing, hash64, replicasFor, shardFor } from "../../../shared/tiers/hash-ring";

describe("hash64", () => {
  it("is xxHash64 (matches the reference value for 'hello')", () => {
    expect(hash64("hello").toString(16)).toBe("26c7827d889f6da3");
  });
});

describe("HashRing", () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `npm:tarball:pkg-${i}/pkg-${i}-1.0.0.tgz`);

  it("spreads keys over every node within 25% of a fair share", () => {
    const nodes = ["r/0", "r/1", "r/2", "r/3"];
    const ring = new HashRing(nodes);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.pick(k), (counts.get(ring.pick(k)) ?? 0) + 1);
    const fair = keys.length / nodes.length;
    for (const n of nodes) expect(Math.abs((counts.get(n) ?? 0) - fair) / fair).toBeLessThan(0.25);
  });

  it("moves only about 1/N of the keys when a node is added", () => {
    const before = new HashRing(["r/0", "r/1", "r/2", "r/3"]);
    const after = new HashRing(["r/0", "r/1", "r/2", "r/3", "r/4"]);
    let moved = 0;
    for (const k of keys) {
      const a = before.pick(k);
      const b = after.pick(k);
      if (a !== b) {
        moved++;
        // A key only ever moves to the new node, never between old ones.
        expect(b).toBe("r/4");
      }
    }
    const share = moved / keys.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
  });
});

describe("replicasFor", () => {
  it("names distinct shards, the owner first, the same every time", () => {
    for (let i = 0; i < 500; i++) {
      const key = `npm:packument:pkg-${i}`;
      const replicas = replicasFor("eu-west", 8, key, 3);
      expect(replicas).toHaveLength(3);
      expect(new Set(replicas).size).toBe(3);
      expect(replicas[0]).toBe(shardFor("eu-west", 8, key));
      for (const shard of replicas) expect(shard).toMatch(/^eu-west\/[0-7]$/);
      expect(replicasFor("eu-west", 8, key, 3)).toEqual(replicas);
      // Asking for fewer gives a prefix: growing the replica count never moves existing replicas.
      expect(replicasFor("eu-west", 8, key, 2)).toEqual(replicas.slice(0, 2));
    }
  });

  it("never names more shards than the region has", () => {
    expect(new Set(replicasFor("us-east", 2, "k", 5))).toEqual(new Set(["us-east/0", "us-east/1"]));
  });
});
