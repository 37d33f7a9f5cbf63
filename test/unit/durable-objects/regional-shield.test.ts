// The shield's lookup state machine, called over RPC as the edge calls it (no HTTP): a miss reads
// the origin once, then L2-HIT; a remembered not-found answers NEGATIVE; an expired copy is
// revalidated against the origin; a soft invalidation serves L2-STALE while one background
// revalidation runs; concurrent misses collapse into one origin read; a failing origin gets the
// last good copy; objects too large to keep come back as the origin key to stream.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shieldShard } from "../../../shared/tiers/hash-ring";
import type { ShieldAnswer, ShieldPolicy, TierRequest } from "../../../shared/tiers/types";

const POLICY: ShieldPolicy = {
  ttlSeconds: 300, maxStoredBytes: 1024 * 1024, capacityBytes: 1024 ** 3, region: "us-east",
  negativeTtlSeconds: 10, staleIfErrorSeconds: 86_400, originFaultRate: 0, originLatencyMs: 0, shieldFault: false,
};

let n = 0;
/** A fresh shard and a request for a fresh origin key, so tests share nothing. */
function setup(kind: TierRequest["kind"] = "metadata") {
  const id = `shield-unit-${++n}-${crypto.randomUUID()}`;
  const shard = shieldShard(env, id);
  const req: TierRequest = { key: `k:${id}`, originKey: `unit/${id}`, kind, immutable: false, tags: ["unit"] };
  const get = (policy: Partial<ShieldPolicy> = {}) => shard.get(req, { ...POLICY, ...policy }) as Promise<ShieldAnswer>;
  return { shard, req, get, put: (text: string) => env.BLOBS.put(req.originKey, text) };
}

const text = (a: ShieldAnswer) => (a.kind === "bytes" ? new TextDecoder().decode(a.bytes) : a.kind);
const originReads = async (shard: ReturnType<typeof setup>["shard"]) => (await shard.stats()).originFetches.metadata;

describe("RegionalShield lookup", () => {
  it("a miss reads the origin once, then the stored copy answers L2-HIT", async () => {
    const { shard, get, put } = setup();
    await put("v1");
    const first = await get();
    expect([first.state, text(first)]).toEqual(["MISS", "v1"]);
    const second = await get();
    expect([second.state, text(second)]).toEqual(["L2-HIT", "v1"]);
    expect(await originReads(shard)).toBe(1);
  });

  it("remembers not-found: NEGATIVE without another origin read, until forgotten", async () => {
    const { shard, req, get, put } = setup();
    expect((await get()).state).toBe("MISS");
    const again = await get();
    expect([again.kind, again.state]).toEqual(["missing", "NEGATIVE"]);
    expect(await originReads(shard)).toBe(1);
    await put("published");
    expect(await shard.forgetNotFound([req.key], Date.now())).toBe(1);
    expect(text(await get())).toBe("published");
  });

  it("revalidates an expired copy against the origin (REVALIDATED), keeping it when unchanged", async () => {
    const { get, put } = setup();
    await put("v1");
    expect((await get({ ttlSeconds: 0 })).state).toBe("MISS");
    const unchanged = await get({ ttlSeconds: 0 });
    expect([unchanged.state, text(unchanged)]).toEqual(["REVALIDATED", "v1"]);
    await put("v2");
    const changed = await get({ ttlSeconds: 0 });
    expect([changed.state, text(changed)]).toEqual(["REVALIDATED", "v2"]);
  });

  it("after a soft invalidation serves L2-STALE at once and refreshes in the background", async () => {
    const { shard, req, get, put } = setup();
    await put("v1");
    await get();
    await put("v2");
    await shard.apply([{ id: "e", version: Date.now(), keys: [req.key], mode: "soft", from: "us-east" }], "soft");
    const stale = await get();
    expect([stale.state, text(stale)]).toEqual(["L2-STALE", "v1"]);
    let fresh = await get();
    for (let i = 0; i < 50 && fresh.state !== "L2-HIT"; i++) fresh = await get();
    expect([fresh.state, text(fresh)]).toEqual(["L2-HIT", "v2"]);
  });

  it("a hard invalidation drops the copy: the next request reads the origin again", async () => {
    const { shard, req, get, put } = setup();
    await put("v1");
    await get();
    await put("v2");
    await shard.apply([{ id: "e", version: Date.now(), keys: [req.key], mode: "hard", from: "us-east" }], "hard");
    const next = await get();
    expect([next.state, text(next)]).toEqual(["MISS", "v2"]);
  });

  it("collapses concurrent misses into one origin read (one MISS, the rest COALESCED)", async () => {
    const { shard, get, put } = setup();
    await put("slow");
    const answers = await Promise.all(Array.from({ length: 5 }, () => get({ originLatencyMs: 200 })));
    expect(answers.map((a) => a.state).sort()).toEqual(["COALESCED", "COALESCED", "COALESCED", "COALESCED", "MISS"]);
    expect(answers.every((a) => text(a) === "slow")).toBe(true);
    expect(await originReads(shard)).toBe(1);
  });

  it("serves the last good copy when the origin fails, and fails when it has none", async () => {
    const { get, put } = setup();
    await put("good");
    await get({ ttlSeconds: 0 });
    const served = await get({ ttlSeconds: 0, originFaultRate: 1 });
    expect([served.state, text(served)]).toEqual(["L2-STALE", "good"]);
    const empty = setup();
    const failure = await empty.get({ originFaultRate: 1 }).then(() => null, (err: unknown) => err);
    expect(String(failure)).toMatch(/origin unavailable/);
  });

  it("an object larger than it keeps comes back as the origin key to stream, and is not stored", async () => {
    const { shard, req, get, put } = setup("blob");
    await put("0123456789");
    const answer = await get({ maxStoredBytes: 4 });
    expect(answer).toMatchObject({ kind: "stream", state: "MISS", originKey: req.originKey, meta: { size: 10 } });
    expect((await shard.stats()).storedObjects).toBe(0);
  });
});
