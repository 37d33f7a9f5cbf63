// Which dependencies prefetch follows and which version it picks for each: what npm would install.
import { describe, expect, it } from "vitest";
import type { Packument, VersionManifest } from "../../../workers/npm/packument";
import { dependenciesOf, registryDependency, resolveSpec } from "../../../workers/npm/prefetch";

function doc(versions: Record<string, Partial<VersionManifest>>, tags: Record<string, string>): Packument {
  const full = Object.fromEntries(Object.entries(versions).map(([v, m]) => [v, { name: "p", version: v, dist: { integrity: "", shasum: "", tarball: "" }, ...m }]));
  return { _id: "p", name: "p", _rev: "1-x", "dist-tags": tags, versions: full, time: { created: "", modified: "" } } as Packument;
}

describe("resolveSpec", () => {
  const p = doc({ "1.0.0": {}, "1.2.0": {}, "1.3.0": { deprecated: "broken" }, "2.0.0": {}, "3.0.0-rc.1": {} }, { latest: "2.0.0", next: "3.0.0-rc.1" });

  it("picks latest when it satisfies, else the highest satisfying version that is not deprecated", () => {
    expect(resolveSpec(p, "^2")).toBe("2.0.0");
    expect(resolveSpec(p, ">=1")).toBe("2.0.0");
    expect(resolveSpec(p, "^1")).toBe("1.2.0");
    expect(resolveSpec(p, "~1.3")).toBe("1.3.0");
    expect(resolveSpec(p, "^4")).toBeNull();
  });

  it("follows dist-tags, and treats * and an empty spec as latest", () => {
    expect(resolveSpec(p, "next")).toBe("3.0.0-rc.1");
    expect(resolveSpec(p, "latest")).toBe("2.0.0");
    expect(resolveSpec(p, "*")).toBe("2.0.0");
    expect(resolveSpec(p, "")).toBe("2.0.0");
    expect(resolveSpec(p, "nope")).toBeNull();
  });
});

describe("registryDependency and dependenciesOf", () => {
  it("keeps registry ranges and tags, resolves npm: aliases, skips the rest", () => {
    expect(registryDependency("a", "^1.2.3")).toEqual({ name: "a", spec: "^1.2.3" });
    expect(registryDependency("a", "beta")).toEqual({ name: "a", spec: "beta" });
    expect(registryDependency("a", "npm:@scope/b@^2")).toEqual({ name: "@scope/b", spec: "^2" });
    expect(registryDependency("a", "npm:b")).toEqual({ name: "b", spec: "latest" });
    for (const spec of ["git+https://example.invalid/x.git", "github:user/repo", "user/repo", "file:../x", "link:../x", "https://example.invalid/x.tgz", "workspace:*"]) {
      expect(registryDependency("a", spec)).toBeNull();
    }
    expect(registryDependency("Not A Name", "^1")).toBeNull();
  });

  it("orders dependencies, optional, then required peers; never dev; bounded by the fan-out", () => {
    const manifest = {
      name: "p", version: "1.0.0", dist: { integrity: "", shasum: "", tarball: "" },
      dependencies: { d1: "^1", d2: "^1" },
      optionalDependencies: { o1: "^1", d1: "^1" },
      peerDependencies: { p1: "^1", p2: "^1" },
      peerDependenciesMeta: { p2: { optional: true } },
      devDependencies: { dev: "^1" },
    } as VersionManifest;
    expect(dependenciesOf(manifest, 16).map((d) => d.name)).toEqual(["d1", "d2", "o1", "p1"]);
    expect(dependenciesOf(manifest, 2).map((d) => d.name)).toEqual(["d1", "d2"]);
  });
});
