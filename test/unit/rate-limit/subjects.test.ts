// Route classes, the client address, the keys a request counts against, and the 429 fields.
import { describe, expect, it } from "vitest";
import { rateLimitHeaders, secondsFromMs } from "../../../shared/rate-limit/headers";
import { loadRateLimitSettings } from "../../../shared/rate-limit/policy";
import { clientIp, limitKeys, routeClass } from "../../../shared/rate-limit/subjects";

describe("routeClass", () => {
  it("puts credential endpoints in auth, whatever the method", () => {
    expect(routeClass("GET", "/v2/token")).toBe("auth");
    expect(routeClass("POST", "/_/tokens")).toBe("auth");
    expect(routeClass("DELETE", "/_/tokens/abc")).toBe("auth");
    expect(routeClass("GET", "/_/tokens")).toBe("auth");
    expect(routeClass("PUT", "/npm/-/user/org.couchdb.user:me")).toBe("auth");
  });

  it("puts every other write in publish and safe methods in read", () => {
    for (const [m, p] of [["PUT", "/npm/left-pad"], ["DELETE", "/npm/left-pad/-rev/3-a"], ["POST", "/v2/app/blobs/uploads/"], ["PATCH", "/v2/app/blobs/uploads/u"], ["POST", "/_/purge"]]) {
      expect(routeClass(m!, p!), `${m} ${p}`).toBe("publish");
    }
    for (const [m, p] of [["GET", "/npm/left-pad"], ["HEAD", "/v2/app/blobs/sha256:00"], ["GET", "/v2/"], ["options", "/npm/x"], ["GET", "/_/metrics"]]) {
      expect(routeClass(m!, p!), `${m} ${p}`).toBe("read");
    }
  });
});

describe("clientIp", () => {
  it("trusts only cf-connecting-ip in production", () => {
    expect(clientIp(new Headers({ "cf-connecting-ip": "198.51.100.4", "x-forwarded-for": "10.0.0.1" }), false)).toBe("198.51.100.4");
    expect(clientIp(new Headers({ "x-forwarded-for": "10.0.0.1" }), false)).toBe("unknown");
  });

  it("falls back to the first x-forwarded-for hop in dev", () => {
    expect(clientIp(new Headers({ "x-forwarded-for": "10.0.0.1, 10.0.0.2" }), true)).toBe("10.0.0.1");
    expect(clientIp(new Headers({ "cf-connecting-ip": "::1", "x-forwarded-for": "10.0.0.1" }), true)).toBe("::1");
    expect(clientIp(new Headers(), true)).toBe("unknown");
  });
});

describe("limitKeys", () => {
  const settings = loadRateLimitSettings({ RATE_LIMIT_TOKEN: "10/1s", RATE_LIMIT_IP: "20/1s", RATE_LIMIT_READ: "5/1s", RATE_LIMIT_PUBLISH: "off" });

  it("counts a token request against its token, its address and its route class per token", () => {
    expect(limitKeys(settings, "read", { tokenId: "t1", ip: "1.2.3.4" }).map((k) => [k.scope, k.key, k.policy.limit])).toEqual([
      ["token", "token:t1", 10],
      ["ip", "ip:1.2.3.4", 20],
      ["read", "read:token:t1", 5],
    ]);
  });

  it("counts an anonymous request by address, and skips limits that are off", () => {
    expect(limitKeys(settings, "read", { ip: "1.2.3.4" }).map((k) => k.key)).toEqual(["ip:1.2.3.4", "read:ip:1.2.3.4"]);
    expect(limitKeys(settings, "publish", { tokenId: "t1", ip: "1.2.3.4" }).map((k) => k.scope)).toEqual(["token", "ip"]);
  });

  it("merges a route class key into the caller's key when that one is always refused first", () => {
    const same = loadRateLimitSettings({ RATE_LIMIT_TOKEN: "10/1s", RATE_LIMIT_IP: "20/1s", RATE_LIMIT_READ: "20/1s" });
    // read:token:t1 counts a subset of token:t1 with a higher limit over the same window.
    expect(limitKeys(same, "read", { tokenId: "t1", ip: "1.2.3.4" }).map((k) => k.key)).toEqual(["token:t1", "ip:1.2.3.4"]);
    // read:ip counts a subset of ip with the same limit.
    expect(limitKeys(same, "read", { ip: "1.2.3.4" }).map((k) => k.key)).toEqual(["ip:1.2.3.4"]);
    // A different window is not covered: both stay.
    const longer = loadRateLimitSettings({ RATE_LIMIT_TOKEN: "10/1s", RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "20/10s" });
    expect(limitKeys(longer, "read", { tokenId: "t1", ip: "1.2.3.4" }).map((k) => k.key)).toEqual(["token:t1", "read:token:t1"]);
    // No token limit: the class key is the only per-token one.
    const noToken = loadRateLimitSettings({ RATE_LIMIT_TOKEN: "off", RATE_LIMIT_IP: "off", RATE_LIMIT_READ: "20/1s" });
    expect(limitKeys(noToken, "read", { tokenId: "t1", ip: "1.2.3.4" }).map((k) => k.key)).toEqual(["read:token:t1"]);
  });
});

describe("rateLimitHeaders", () => {
  it("writes the draft's structured fields with whole seconds", () => {
    expect(rateLimitHeaders("token", { limit: 600, windowMs: 60_000 }, 0, 16_200)).toEqual({
      "ratelimit-policy": '"token";q=600;w=60',
      ratelimit: '"token";r=0;t=17',
    });
    expect(rateLimitHeaders("auth", { limit: 3, windowMs: 1500 }, 0, 1)["ratelimit-policy"]).toBe('"auth";q=3;w=2');
    expect(secondsFromMs(0)).toBe(1);
  });
});
