// The hot tier's rules, one per test: its LRU holds at most its byte bound and evicts the least
// recently used first; an object enters only on its Nth L1 hit within the window; a copy made
// before an invalidation (a newer L1 epoch) is never served and forgetL1 drops copies by key,
// rendering, tag and prefix; mutable copies never outlive their L1 entry.
import { afterEach, describe, expect, it } from "vitest";
import { ByteLru } from "../../../shared/tiers/isolate-state";
import { HOT_WINDOW_MS, REFRESH_GRACE_MS, clearHotTier, copyLifetime, countL1Hit, hotCopy, hotTierSize, keepHot, type HotCopy } from "../../../shared/tiers/hot-tier";
import { epochOf, forgetL1, renderingKey } from "../../../shared/tiers/l1-index";

const bytesOf = (s: string) => ({ bytes: new TextEncoder().encode(s) });

describe("ByteLru", () => {
  it("keeps the total at or under its byte bound, evicting the least recently used first", () => {
    const lru = new ByteLru<{ bytes: Uint8Array }>(10, (v) => v.bytes.byteLength);
    lru.set("a", bytesOf("aaaa"));
    lru.set("b", bytesOf("bbbb"));
    lru.get("a"); // a is now the newest: b goes first
    lru.set("c", bytesOf("cccc"));
    expect([...lru].map(([k]) => k)).toEqual(["a", "c"]);
    expect(lru.bytes).toBe(8);
  });

  it("never keeps a value larger than the whole bound, and replacing a key counts it once", () => {
    const lru = new ByteLru<{ bytes: Uint8Array }>(10, (v) => v.bytes.byteLength);
    expect(lru.set("big", bytesOf("x".repeat(11)))).toBe(false);
    lru.set("a", bytesOf("123"));
    lru.set("a", bytesOf("12345"));
    expect([lru.size, lru.bytes]).toEqual([1, 5]);
  });

  it("evicts at once when its bound shrinks", () => {
    const lru = new ByteLru<{ bytes: Uint8Array }>(12, (v) => v.bytes.byteLength);
    for (const k of ["a", "b", "c"]) lru.set(k, bytesOf("1234"));
    lru.resize(5);
    expect([...lru].map(([k]) => k)).toEqual(["c"]);
    lru.resize(0);
    expect([lru.size, lru.bytes]).toEqual([0, 0]);
  });
});

const SETTINGS = { hotTierBytes: 64 * 1024, hotTierMaxObjectBytes: 4096, hotTierAdmitHits: 3, hotTierMetadataTtl: 1, l1MetadataTtl: 30 };
const META = { size: 5, etag: '"e"', contentType: "application/json" };
const copyAt = (epoch: number, until = Number.POSITIVE_INFINITY, tags: string[] = [], expires = Number.POSITIVE_INFINITY): HotCopy =>
  ({ meta: META, bytes: new TextEncoder().encode("hello"), epoch, until, expires, tags });

describe("hot tier", () => {
  afterEach(() => clearHotTier());

  it("admits a key on its Nth L1 hit within the window, and counts again after the window", () => {
    const t0 = 1_000_000;
    expect([1, 2, 3].map((i) => countL1Hit("r", "k", 5, SETTINGS, t0 + i))).toEqual([false, false, true]);
    expect(countL1Hit("r", "k2", 5, SETTINGS, t0)).toBe(false);
    // A new window starts the count over.
    expect(countL1Hit("r", "k", 5, SETTINGS, t0 + HOT_WINDOW_MS + 10)).toBe(false);
  });

  it("never admits objects over HOT_TIER_MAX_OBJECT_BYTES, nor anything when HOT_TIER_BYTES is 0", () => {
    for (let i = 0; i < 5; i++) expect(countL1Hit("r", "big", 4097, SETTINGS)).toBe(false);
    for (let i = 0; i < 5; i++) expect(countL1Hit("r", "off", 5, { ...SETTINGS, hotTierBytes: 0 })).toBe(false);
  });

  it("keeps regions apart: one region's copy is not another's", () => {
    keepHot("us-east", "k", copyAt(epochOf("us-east", "k")), SETTINGS);
    expect(hotCopy("us-east", "k", epochOf("us-east", "k"), SETTINGS)?.meta).toEqual(META);
    expect(hotCopy("eu-west", "k", epochOf("eu-west", "k"), SETTINGS)).toBeUndefined();
  });

  it("drops a copy made at an older epoch, and forgetL1 drops copies by key and with their renderings", async () => {
    const rendering = renderingKey("doc", "full|http://x")!;
    keepHot("r", "doc", copyAt(epochOf("r", "doc")), SETTINGS);
    keepHot("r", rendering, copyAt(epochOf("r", rendering)), SETTINGS);
    const before = epochOf("r", "doc");
    await forgetL1("r", ["doc"]);
    expect(epochOf("r", "doc")).not.toBe(before);
    expect(hotTierSize().entries).toBe(0);
    // A copy made before an invalidation that this isolate's index already knows is never served.
    keepHot("r", "late", copyAt(epochOf("r", "late") - 1), SETTINGS);
    expect(hotCopy("r", "late", epochOf("r", "late"), SETTINGS)).toBeUndefined();
  });

  it("forgetL1 by tag or prefix drops the copies it selects, and only those", async () => {
    for (const [key, tags] of [["npm:a", ["npm:a"]], ["npm:b", ["npm:b"]], ["oci:c", []]] as const) keepHot("r", key, copyAt(epochOf("r", key), Infinity, [...tags]), SETTINGS);
    await forgetL1("r", [], { tags: ["npm:a"] });
    expect(hotCopy("r", "npm:a", epochOf("r", "npm:a"), SETTINGS)).toBeUndefined();
    expect(hotCopy("r", "npm:b", epochOf("r", "npm:b"), SETTINGS)).toBeDefined();
    await forgetL1("r", [], { prefix: "oci:" });
    expect(hotCopy("r", "oci:c", epochOf("r", "oci:c"), SETTINGS)).toBeUndefined();
    expect(hotCopy("r", "npm:b", epochOf("r", "npm:b"), SETTINGS)).toBeDefined();
  });

  it("a mutable copy is read again after HOT_TIER_METADATA_TTL and never lives past its L1 entry", () => {
    const now = 5_000_000;
    const forever = Number.POSITIVE_INFINITY;
    expect(copyLifetime(true, undefined, SETTINGS, now)).toEqual({ until: forever, expires: forever });
    expect(copyLifetime(false, now, SETTINGS, now)).toEqual({ until: now + 1000, expires: now + 30_000 });
    // Stored in L1 29.5 s ago with a 30 s L1 lifetime: half a second left, not a whole one.
    expect(copyLifetime(false, now - 29_500, SETTINGS, now)).toEqual({ until: now + 500, expires: now + 500 });
    expect(copyLifetime(false, now - 31_000, SETTINGS, now)).toBeNull();
    expect(copyLifetime(false, undefined, SETTINGS, now)).toBeNull();
  });

  it("once due, one request refreshes from L1 while the others keep the copy, for at most REFRESH_GRACE_MS", () => {
    const now = 6_000_000;
    const epoch = epochOf("r", "m");
    keepHot("r", "m", copyAt(epoch, now + 1000, [], now + 30_000), SETTINGS);
    expect(hotCopy("r", "m", epoch, SETTINGS, now + 999)).toBeDefined();
    // Due: the first caller is sent to L1 (and its next L1 hit copies it again at once) ...
    expect(hotCopy("r", "m", epoch, SETTINGS, now + 1000)).toBeUndefined();
    expect(countL1Hit("r", "m", 5, SETTINGS, now + 1000)).toBe(true);
    // ... the others still get the copy while that refresh runs, not past the grace.
    expect(hotCopy("r", "m", epoch, SETTINGS, now + 1001)).toBeDefined();
    expect(hotCopy("r", "m", epoch, SETTINGS, now + 1000 + REFRESH_GRACE_MS)).toBeUndefined();
  });

  it("never serves a copy past its L1 entry's expiry, refreshing or not", () => {
    const now = 7_000_000;
    const epoch = epochOf("r", "x");
    keepHot("r", "x", copyAt(epoch, now + 1000, [], now + 1200), SETTINGS);
    expect(hotCopy("r", "x", epoch, SETTINGS, now + 1000)).toBeUndefined();
    expect(hotCopy("r", "x", epoch, SETTINGS, now + 1100)).toBeDefined();
    expect(hotCopy("r", "x", epoch, SETTINGS, now + 1200)).toBeUndefined();
  });

  it("holds at most HOT_TIER_BYTES, the least recently read copy out first", () => {
    const small = { ...SETTINGS, hotTierBytes: 2 * (5 + 512) };
    for (const key of ["a", "b"]) keepHot("r", key, copyAt(epochOf("r", key)), small);
    hotCopy("r", "a", epochOf("r", "a"), small);
    keepHot("r", "c", copyAt(epochOf("r", "c")), small);
    expect(["a", "b", "c"].map((k) => hotCopy("r", k, epochOf("r", k), small) !== undefined)).toEqual([true, false, true]);
    expect(hotTierSize().bytes).toBeLessThanOrEqual(small.hotTierBytes);
  });
});
