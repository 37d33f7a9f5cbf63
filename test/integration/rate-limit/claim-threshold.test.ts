// Below the claim threshold the coordinator is never asked: each PoP counts on its own. Proven
// with the check() counter the coordinator keeps, which does move once a PoP crosses it.
import { describe, expect, it } from "vitest";
import { workerWith } from "../../helpers/worker";
import { bearer, createToken } from "../../helpers/tokens";
import { REGIONS, burst, coordinatorOf } from "./helpers";

describe("claim threshold", () => {
  it("no request reaches the coordinator while every PoP is under its threshold", async () => {
    // Limit 100, fraction 0.1: each region decides alone for its first 10 requests per window.
    const fetch = workerWith({ RATE_LIMIT_TOKEN: "100/60s", RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: "0.1" });
    const { token, id } = await createToken({ scopes: ["read"] });
    const headers = bearer(token);
    const coordinator = await coordinatorOf(`token:${id}`);

    // 27 requests in all (more than one PoP's threshold), 9 per region: none crosses its own.
    expect(await burst(fetch, 27, "/npm/-/ping", headers)).toEqual(Array(27).fill(200));
    expect(await coordinator.stats()).toMatchObject({ checks: 0, reported: 0, inWindow: 0 });

    // Two more in one region: the 10th is still local, the 11th goes to the coordinator, hands
    // over that region's ten and comes back with a lease (booked in the window at once).
    for (let i = 0; i < 2; i++) expect((await fetch("/npm/-/ping", { headers: { ...headers, "x-pkgedge-region": REGIONS[0]! } })).status).toBe(200);
    const stats = await coordinator.stats();
    expect(stats).toMatchObject({ checks: 1, reported: 10, admitted: 1, leases: 1 });
    expect(stats.lent).toBeGreaterThan(0);
    expect(stats.inWindow).toBe(11 + stats.lent);
  });

  it("the default limits keep a busy client local: 300 requests from one token never reach a coordinator", async () => {
    const fetch = workerWith({});
    const { token, id } = await createToken({ scopes: ["read"] });
    const headers = { ...bearer(token), "cf-connecting-ip": "203.0.113.200" };
    expect(await burst(fetch, 300, "/npm/-/ping", headers)).toEqual(Array(300).fill(200));
    for (const key of [`token:${id}`, "ip:203.0.113.200", `read:token:${id}`]) {
      expect((await (await coordinatorOf(key)).stats()).checks, key).toBe(0);
    }
  });
});
