// The engine's metrics as /_/metrics serves them: the invalidation lag histogram per region
// (recorded as each region applies a change) and latency quantiles per region and tier.
import { expect, it, vi } from "vitest";
import { metricsJson } from "../../helpers/metrics";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, readPackument, REGIONS } from "./helpers";

const metrics = () => metricsJson();

it("records how long each region took to apply a publish, and p50/p95/p99 per region and tier", async () => {
  const fetch = workerWith({});
  const lagCount = async (region: string) =>
    ((await metrics()).pkgedge_invalidation_lag_ms?.samples ?? []).find((s) => s.labels.region === region)?.count ?? 0;
  const before = Object.fromEntries(await Promise.all(REGIONS.map(async (r) => [r, await lagCount(r)] as const)));

  const npm = await npmPublisher(fetch);
  expect((await npm.publish("metrics-lag", "1.0.0")).status).toBe(201);
  for (const region of REGIONS) expect((await readPackument(fetch, "metrics-lag", region)).status).toBe(200);

  // The writer's region applies at once; the others when the queue delivers the event.
  await vi.waitFor(async () => {
    for (const region of REGIONS) expect(await lagCount(region), region).toBeGreaterThan(before[region]!);
  }, { timeout: 5000, interval: 50 });

  const durations = (await metrics()).pkgedge_request_duration_ms!.samples;
  const sample = durations.find((s) => s.labels.tier === "MISS" || s.labels.tier === "L2-HIT");
  expect(sample).toBeDefined();
  for (const q of ["p50", "p95", "p99"] as const) expect(typeof sample![q]).toBe("number");
  expect(sample!.p50!).toBeLessThanOrEqual(sample!.p99!);
});
