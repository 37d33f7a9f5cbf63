// What a limited client sees: 429 with Retry-After and the IETF RateLimit fields, in the npm and
// OCI error formats; the metric; the admin secret exempt; and the coordinator-unreachable rule
// (reads go through, writes are refused).
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../../workers/app";
import { metric } from "../../helpers/metrics";
import { BASE, workerWith, type Fetch } from "../../helpers/worker";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";

// Limit 2 with fraction 0.5: one request decided locally, the second by the coordinator, the third refused.
const TIGHT = { RATE_LIMIT_CLAIM_FRACTION: "0.5", RATE_LIMIT_READ: "off" };

async function untilRefused(fetch: Fetch, path: string, init: RequestInit, max = 10): Promise<Response> {
  for (let i = 0; i < max; i++) {
    const res = await fetch(path, init);
    if (res.status === 429) return res;
    await res.arrayBuffer();
  }
  throw new Error(`no 429 after ${max} requests to ${path}`);
}

function expectRateLimitFields(res: Response, scope: string, limit: number, windowSeconds: number): void {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(res.headers.get("ratelimit-policy")).toBe(`"${scope}";q=${limit};w=${windowSeconds}`);
  expect(res.headers.get("ratelimit")).toBe(`"${scope}";r=0;t=${retryAfter}`);
  expect(res.headers.get("cache-control")).toBe("no-store");
}

const rateLimitedTotal = (fetch: Fetch, scope: string) => metric("pkgedge_rate_limited_total", { scope }, fetch);

describe("429 responses", () => {
  it("npm: {error} with Retry-After, RateLimit-Policy and RateLimit, counted in pkgedge_rate_limited_total", async () => {
    const fetch = workerWith({ ...TIGHT, RATE_LIMIT_TOKEN: "2/20s", RATE_LIMIT_IP: "off" });
    const { token } = await createToken({ scopes: ["read"] });
    const before = await rateLimitedTotal(fetch, "token");
    const res = await untilRefused(fetch, "/npm/-/ping", { headers: bearer(token) });
    expectRateLimitFields(res, "token", 2, 20);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.json<{ error: string }>();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toMatch(/rate limit exceeded \(token: 2 requests per 20 s\)/);
    expect(await rateLimitedTotal(fetch, "token")).toBe(before + 1);
  });

  it("OCI GET /v2/: TOOMANYREQUESTS envelope with the same fields", async () => {
    const fetch = workerWith({ ...TIGHT, RATE_LIMIT_IP: "2/30s" });
    const res = await untilRefused(fetch, "/v2/", { headers: { "cf-connecting-ip": "203.0.113.9" } });
    expectRateLimitFields(res, "ip", 2, 30);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    const body = await res.json<{ errors: Array<{ code: string; message: string }> }>();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.code).toBe("TOOMANYREQUESTS");
    expect(body.errors[0]!.message).toMatch(/rate limit exceeded/);
  });

  it("OCI token endpoint counts as auth, limited per address", async () => {
    const fetch = workerWith({ ...TIGHT, RATE_LIMIT_IP: "off", RATE_LIMIT_AUTH: "2/10s" });
    const init = { headers: { "cf-connecting-ip": "203.0.113.10" } };
    const res = await untilRefused(fetch, "/v2/token?service=pkgedge&scope=repository:app:pull", init);
    expectRateLimitFields(res, "auth", 2, 10);
    expect((await res.json<{ errors: Array<{ code: string }> }>()).errors[0]!.code).toBe("TOOMANYREQUESTS");
    // Reads from the same address are another class.
    expect((await fetch("/v2/", init)).status).not.toBe(429);
  });

  it("npm publishes count as publish per token", async () => {
    const fetch = workerWith({ ...TIGHT, RATE_LIMIT_IP: "off", RATE_LIMIT_TOKEN: "off", RATE_LIMIT_PUBLISH: "2/10s" });
    const { token } = await createToken({ scopes: ["publish"] });
    const init = { method: "PUT", headers: { ...bearer(token), "content-type": "application/json" }, body: "{}" };
    const res = await untilRefused(fetch, "/npm/rl-publish-target", init);
    expectRateLimitFields(res, "publish", 2, 10);
    expect(Object.keys(await res.json<object>())).toEqual(["error"]);
  });

  it("never limits the admin secret", async () => {
    const fetch = workerWith({ ...TIGHT, RATE_LIMIT_IP: "2/60s", RATE_LIMIT_AUTH: "2/60s" });
    const headers = { ...bearer(ADMIN_SECRET), "cf-connecting-ip": "203.0.113.11" };
    for (let i = 0; i < 8; i++) {
      expect((await fetch("/npm/-/ping", { headers })).status).toBe(200);
      expect((await fetch("/_/tokens", { headers })).status).toBe(200);
    }
  });
});

describe("coordinator unreachable", () => {
  // The one stand-in in these tests: a namespace whose objects cannot be reached, as in an outage.
  const unreachable = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => ({ check: () => Promise.reject(new Error("Durable Object unreachable")) }),
  };
  const fetchWith: Fetch = async (path, init) => {
    const custom = { ...env, ...TIGHT, RATE_LIMIT_IP: "2/60s", RATE_LIMITER: unreachable } as unknown as Cloudflare.Env;
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, init), custom, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  };

  it("lets reads through (fail open)", async () => {
    const headers = { "cf-connecting-ip": "203.0.113.20" };
    for (let i = 0; i < 5; i++) expect((await fetchWith("/npm/-/ping", { headers })).status).toBe(200);
  });

  it("refuses publishes with 503 and Retry-After (fail closed), in the protocol's format", async () => {
    const { token } = await createToken({ scopes: ["publish"] });
    const init = { method: "PUT", headers: { ...bearer(token), "cf-connecting-ip": "203.0.113.21", "content-type": "application/json" }, body: "{}" };
    // The first is decided locally (under the threshold); the second needs the coordinator.
    expect((await fetchWith("/npm/rl-outage", init)).status).not.toBe(503);
    const res = await fetchWith("/npm/rl-outage", init);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await res.json<{ error: string }>()).error).toMatch(/rate limiter is unreachable/);
  });
});
