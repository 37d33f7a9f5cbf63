// The shield's SQLite layer, run inside a real Durable Object.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ShieldStorage } from "../../../durable-objects/shield-storage";

const meta = (size: number) => ({ size, etag: `"e${size}"`, contentType: "application/octet-stream" });

function withStorage(name: string, fn: (storage: ShieldStorage) => void): Promise<void> {
  const stub = env.SHIELD.get(env.SHIELD.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => fn(new ShieldStorage(state.storage.sql)));
}

/** Runs `fn` with the object's raw SQL handle (to open the storage as a restarted object would). */
function withSql(name: string, fn: (sql: SqlStorage) => Promise<void>): Promise<void> {
  const stub = env.SHIELD.get(env.SHIELD.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => fn(state.storage.sql));
}

describe("ShieldStorage", () => {
  it("round-trips objects larger than one SQLite row (2 MB) through chunks", () =>
    withStorage("chunks", (storage) => {
      const bytes = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => i % 251);
      storage.write("k", meta(bytes.byteLength), bytes, 0);
      const back = storage.read("k", Date.now());
      expect(back?.fresh).toBe(true);
      expect(back?.bytes.byteLength).toBe(bytes.byteLength);
      // Byte-wise comparison (deep-equal on 2.5 M elements is too slow for vitest's differ).
      expect(back!.bytes.findIndex((b, i) => b !== bytes[i])).toBe(-1);
    }));

  it("marks mutable entries stale after their expiry, and keeps immutable ones fresh", () =>
    withStorage("expiry", (storage) => {
      const now = Date.now();
      storage.write("mutable", meta(1), new Uint8Array([1]), now + 1000);
      storage.write("immutable", meta(1), new Uint8Array([2]), 0);
      expect(storage.read("mutable", now)?.fresh).toBe(true);
      expect(storage.read("mutable", now + 2000)?.fresh).toBe(false);
      expect(storage.read("immutable", now + 10 ** 12)?.fresh).toBe(true);
    }));

  it("evicts the least recently used objects beyond its capacity", () =>
    withStorage("lru", (storage) => {
      const kb = new Uint8Array(1024);
      storage.write("a", meta(1024), kb, 0, 3000);
      storage.write("b", meta(1024), kb, 0, 3000);
      storage.read("a", Date.now() + 5); // a is now more recent than b
      storage.write("c", meta(1024), kb, 0, 3000);
      expect(storage.read("b", Date.now())).toBeNull();
      expect(storage.read("a", Date.now())).not.toBeNull();
      expect(storage.read("c", Date.now())).not.toBeNull();
      expect(storage.stats().storedBytes).toBe(2048);
    }));

  it("counts into persistent counters", () =>
    withStorage("counters", (storage) => {
      storage.count("origin_blob");
      storage.count("origin_blob");
      storage.count("coalesced", 5);
      const stats = storage.stats();
      expect(stats.originFetches.blob).toBe(2);
      expect(stats.coalesced).toBe(5);
    }));

  it("writes hits and counters kept in memory within its flush delay, with no further call", () =>
    withSql("deferred-counts", async (sql) => {
      const storage = new ShieldStorage(sql, 20);
      const request = { key: "k", originKey: "o", kind: "metadata" as const, immutable: false };
      storage.write("k", meta(1), new Uint8Array([1]), 0, Infinity, { fetchedAt: Date.now(), request });
      storage.read("k", Date.now());
      storage.read("k", Date.now());
      storage.count("hits", 2);
      await new Promise((r) => setTimeout(r, 100));
      // A fresh instance over the same tables sees them: they are in SQLite, not only in memory.
      const reopened = new ShieldStorage(sql);
      expect(reopened.stats().hits).toBe(2);
      expect(reopened.topRequests(1)).toEqual([{ request, requests: 2 }]);
    }));
});
