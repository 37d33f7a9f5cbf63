// Upstream settings and the rules built on them: every upstream off unless its URL is set,
// malformed values refused naming the var (never a guess), credentials kept to their own
// registry, private names never going upstream, and the cooldown's cutoff and exemptions.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { loadUpstreamSettings } from "../../../shared/config/upstream";
import { describeAge, ociUpstreamOf, releaseCutoff, upstreamOf } from "../../../shared/upstream/policy";

describe("loadUpstreamSettings", () => {
  it("has every upstream off by default", () => {
    const s = loadUpstreamSettings({});
    expect(s.npm).toBeUndefined();
    expect(s.oci).toBeUndefined();
    expect(s.pypi).toBeUndefined();
    expect(s.ociPrefixes).toEqual({});
    expect(s.minReleaseAgeMs).toEqual({});
  });

  it("reads URLs without their trailing slash, the token secret and the per-registry OCI credentials", () => {
    const s = loadUpstreamSettings({
      NPM_UPSTREAM: "http://127.0.0.1:4873/", NPM_UPSTREAM_TOKEN: "npm-secret",
      OCI_UPSTREAM: "http://127.0.0.1:5000", OCI_UPSTREAMS: "hub=http://127.0.0.1:5001,docker.io=http://127.0.0.1:5002",
      OCI_UPSTREAM_CREDENTIALS: "default:pw,hub=hubuser:hubpw",
    });
    expect(s.npm).toEqual({ url: "http://127.0.0.1:4873", credentials: "npm-secret" });
    expect(s.oci).toEqual({ url: "http://127.0.0.1:5000", credentials: "default:pw" });
    expect(s.ociPrefixes.hub).toEqual({ url: "http://127.0.0.1:5001", credentials: "hubuser:hubpw" });
    expect(s.ociPrefixes["docker.io"]).toEqual({ url: "http://127.0.0.1:5002" });
  });

  it.each([
    ["NPM_UPSTREAM", "not a url"],
    ["NPM_UPSTREAM", "ftp://127.0.0.1/"],
    ["OCI_UPSTREAMS", "=http://127.0.0.1:5000"],
    ["OCI_UPSTREAMS", "hub"],
    ["MIN_RELEASE_AGE", "npm"],
    ["MIN_RELEASE_AGE", "npm:soon"],
    ["MIN_RELEASE_AGE", "cargo:72h"],
    // OCI gives no publish time: a cooldown would be silently ignored, so it is refused.
    ["MIN_RELEASE_AGE", "oci:72h"],
  ])("refuses %s=%j, naming the var", (name, value) => {
    expect(() => loadUpstreamSettings({ [name]: value })).toThrow(`wrangler var ${name} must be`);
  });

  it("refuses credentials in a URL without echoing them", () => {
    expect(() => loadUpstreamSettings({ NPM_UPSTREAM: "http://user:hunter2@127.0.0.1:4873" })).toThrow(/without credentials/);
    expect(() => loadUpstreamSettings({ NPM_UPSTREAM: "http://user:hunter2@127.0.0.1:4873" })).not.toThrow(/hunter2/);
  });

  it("reads release ages in hours by default", () => {
    expect(loadUpstreamSettings({ MIN_RELEASE_AGE: "npm:72h,pypi:30m" }).minReleaseAgeMs).toEqual({ npm: 72 * 3_600_000, pypi: 30 * 60_000 });
    expect(loadUpstreamSettings({ MIN_RELEASE_AGE: "npm:2" }).minReleaseAgeMs).toEqual({ npm: 2 * 3_600_000 });
  });
});

describe("policy", () => {
  const config = loadConfig({
    NPM_UPSTREAM: "http://127.0.0.1:4873", OCI_UPSTREAM: "http://127.0.0.1:5000", OCI_UPSTREAMS: "hub=http://127.0.0.1:5001",
    UPSTREAM_PRIVATE: "@acme/*,acme-*,team/*", MIN_RELEASE_AGE: "npm:72h", MIN_RELEASE_AGE_EXEMPT: "left-pad,@trusted/*",
  });

  it.each([
    ["npm", "left-pad", "http://127.0.0.1:4873"],
    ["npm", "@acme/secret", null],
    ["npm", "acme-tools", null],
    ["oci", "library/alpine", "http://127.0.0.1:5000"],
    ["oci", "team/app", null],
    ["oci", "hub/library/alpine", "http://127.0.0.1:5001"],
    ["pypi", "requests", null],
  ] as const)("%s %s goes to %s", (protocol, name, url) => {
    expect(upstreamOf(config, protocol, name)?.url ?? null).toBe(url);
  });

  it("strips a prefix from the name the prefix's registry is asked for", () => {
    expect(ociUpstreamOf(config, "hub/library/alpine")?.remoteName).toBe("library/alpine");
    expect(ociUpstreamOf(config, "library/alpine")?.remoteName).toBe("library/alpine");
  });

  it("puts the cutoff the configured age before now, and none for exempt names or other protocols", () => {
    const now = Date.parse("2026-12-01T00:00:00Z");
    expect(releaseCutoff(config, "npm", "react", now)).toBe(now - 72 * 3_600_000);
    expect(releaseCutoff(config, "npm", "left-pad", now)).toBeNull();
    expect(releaseCutoff(config, "npm", "@trusted/x", now)).toBeNull();
    expect(releaseCutoff(config, "pypi", "requests", now)).toBeNull();
    expect(describeAge(72 * 3_600_000)).toBe("72h");
    expect(describeAge(90 * 60_000)).toBe("90m");
  });
});
