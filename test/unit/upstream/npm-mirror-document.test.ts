// What pkgedge makes of an upstream packument before storing it, and the cooldown's view of
// it: only verifiable versions kept, tarball URLs on pkgedge, the upstream's own URLs kept aside
// (and only on the upstream's origin); young or undated versions hidden, latest moved and said so.
import { describe, expect, it } from "vitest";
import { applyCooldown, tooYoung } from "../../../workers/npm/cooldown";
import { renderPackument } from "../../../workers/npm/packument";
import { storedPackument } from "../../../workers/npm/upstream";

const UP = "http://127.0.0.1:4873";
const INTEGRITY = `sha512-${btoa(String.fromCharCode(...new Uint8Array(64).fill(7)))}`;
const version = (v: string, extra: Record<string, unknown> = {}) => ({ name: "pkg", version: v, dist: { integrity: INTEGRITY, tarball: `${UP}/pkg/-/pkg-${v}.tgz` }, ...extra });

describe("storedPackument", () => {
  it("rewrites tarball URLs to pkgedge paths and keeps the upstream's aside", () => {
    const doc = storedPackument("pkg", { name: "pkg", "dist-tags": { latest: "1.0.0" }, versions: { "1.0.0": version("1.0.0") }, time: { "1.0.0": "2020-01-01T00:00:00Z" } }, UP)!;
    expect(doc.versions["1.0.0"]!.dist.tarball).toBe("/npm/pkg/-/pkg-1.0.0.tgz");
    expect(doc._upstream!.tarballs["1.0.0"]).toBe(`${UP}/pkg/-/pkg-1.0.0.tgz`);
    const served = JSON.parse(renderPackument(doc, "full", "https://edge.example")) as Record<string, unknown>;
    expect(served._upstream).toBeUndefined();
  });

  it("leaves out versions it cannot verify and tags pointing at them", () => {
    const doc = storedPackument("pkg", {
      name: "pkg", "dist-tags": { latest: "2.0.0", stable: "1.0.0" },
      versions: { "1.0.0": version("1.0.0"), "2.0.0": { name: "pkg", version: "2.0.0", dist: { tarball: `${UP}/pkg/-/pkg-2.0.0.tgz` } }, "not-semver": version("not-semver") },
    }, UP)!;
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc["dist-tags"]).toEqual({ stable: "1.0.0" });
  });

  it("never follows a tarball URL to another origin", () => {
    const doc = storedPackument("pkg", { name: "pkg", "dist-tags": {}, versions: { "1.0.0": { ...version("1.0.0"), dist: { integrity: INTEGRITY, tarball: "http://evil.invalid/x.tgz" } } } }, UP)!;
    expect(doc._upstream!.tarballs["1.0.0"]).toBe(`${UP}/pkg/-/pkg-1.0.0.tgz`);
  });

  it("refuses a document for another name, and gives null for a tombstone", () => {
    expect(() => storedPackument("pkg", { name: "other", versions: {} }, UP)).toThrow(/packument of "other"/);
    expect(storedPackument("pkg", { name: "pkg", versions: {}, time: { unpublished: { time: "x", versions: ["1.0.0"] } } }, UP)).toBeNull();
  });
});

describe("applyCooldown", () => {
  const cutoff = Date.parse("2026-11-28T00:00:00Z");
  const cooldown = { cutoff, age: "72h" };
  const doc = storedPackument("pkg", {
    name: "pkg", "dist-tags": { latest: "1.2.0", next: "2.0.0-rc.1" },
    versions: { "1.0.0": version("1.0.0"), "1.1.0": version("1.1.0"), "1.2.0": version("1.2.0"), "2.0.0-rc.1": version("2.0.0-rc.1") },
    time: { "1.0.0": "2020-01-01T00:00:00Z", "1.1.0": "2026-11-01T00:00:00Z", "1.2.0": "2026-11-30T00:00:00Z" },
  }, UP)!;

  it("hides young and undated versions, drops their tags, moves latest and says so", () => {
    const cooled = applyCooldown(doc, cooldown);
    expect(Object.keys(cooled.versions)).toEqual(["1.0.0", "1.1.0"]);
    expect(cooled["dist-tags"]).toEqual({ latest: "1.1.0" });
    expect(cooled["pkgedge-cooldown"]).toEqual({ minReleaseAge: "72h", hiddenVersions: ["1.2.0", "2.0.0-rc.1"], latest: { upstream: "1.2.0", served: "1.1.0" } });
    expect(Object.keys(cooled.time)).not.toContain("1.2.0");
    expect(tooYoung(doc, "2.0.0-rc.1", cooldown)).toBe(true);
    expect(tooYoung(doc, "1.1.0", cooldown)).toBe(false);
  });

  it("never hides hosted packages, and does nothing without a cooldown", () => {
    const { _upstream, ...hosted } = doc;
    expect(applyCooldown(hosted as typeof doc, cooldown)).toBe(hosted);
    expect(applyCooldown(doc, null)).toBe(doc);
  });
});
