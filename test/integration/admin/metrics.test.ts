// /_/metrics and /_/metrics/top-keys: readable with the admin secret, an admin-scoped token or
// METRICS_TOKEN and by nobody else (METRICS_TOKEN opens nothing else); each isolate reuses the
// shields' answers for METRICS_SHIELD_CACHE_MS, so scrapes within that interval cost one fan-out.
import { describe, expect, it } from "vitest";
import { npmPublisher, readPackument, sleep } from "../edge-cache/helpers";
import { metric, metricsJson } from "../../helpers/metrics";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { worker, workerWith, type Fetch } from "../../helpers/worker";

const METRICS_TOKEN = "metrics-scraper-secret-0123456789";
const basic = (password: string) => ({ authorization: `Basic ${btoa(`prometheus:${password}`)}` });

describe("who may read the metrics", () => {
  const withToken = workerWith({ METRICS_TOKEN });

  it.each([
    ["no credentials", 401, {}],
    ["a wrong bearer", 401, bearer("not-the-secret")],
    ["a malformed Authorization header", 401, { authorization: "Bearer a b" }],
    ["the admin secret", 200, bearer(ADMIN_SECRET)],
    ["METRICS_TOKEN as a Bearer", 200, bearer(METRICS_TOKEN)],
    ["METRICS_TOKEN as a Basic password", 200, basic(METRICS_TOKEN)],
  ])("%s: %i", async (_, status, headers) => {
    for (const path of ["/_/metrics", "/_/metrics?format=json", "/_/metrics/top-keys"]) {
      const res = await withToken(path, { headers });
      expect(res.status, path).toBe(status);
      if (status === 401) {
        expect(res.headers.get("www-authenticate"), path).toMatch(/^Bearer /);
        expect(await res.json(), path).toEqual({ error: expect.stringMatching(/metrics/) });
      } else {
        expect(res.headers.get("cache-control"), path).toBe("no-store");
      }
    }
  });

  it("tokens: admin scope reads them, read or publish scope is refused with 403", async () => {
    const admin = await createToken({ scopes: ["admin"] });
    const reader = await createToken({ scopes: ["read", "publish"] });
    expect((await worker("/_/metrics", { headers: bearer(admin.token) })).status).toBe(200);
    const refused = await worker("/_/metrics?format=json", { headers: bearer(reader.token) });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/METRICS_TOKEN/) });
  });

  it("METRICS_TOKEN opens nothing but the metrics, and means nothing while unset", async () => {
    expect((await withToken("/_/tokens", { headers: bearer(METRICS_TOKEN) })).status).toBe(401);
    const purge = await withToken("/_/purge", { method: "POST", headers: { ...bearer(METRICS_TOKEN), "content-type": "application/json" }, body: JSON.stringify({ keys: ["x"], mode: "hard" }) });
    expect(purge.status).toBe(401);
    expect((await worker("/_/metrics", { headers: bearer(METRICS_TOKEN) })).status).toBe(401);
  });

  it("the Prometheus text names every family, and /_/health stays public", async () => {
    const text = await (await withToken("/_/metrics", { headers: bearer(METRICS_TOKEN) })).text();
    expect(text).toMatch(/^# TYPE pkgedge_requests_total counter$/m);
    expect(text).toMatch(/^# TYPE pkgedge_metrics_fanouts_total counter$/m);
    const health = await worker("/_/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
  });

  it("requests that bypass the tiers are counted with tier uncached, never none", async () => {
    expect((await worker("/npm/-/ping", { headers: { "x-pkgedge-region": "ap-south" } })).status).toBe(200);
    expect(await metric("pkgedge_requests_total", { region: "ap-south", protocol: "npm", tier: "uncached" })).toBeGreaterThan(0);
    expect(await metric("pkgedge_requests_total", { tier: "none" })).toBe(0);
  });
});

describe("the shields' answers are reused for METRICS_SHIELD_CACHE_MS", () => {
  const fanouts = (fetch: Fetch) => metric("pkgedge_metrics_fanouts_total", {}, fetch);
  const originFetches = (fetch: Fetch) => metric("pkgedge_origin_fetches_total", { region: "eu-west" }, fetch);

  it("scrapes within the interval share one fan-out and show the shields as they were", async () => {
    const cached = workerWith({ METRICS_SHIELD_CACHE_MS: "60s" });
    const before = await fanouts(cached);
    const origin = await originFetches(cached);
    await Promise.all(Array.from({ length: 10 }, () => metricsJson(cached)));
    // The counter is the isolate's: read it before the uncached scrapes below add theirs.
    expect(await fanouts(cached)).toBe(before);

    // A shield in eu-west reads the origin; the uncached view (the pool sets 0) sees it at once.
    const uncachedBefore = await originFetches(worker);
    expect((await (await npmPublisher()).publish("metrics-cache-a", "1.0.0")).status).toBe(201);
    expect((await readPackument(workerWith({}), "metrics-cache-a", "eu-west")).status).toBe(200);
    expect(await originFetches(worker)).toBeGreaterThan(uncachedBefore);
    expect(await originFetches(cached)).toBe(origin);
  });

  it("the first scrape after the interval asks the shields again", async () => {
    const cached = workerWith({ METRICS_SHIELD_CACHE_MS: "300ms" });
    const before = await fanouts(cached);
    expect((await (await npmPublisher()).publish("metrics-cache-b", "1.0.0")).status).toBe(201);
    expect((await readPackument(workerWith({}), "metrics-cache-b", "eu-west")).status).toBe(200);
    await sleep(350);
    expect(await fanouts(cached)).toBe(before + 1);
    expect(await originFetches(cached)).toBe(await originFetches(worker));
  });

  it("0 asks the shields on every scrape", async () => {
    const first = await fanouts(worker);
    expect(await fanouts(worker)).toBe(first + 1);
  });
});

describe("/_/metrics/top-keys", () => {
  it("lists the keys the shields hold, with their region and request count, most requested first", async () => {
    expect((await (await npmPublisher()).publish("metrics-top-key", "1.0.0")).status).toBe(201);
    const fetch = workerWith({});
    for (let i = 0; i < 2; i++) expect((await readPackument(fetch, "metrics-top-key", "ap-south")).status).toBe(200);
    const { keys } = await (await worker("/_/metrics/top-keys", { headers: bearer(ADMIN_SECRET) })).json<{ keys: Array<{ region: string; key: string; requests: number }> }>();
    expect(keys.find((k) => k.key.includes("metrics-top-key") && k.region === "ap-south")).toMatchObject({ requests: expect.any(Number) });
    expect(keys.map((k) => k.requests)).toEqual([...keys.map((k) => k.requests)].sort((a, b) => b - a));
    for (const region of ["us-east", "eu-west", "ap-south"]) expect(keys.filter((k) => k.region === region).length).toBeLessThanOrEqual(10);
  });
});
