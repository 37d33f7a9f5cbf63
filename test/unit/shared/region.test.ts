import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { resolveRegion } from "../../../shared/tiers/region";

const base = { REGIONS: "us-east,eu-west,ap-south", DEFAULT_REGION: "us-east" };
const request = (headers: Record<string, string> = {}, continent?: string) =>
  new Request("http://pkgedge.test/", { headers, ...(continent ? { cf: { continent } } : {}) });

describe("resolveRegion", () => {
  it("maps request.cf.continent onto the configured regions", () => {
    const config = loadConfig({ ...base, DEV_REGION_HEADER: "false" });
    expect(resolveRegion(request({}, "EU"), config)).toBe("eu-west");
    expect(resolveRegion(request({}, "OC"), config)).toBe("ap-south");
    expect(resolveRegion(request({}, "NA"), config)).toBe("us-east");
    expect(resolveRegion(request(), config)).toBe("us-east");
  });

  it("honours x-pkgedge-region only when DEV_REGION_HEADER is on, and only for known regions", () => {
    const prod = loadConfig({ ...base, DEV_REGION_HEADER: "false" });
    const dev = loadConfig({ ...base, DEV_REGION_HEADER: "true" });
    expect(resolveRegion(request({ "x-pkgedge-region": "ap-south" }, "EU"), prod)).toBe("eu-west");
    expect(resolveRegion(request({ "x-pkgedge-region": "ap-south" }, "EU"), dev)).toBe("ap-south");
    expect(resolveRegion(request({ "x-pkgedge-region": "mars" }, "EU"), dev)).toBe("eu-west");
  });
});

describe("loadConfig", () => {
  it("rejects a malformed number instead of guessing", () => {
    expect(() => loadConfig({ ...base, SHIELD_SHARDS: "four" })).toThrow(/SHIELD_SHARDS/);
  });
});
