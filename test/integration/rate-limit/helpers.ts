// Shared by the rate-limit tests: bursts spread over regions, and the coordinator of a key.
import { env } from "cloudflare:workers";
import type { Fetch } from "../../helpers/worker";
import { coordinatorName } from "../../../shared/rate-limit/coordinator";

export const REGIONS = ["us-east", "eu-west", "ap-south"];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until a fixed window of `windowMs` has just begun, so a short burst falls inside one
 * window (PoPs count in fixed windows; the stated margin is per window).
 */
export async function windowStart(windowMs: number): Promise<void> {
  const into = Date.now() % windowMs;
  if (into > 50) await sleep(windowMs - into + 10);
}

/** Sends `total` requests at once, round-robin over the three regions; returns the statuses. */
export async function burst(fetch: Fetch, total: number, path: string, headers: Record<string, string>): Promise<number[]> {
  const responses = await Promise.all(
    Array.from({ length: total }, (_, i) => fetch(path, { headers: { ...headers, "x-pkgedge-region": REGIONS[i % REGIONS.length]! } })),
  );
  return responses.map((r) => r.status);
}

export const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/** The RateLimiter object for a limit key, as the edge addresses it. */
export async function coordinatorOf(key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(await coordinatorName(key)));
}
