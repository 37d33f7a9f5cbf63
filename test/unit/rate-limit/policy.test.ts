// Policy vars: the "<requests>/<window>" syntax, defaults, and errors at start-up for bad values.
import { describe, expect, it } from "vitest";
import { claimThreshold, loadRateLimitSettings, parsePolicy } from "../../../shared/rate-limit/policy";

describe("parsePolicy", () => {
  it("reads requests per window in ms, s, m or h, and a bare count with the default window", () => {
    expect(parsePolicy("600/60s", 1000)).toEqual({ limit: 600, windowMs: 60_000 });
    expect(parsePolicy("600/60", 1000)).toEqual({ limit: 600, windowMs: 60_000 });
    expect(parsePolicy("30/1500ms", 1000)).toEqual({ limit: 30, windowMs: 1500 });
    expect(parsePolicy("5 / 2m", 1000)).toEqual({ limit: 5, windowMs: 120_000 });
    expect(parsePolicy("1/1h", 1000)).toEqual({ limit: 1, windowMs: 3_600_000 });
    expect(parsePolicy("1/0.5s", 1000)).toEqual({ limit: 1, windowMs: 500 });
    expect(parsePolicy("42", 60_000)).toEqual({ limit: 42, windowMs: 60_000 });
  });

  it("turns a limit off with off or 0", () => {
    expect(parsePolicy("off", 1000)).toBeNull();
    expect(parsePolicy("OFF", 1000)).toBeNull();
    expect(parsePolicy("0", 1000)).toBeNull();
  });

  it("refuses anything else, naming the var", () => {
    for (const bad of ["", "-1/60s", "ten/60s", "10/60d", "10/0s", "10/50ms", "1e3/60s", "10//60s", "0/60s"]) {
      expect(() => parsePolicy(bad, 1000, "RATE_LIMIT_IP"), bad).toThrow(/RATE_LIMIT_IP/);
    }
  });
});

describe("loadRateLimitSettings", () => {
  it("has generous defaults when no var is set", () => {
    const s = loadRateLimitSettings({});
    expect(s.enabled).toBe(true);
    expect(s.claimFraction).toBe(0.1);
    expect(s.policies.token).toEqual({ limit: 100_000, windowMs: 60_000 });
    expect(s.policies.publish).toEqual({ limit: 1000, windowMs: 60_000 });
    expect(s.policies.auth).toEqual({ limit: 300, windowMs: 60_000 });
  });

  it("applies vars, the default window, the switch and off", () => {
    const s = loadRateLimitSettings({
      RATE_LIMIT_ENABLED: "false",
      RATE_LIMIT_WINDOW_SECONDS: "10",
      RATE_LIMIT_TOKEN: "50",
      RATE_LIMIT_IP: "off",
      RATE_LIMIT_CLAIM_FRACTION: "0.25",
    });
    expect(s.enabled).toBe(false);
    expect(s.policies.token).toEqual({ limit: 50, windowMs: 10_000 });
    expect(s.policies.ip).toBeUndefined();
    expect(s.claimFraction).toBe(0.25);
  });

  it("refuses a claim fraction outside (0, 1) and a bad window", () => {
    for (const f of ["0", "1", "1.5", "-0.1", "half"]) expect(() => loadRateLimitSettings({ RATE_LIMIT_CLAIM_FRACTION: f }), f).toThrow(/CLAIM_FRACTION/);
    expect(() => loadRateLimitSettings({ RATE_LIMIT_WINDOW_SECONDS: "0" })).toThrow(/WINDOW_SECONDS/);
  });
});

describe("claimThreshold", () => {
  it("is the fraction of the limit, rounded down, and never below one request", () => {
    expect(claimThreshold({ limit: 100, windowMs: 1000 }, 0.1)).toBe(10);
    expect(claimThreshold({ limit: 30, windowMs: 1000 }, 0.1)).toBe(3);
    expect(claimThreshold({ limit: 5, windowMs: 1000 }, 0.1)).toBe(1);
  });
});
