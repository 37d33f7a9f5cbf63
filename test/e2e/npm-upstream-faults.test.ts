// An upstream that is slow or refuses (429 with Retry-After, 503), put in front of a real
// Verdaccio by a fault proxy: cached content is served stale with the header saying so, nothing
// cached is a 503 in npm's format (never a 404), and a Retry-After is honoured: the upstream is
// not asked again before it has passed.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { get, startRegistry, type Registry } from "./helpers";
import { startFaultProxy, type FaultProxy } from "./fault-proxy";
import { startUpstreamVerdaccio, type UpstreamVerdaccio } from "./upstream-verdaccio";

const OLD = "2020-01-01T00:00:00.000Z";
const TTL_SECONDS = 1;
let upstream: UpstreamVerdaccio;
let proxy: FaultProxy;
let registry: Registry;

beforeAll(async () => {
  upstream = await startUpstreamVerdaccio(["up-slow", "up-slow-never", "up-down", "up-down-never", "up-limited"].map((name) => ({ name, versions: [{ version: "1.0.0", time: OLD }] })));
  proxy = await startFaultProxy(upstream.url);
  registry = await startRegistry({ NPM_UPSTREAM: proxy.url, UPSTREAM_METADATA_TTL: String(TTL_SECONDS), UPSTREAM_TIMEOUT_MS: "1000", L1_METADATA_TTL: "1", NEGATIVE_TTL_SECONDS: "1" });
}, 180_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), proxy?.stop(), upstream?.stop()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asked = (path: string) => proxy.seen.filter((r) => r === `GET ${path}`).length;

async function read(name: string): Promise<{ status: number; upstream: string | null; error?: string; retryAfter: string | null }> {
  const res = await get(`${registry.npmUrl}${name}`);
  const body = (await res.json()) as { error?: string };
  return { status: res.status, upstream: res.headers.get("x-pkgedge-upstream"), retryAfter: res.headers.get("retry-after"), ...(body.error ? { error: body.error } : {}) };
}

describe.each([
  ["slower than UPSTREAM_TIMEOUT_MS", "up-slow", "up-slow-never", { kind: "delay", ms: 2500 }],
  ["answering 503", "up-down", "up-down-never", { kind: "status", status: 503 }],
] as const)("an upstream %s", (_, name, neverFetched, fault) => {
  test("serves the cached copy marked stale, and a name it never had as a 503", async () => {
    proxy.fault = { kind: "pass" };
    expect((await read(name)).upstream).toBe("fresh");
    proxy.fault = fault;
    await sleep((TTL_SECONDS + 1) * 1000);
    const stale = await read(name);
    expect(stale.status).toBe(200);
    expect(stale.upstream).toBe("stale");
    const never = await read(neverFetched);
    expect(never.status).toBe(503);
    expect(never.retryAfter).toBeTruthy();
    expect(never.error).toMatch(/upstream/);
    proxy.fault = { kind: "pass" };
  });
});

test("a 429 with Retry-After keeps pkgedge from asking the upstream again before it has passed", async () => {
  proxy.fault = { kind: "pass" };
  expect((await read("up-limited")).status).toBe(200);
  proxy.fault = { kind: "status", status: 429, retryAfter: 4 };
  await sleep((TTL_SECONDS + 1) * 1000);
  const before = asked("/up-limited");
  for (let i = 0; i < 5; i++) {
    const r = await read("up-limited");
    expect(r.status).toBe(200);
    expect(r.upstream).toBe("stale");
    await sleep(400);
  }
  // The first read after the lifetime asked once and was told to wait 4 s; the reads since did not ask.
  expect(asked("/up-limited") - before).toBe(1);
  proxy.fault = { kind: "pass" };
  await sleep(3000);
  for (let i = 0; i < 10 && (await read("up-limited")).upstream !== "fresh"; i++) await sleep(500);
  expect((await read("up-limited")).upstream).toBe("fresh");
  expect(asked("/up-limited") - before).toBeGreaterThanOrEqual(2);
});
