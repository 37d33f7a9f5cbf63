// /_/health says whether L1 can work where the Worker runs: the Cache API keeps entries here
// (workerd, like a route on a zone), and a Cache API that keeps nothing, as on *.workers.dev, is
// reported as unavailable with a hint instead of L1 silently never hitting.
import { describe, expect, it } from "vitest";
import { probeCacheApi } from "../../../shared/tiers/l1-probe";
import { worker } from "../../helpers/worker";

/** A CacheStorage whose caches accept puts and keep nothing, which is what *.workers.dev gives. */
const forgetful = {
  open: async () => ({ put: async () => {}, match: async () => undefined, delete: async () => false }),
} as unknown as CacheStorage;

describe("/_/health", () => {
  it("reports L1 ok where the Cache API keeps entries, with no hint", async () => {
    const res = await worker("/_/health");
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ status: "ok", region: "us-east", l1: "ok" });
    expect(body).not.toHaveProperty("hint");
  });

  it("answers the same on a second call (the probe runs once per isolate)", async () => {
    expect(await (await worker("/_/health")).json()).toMatchObject({ l1: "ok" });
  });

  it("the probe tells a Cache API that keeps nothing from one that works", async () => {
    expect(await probeCacheApi(forgetful)).toBe("unavailable");
    expect(await probeCacheApi(caches)).toBe("ok");
  });
});
