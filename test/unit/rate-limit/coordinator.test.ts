// The RateLimiter Durable Object itself: exact enforcement, reports from PoPs, the claim it
// hands out, and alarm expiry that leaves no state behind.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../../durable-objects/rate-limiter";
import { coordinatorName } from "../../../shared/rate-limit/coordinator";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function coordinator(key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(await coordinatorName(key)));
}

const rows = (instance: RateLimiter, state: DurableObjectState) =>
  state.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(n), 0) AS n FROM hits").one().n;

describe("RateLimiter", () => {
  it("admits exactly the limit, counting what PoPs report, and says how long the key stays hot", async () => {
    const stub = await coordinator("unit:exact");
    const first = await stub.check({ limit: 5, windowMs: 10_000, threshold: 2, reported: 2 });
    expect(first).toMatchObject({ allowed: true, remaining: 2 });
    // Three requests in the window (2 reported + 1) >= threshold 2: hot until two of them leave.
    expect(first.claimUntil).toBeGreaterThan(Date.now() + 9_000);
    const rest = [];
    for (let i = 0; i < 4; i++) rest.push(await stub.check({ limit: 5, windowMs: 10_000, threshold: 2, reported: 0 }));
    expect(rest.map((a) => a.allowed)).toEqual([true, true, false, false]);
    expect(rest[3]!.retryAfterMs).toBeGreaterThan(9_000);
    expect(rest[3]!.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(await stub.stats()).toMatchObject({ checks: 5, admitted: 3, denied: 2, reported: 2, inWindow: 5 });
  });

  it("keeps its window in SQLite and expires it by alarm, leaving nothing stored", async () => {
    const stub = await coordinator("unit:alarm");
    for (let i = 0; i < 3; i++) await stub.check({ limit: 10, windowMs: 1000, threshold: 1, reported: i === 0 ? 4 : 0 });
    const before = await stub.stats();
    expect(before.inWindow).toBe(7);
    expect(before.alarmAt).not.toBeNull();
    // The log reaches SQLite in batches (every 200 ms).
    await sleep(300);
    expect(await runInDurableObject(stub, rows)).toBe(7);

    // Fired early (before the window ends), the alarm keeps the state and sets itself again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, rows)).toBe(7);
    expect((await stub.stats()).alarmAt).not.toBeNull();

    // Past the window. Miniflare may already have fired the alarm on time; if not, fire it now.
    // Only alarm() removes rows without a check(), so what follows proves the alarm expired them.
    await sleep(800);
    await runDurableObjectAlarm(stub);
    const after = await stub.stats();
    expect(after).toMatchObject({ inWindow: 0, alarmAt: null });
    expect(await runInDurableObject(stub, rows)).toBe(0);
    expect(await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT * FROM meta").toArray())).toEqual([]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
    // Nothing pending any more: a second run finds no alarm.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    // And the key works again from an empty window.
    expect(await stub.check({ limit: 1, windowMs: 1000, threshold: 1, reported: 0 })).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("reloads its window from SQLite when the object starts again", async () => {
    const stub = await coordinator("unit:reload");
    await stub.check({ limit: 3, windowMs: 60_000, threshold: 1, reported: 2 });
    await sleep(300);
    // Simulate eviction: a fresh instance over the same storage must see the same three.
    const reloaded = await runInDurableObject(stub, async (instance: RateLimiter, state) => {
      const fresh = new (instance.constructor as typeof RateLimiter)(state, env);
      await state.blockConcurrencyWhile(async () => {});
      return fresh.check({ limit: 3, windowMs: 60_000, threshold: 1, reported: 0 });
    });
    expect(reloaded).toMatchObject({ allowed: false });
  });
});
