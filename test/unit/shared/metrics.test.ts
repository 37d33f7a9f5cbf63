// The metrics registry: quantiles from histogram buckets, and shield histograms merged into the
// edge registry as /_/metrics renders them.
import { describe, expect, it } from "vitest";
import { MetricsRegistry, quantile } from "../../../shared/metrics";

describe("quantile", () => {
  const bounds = [10, 100, 1000];
  it("interpolates inside the bucket that holds the rank", () => {
    // 100 observations: 50 at or below 10 ms, 90 at or below 100 ms, all at or below 1000 ms.
    expect(quantile(bounds, [50, 90, 100], 100, 0.5)).toBe(10);
    expect(quantile(bounds, [50, 90, 100], 100, 0.7)).toBe(55);
    expect(quantile(bounds, [50, 90, 100], 100, 0.95)).toBe(550);
  });
  it("answers null without observations and the last bound beyond it", () => {
    expect(quantile(bounds, [0, 0, 0], 0, 0.5)).toBeNull();
    expect(quantile(bounds, [0, 0, 0], 4, 0.99)).toBe(1000);
  });
});

describe("MetricsRegistry", () => {
  it("handles resolved once count into the same samples as inc() and observe()", () => {
    const m = new MetricsRegistry();
    const count = m.counter("c_total", "test", { b: "2", a: "1" });
    const time = m.histogram("h_ms", "test", { tier: "L1-HIT" }, [1, 10, 100]);
    count();
    count(2);
    m.inc("c_total", "test", { a: "1", b: "2" });
    for (const v of [0.5, 5, 50, 500]) time(v);
    m.observe("h_ms", "test", { tier: "L1-HIT" }, 10, [1, 10, 100]);
    const text = m.toPrometheus();
    expect(text).toContain('c_total{b="2",a="1"} 4');
    expect(text).toContain('h_ms_bucket{tier="L1-HIT",le="1"} 1');
    expect(text).toContain('h_ms_bucket{tier="L1-HIT",le="10"} 3');
    expect(text).toContain('h_ms_bucket{tier="L1-HIT",le="100"} 4');
    expect(text).toContain('h_ms_bucket{tier="L1-HIT",le="+Inf"} 5');
    expect(text).toContain('h_ms_count{tier="L1-HIT"} 5');
  });

  it("reports p50/p95/p99 per histogram sample in JSON", () => {
    const m = new MetricsRegistry();
    for (let i = 1; i <= 100; i++) m.observe("t_ms", "test", { tier: "L1-HIT" }, i);
    const sample = (m.toJSON().t_ms!.samples[0] as { p50: number; p95: number; p99: number; count: number });
    expect(sample.count).toBe(100);
    expect(sample.p50).toBeGreaterThan(25);
    expect(sample.p50).toBeLessThanOrEqual(50);
    expect(sample.p99).toBeGreaterThan(sample.p95);
    expect(sample.p99).toBeLessThanOrEqual(100);
  });

  it("merges histograms with their own bounds, summing samples with equal labels", () => {
    const m = new MetricsRegistry().merged([], [
      { name: "lag_ms", help: "lag", labels: { region: "eu-west" }, bounds: [100, 1000], counts: [1, 3], sum: 900, count: 3 },
      { name: "lag_ms", help: "lag", labels: { region: "eu-west" }, bounds: [100, 1000], counts: [0, 1], sum: 400, count: 1 },
    ]);
    const text = m.toPrometheus();
    expect(text).toContain('lag_ms_bucket{region="eu-west",le="100"} 1');
    expect(text).toContain('lag_ms_bucket{region="eu-west",le="1000"} 4');
    expect(text).toContain('lag_ms_bucket{region="eu-west",le="+Inf"} 4');
    expect(text).toContain('lag_ms_sum{region="eu-west"} 1300');
  });
});
