// Global accuracy: a limit of N per window holds across three PoPs (regions) hit at once. Each
// PoP may admit up to its claim threshold t = floor(N x fraction) before it consults the
// coordinator, so at most N + (PoPs - 1) x t get through in one window (README "Rate limiting").
import { describe, expect, it } from "vitest";
import { workerWith } from "../../helpers/worker";
import { bearer, createToken } from "../../helpers/tokens";
import { leaseTtlMs } from "../../../shared/rate-limit/lease";
import { REGIONS, burst, count, sleep, windowStart } from "./helpers";

const N = 30;
const WINDOW_MS = 3000;
const FRACTION = 0.1;
const MARGIN = (REGIONS.length - 1) * Math.floor(N * FRACTION);
// Lent requests are booked at their lease's end, so they leave the window up to a lease late.
const WINDOW_GONE_MS = WINDOW_MS + leaseTtlMs(WINDOW_MS);

describe("global accuracy over three regions", { timeout: 20_000 }, () => {
  it(`a token limited to ${N} per window gets between ${N} and ${N}+${MARGIN} of ${3 * N} concurrent requests, and again next window`, async () => {
    const fetch = workerWith({ RATE_LIMIT_TOKEN: `${N}/${WINDOW_MS}ms`, RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: String(FRACTION) });
    const { token } = await createToken({ scopes: ["read"] });
    const headers = { ...bearer(token), "cf-connecting-ip": "192.0.2.10" };

    await windowStart(WINDOW_MS);
    const first = await burst(fetch, 3 * N, "/npm/-/ping", headers);
    expect(count(first, 200) + count(first, 429)).toBe(3 * N);
    expect(count(first, 200)).toBeGreaterThanOrEqual(N);
    expect(count(first, 200)).toBeLessThanOrEqual(N + MARGIN);
    // Still the same window: every region is refused now.
    expect(await burst(fetch, 3, "/npm/-/ping", headers)).toEqual([429, 429, 429]);

    await sleep(WINDOW_GONE_MS);
    await windowStart(WINDOW_MS);
    const second = await burst(fetch, 3 * N, "/npm/-/ping", headers);
    expect(count(second, 200)).toBeGreaterThanOrEqual(N);
    expect(count(second, 200)).toBeLessThanOrEqual(N + MARGIN);
  });

  it(`an address limited to ${N} per window gets between ${N} and ${N}+${MARGIN}, and again next window`, async () => {
    const fetch = workerWith({ RATE_LIMIT_IP: `${N}/${WINDOW_MS}ms`, RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: String(FRACTION) });
    const headers = { "cf-connecting-ip": "198.51.100.77" };

    await windowStart(WINDOW_MS);
    const first = await burst(fetch, 3 * N, "/npm/-/ping", headers);
    expect(count(first, 200)).toBeGreaterThanOrEqual(N);
    expect(count(first, 200)).toBeLessThanOrEqual(N + MARGIN);
    expect(count(first, 429)).toBe(3 * N - count(first, 200));
    // Another address is not affected.
    expect(await burst(fetch, 3, "/npm/-/ping", { "cf-connecting-ip": "198.51.100.78" })).toEqual([200, 200, 200]);

    await sleep(WINDOW_GONE_MS);
    await windowStart(WINDOW_MS);
    const second = await burst(fetch, 3 * N, "/npm/-/ping", headers);
    expect(count(second, 200)).toBeGreaterThanOrEqual(N);
    expect(count(second, 200)).toBeLessThanOrEqual(N + MARGIN);
  });
});

// With leases the claimed part of a window is exact (lent requests are booked before they are
// spent), so a small claim fraction brings the whole bound within a few percent of N.
describe("global accuracy within a few percent", { timeout: 30_000 }, () => {
  const BIG_N = 300;
  const SMALL_FRACTION = 0.01;
  const SMALL_MARGIN = (REGIONS.length - 1) * Math.floor(BIG_N * SMALL_FRACTION);

  it(`a token limited to ${BIG_N} per window gets between ${BIG_N} and ${BIG_N}+${SMALL_MARGIN} (2%) of ${2 * BIG_N} concurrent requests over three regions`, async () => {
    const fetch = workerWith({ RATE_LIMIT_TOKEN: `${BIG_N}/${WINDOW_MS}ms`, RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "off", RATE_LIMIT_CLAIM_FRACTION: String(SMALL_FRACTION) });
    const { token } = await createToken({ scopes: ["read"] });
    const headers = { ...bearer(token), "cf-connecting-ip": "192.0.2.11" };

    await windowStart(WINDOW_MS);
    const first = await burst(fetch, 2 * BIG_N, "/npm/-/ping", headers);
    expect(count(first, 200) + count(first, 429)).toBe(2 * BIG_N);
    expect(count(first, 200)).toBeGreaterThanOrEqual(BIG_N);
    expect(count(first, 200)).toBeLessThanOrEqual(BIG_N + SMALL_MARGIN);
    expect(await burst(fetch, 3, "/npm/-/ping", headers)).toEqual([429, 429, 429]);
  });
});
