// Once a key is claimed, a PoP spends leases from its coordinator instead of calling it per
// request, and a refused caller is refused locally until its wait is over; the limit holds.
// Proven with the coordinator's own counters (checks, leases, lent, returned).
import { describe, expect, it } from "vitest";
import { workerWith } from "../../helpers/worker";
import { bearer, createToken } from "../../helpers/tokens";
import { coordinatorOf, count } from "./helpers";

describe("leases", { timeout: 30_000 }, () => {
  it("a hot PoP past its threshold asks the coordinator for a small share of its requests", async () => {
    const fetch = workerWith({ RATE_LIMIT_TOKEN: "100000/60s", RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: "0.0001" });
    const { token, id } = await createToken({ scopes: ["read"] });
    const headers = { ...bearer(token), "x-pkgedge-region": "us-east" };
    const statuses: number[] = [];
    // 40 waves of 10 concurrent requests: 400 requests, the first 10 local, the rest claimed.
    for (let w = 0; w < 40; w++) {
      statuses.push(...(await Promise.all(Array.from({ length: 10 }, () => fetch("/npm/-/ping", { headers })))).map((r) => r.status));
    }
    expect(count(statuses, 200)).toBe(400);
    const stats = await (await coordinatorOf(`token:${id}`)).stats();
    // Before leases every one of the 390 claimed requests was a check().
    expect(stats.checks).toBeLessThan(60);
    expect(stats.leases).toBeGreaterThan(0);
    // Every request the PoP let through is in the log (admitted, reported or lent).
    expect(stats.inWindow).toBeGreaterThanOrEqual(400);
  });

  it("a refused caller is refused here without asking again until its wait is over", async () => {
    const fetch = workerWith({ RATE_LIMIT_TOKEN: "20/60s", RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: "0.1" });
    const { token, id } = await createToken({ scopes: ["read"] });
    const headers = { ...bearer(token), "x-pkgedge-region": "eu-west" };
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetch("/npm/-/ping", { headers })).status);
    // Sequential, one PoP: exactly the limit (leases never exceed what is left).
    expect(count(statuses, 200)).toBe(20);
    const coordinator = await coordinatorOf(`token:${id}`);
    const before = (await coordinator.stats()).checks;
    const more = await Promise.all(Array.from({ length: 20 }, () => fetch("/npm/-/ping", { headers })));
    expect(more.map((r) => r.status)).toEqual(Array(20).fill(429));
    expect(more[0]!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await coordinator.stats()).checks).toBe(before);
  });
});
