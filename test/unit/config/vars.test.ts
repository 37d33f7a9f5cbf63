// The one reader of wrangler vars: each kind of value, its default when unset, and errors that
// name the var and the value; and loadConfig's parse-once results, the shield policy included.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { boolean, duration, list, number, perRegion } from "../../../shared/config/vars";

describe("number", () => {
  it("takes the default when unset or empty, and the value when set", () => {
    expect(number({}, "SHIELD_SHARDS")).toBe(4);
    expect(number({ SHIELD_SHARDS: "" }, "SHIELD_SHARDS")).toBe(4);
    expect(number({ SHIELD_SHARDS: " 8 " }, "SHIELD_SHARDS")).toBe(8);
    expect(number({ FAILOVER_ERROR_RATE: "0.25" }, "FAILOVER_ERROR_RATE", { max: 1 })).toBe(0.25);
  });

  it.each([
    ["four", {}],
    ["-1", {}],
    ["2.5", { integer: true }],
    ["1.5", { max: 1 }],
    ["Infinity", {}],
  ])("refuses %s, naming the var and the value", (value, range) => {
    expect(() => number({ SHIELD_SHARDS: value }, "SHIELD_SHARDS", range)).toThrow(`wrangler var SHIELD_SHARDS must be`);
    expect(() => number({ SHIELD_SHARDS: value }, "SHIELD_SHARDS", range)).toThrow(`got "${value}"`);
  });
});

describe("boolean", () => {
  it.each([["true", true], ["TRUE", true], ["1", true], ["false", false], ["0", false], ["", true]])("reads %j as %s", (value, expected) => {
    expect(boolean({ PREFETCH: value }, "PREFETCH")).toBe(expected);
  });

  it("refuses anything else instead of reading it as false", () => {
    expect(() => boolean({ PREFETCH: "yes" }, "PREFETCH")).toThrow('wrangler var PREFETCH must be true or false, got "yes"');
  });
});

describe("list", () => {
  it("splits on commas and trims; an empty value is the empty list, an unset one the default", () => {
    expect(list({ OCI_ANONYMOUS_PULL: " public/* , library/alpine,," }, "OCI_ANONYMOUS_PULL")).toEqual(["public/*", "library/alpine"]);
    expect(list({ OCI_ANONYMOUS_PULL: "" }, "OCI_ANONYMOUS_PULL")).toEqual([]);
    expect(list({}, "OCI_ANONYMOUS_PULL")).toEqual(["*"]);
  });
});

describe("duration", () => {
  it.each([["30", 30], ["1500ms", 1.5], ["2m", 120], ["1h", 3600], ["0.5s", 0.5]])("reads %s as %s seconds", (value, seconds) => {
    expect(duration({ NEGATIVE_TTL_SECONDS: value }, "NEGATIVE_TTL_SECONDS", "s")).toBe(seconds);
  });

  it("converts to the var's own unit", () => {
    expect(duration({ FAILOVER_LATENCY_MS: "2s" }, "FAILOVER_LATENCY_MS", "ms")).toBe(2000);
    expect(duration({ UNPUBLISH_WINDOW_HOURS: "90m" }, "UNPUBLISH_WINDOW_HOURS", "h")).toBe(1.5);
  });

  it.each(["soon", "-5", "10d", "1e3"])("refuses %s, naming the var and the value", (value) => {
    expect(() => duration({ NEGATIVE_TTL_SECONDS: value }, "NEGATIVE_TTL_SECONDS", "s")).toThrow(new RegExp(`NEGATIVE_TTL_SECONDS must be .*got "${value}"`));
  });

  it("holds to a range", () => {
    expect(() => duration({ RATE_LIMIT_WINDOW_SECONDS: "0" }, "RATE_LIMIT_WINDOW_SECONDS", "s", { above: 0 })).toThrow(/RATE_LIMIT_WINDOW_SECONDS.*above 0.*got "0"/);
  });
});

describe("perRegion", () => {
  const strategy = (v: string) => (v === "eager" || v === "lazy" ? v : undefined);

  it("reads region:value pairs", () => {
    expect(perRegion({ INVALIDATION_STRATEGY: "us-east:eager, eu-west : lazy" }, "INVALIDATION_STRATEGY", strategy, "eager or lazy")).toEqual({ "us-east": "eager", "eu-west": "lazy" });
    expect(perRegion({ INVALIDATION_STRATEGY: "" }, "INVALIDATION_STRATEGY", strategy, "eager or lazy")).toEqual({});
  });

  it.each(["us-east", "us-east:", ":lazy", "us-east:later"])("refuses the pair %j, naming the var and the pair", (pair) => {
    expect(() => perRegion({ INVALIDATION_STRATEGY: `eu-west:lazy,${pair}` }, "INVALIDATION_STRATEGY", strategy, "eager or lazy")).toThrow(`wrangler var INVALIDATION_STRATEGY must be comma-separated region:value pairs with eager or lazy as the value, got "${pair}"`);
  });
});

describe("loadConfig", () => {
  it("parses once per env object", () => {
    const env = { DEV_MODE: "false" } as unknown as Cloudflare.Env;
    expect(loadConfig(env)).toBe(loadConfig(env));
    expect(loadConfig({ ...env })).not.toBe(loadConfig(env));
  });

  it("has wrangler.toml's values with no var set", () => {
    const config = loadConfig({});
    expect(config.regions).toEqual(["us-east", "eu-west", "ap-south"]);
    expect(config.defaultRegion).toBe("us-east");
    expect(config.tiers.strategy).toEqual({ "us-east": "eager", "eu-west": "lazy", "ap-south": "lazy" });
    expect(config.tiers.failover).toEqual({ "us-east": "eu-west", "eu-west": "us-east", "ap-south": "eu-west" });
    expect(config.rateLimit.policies.publish).toEqual({ limit: 1000, windowMs: 60_000 });
  });

  it("reads an empty map as none: no failover, every region eager", () => {
    const config = loadConfig({ FAILOVER_REGIONS: "", INVALIDATION_STRATEGY: "" });
    expect(config.tiers.failover).toEqual({});
    expect(config.tiers.strategy).toEqual({ "us-east": "eager", "eu-west": "eager", "ap-south": "eager" });
  });

  it("refuses a bad strategy and a region list that names none", () => {
    expect(() => loadConfig({ INVALIDATION_STRATEGY: "eu-west:lazzy" })).toThrow(/INVALIDATION_STRATEGY.*"eu-west:lazzy"/);
    expect(() => loadConfig({ REGIONS: " , " })).toThrow(/REGIONS/);
  });

  it("builds each region's shield policy once, from the cache settings", () => {
    const config = loadConfig({ REGIONS: "us-east,eu-west", FAILOVER_REGIONS: "eu-west:ap-south", DEV_MODE: "true", SHIELD_FAULT_REGIONS: "eu-west", ORIGIN_LATENCY_MS: "5", L2_METADATA_TTL: "60" });
    const policy = config.tiers.shieldPolicy;
    // Every configured region and every failover target has one.
    expect(Object.keys(policy).sort()).toEqual(["ap-south", "eu-west", "us-east"]);
    expect(policy["eu-west"]).toEqual({
      ttlSeconds: 60,
      maxStoredBytes: 16 * 1024 * 1024,
      capacityBytes: 1024 ** 3,
      region: "eu-west",
      negativeTtlSeconds: 10,
      staleIfErrorSeconds: 86_400,
      originFaultRate: 0,
      originLatencyMs: 5,
      shieldFault: true,
    });
    expect(policy["us-east"]!.shieldFault).toBe(false);
    expect(Object.isFrozen(policy["us-east"])).toBe(true);
    expect(loadConfig({}).tiers.shieldPolicy["us-east"]).toMatchObject({ originLatencyMs: 0, shieldFault: false });
  });

  it("keeps dev-only knobs off outside DEV_MODE, but still refuses malformed ones", () => {
    const config = loadConfig({ ORIGIN_FAULT_RATE: "1", ORIGIN_LATENCY_MS: "50", SHIELD_FAULT_REGIONS: "eu-west", PROPAGATION_DELAY_MS: "eu-west:300" });
    expect(config.tiers).toMatchObject({ originFaultRate: 0, originLatencyMs: 0, shieldFaultRegions: [], propagationDelayMs: { "eu-west": 0 } });
    expect(() => loadConfig({ ORIGIN_FAULT_RATE: "2" })).toThrow(/ORIGIN_FAULT_RATE/);
    expect(() => loadConfig({ PROPAGATION_DELAY_MS: "eu-west:soon" })).toThrow(/PROPAGATION_DELAY_MS/);
  });
});
