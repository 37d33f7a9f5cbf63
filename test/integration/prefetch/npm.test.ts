// Predictive prefetch for npm: one packument read warms, in that region's shields, the
// packuments of the dependencies a client would resolve and the tarballs their ranges pick.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { worker, workerWith } from "../../helpers/worker";
import { NpmClient } from "../../helpers/npm-client";
import { createToken } from "../../helpers/tokens";
import { tiersFor } from "../edge-cache/helpers";
import {
  npmPublisher, originReads, packumentState, prefetched, publishTree, publishVersion, tarballState, type Tree,
} from "./helpers";

let npm: NpmClient;
beforeAll(async () => {
  npm = await npmPublisher(workerWith({}));
});

describe("npm predictive prefetch", () => {
  it("after one packument request for a, the first requests for b and c are shield hits", async () => {
    const region = "eu-west";
    const tree: Tree = await publishTree(npm, "pf-main");
    const readsBefore = await originReads(region);
    const packumentsBefore = await prefetched(region, "packument");
    const tarballsBefore = await prefetched(region, "tarball");

    expect(await packumentState(worker, tree.a, region)).toBe("MISS");
    // The Worker's own entry point: its waitUntil work runs on after the response.
    await vi.waitFor(async () => {
      expect(await prefetched(region, "packument")).toBe(packumentsBefore + 2);
      expect(await prefetched(region, "tarball")).toBe(tarballsBefore + 2);
    }, { timeout: 5000, interval: 50 });
    // a, b and c's packuments and the two resolved tarballs: one origin read each.
    expect(await originReads(region)).toBe(readsBefore + 5);

    // Versions the ranges do not pick (b's and c's latest among them) were left alone. (Asked
    // first: serving b's packument below prefetches for b's own latest, which needs c@^3.)
    expect(await tarballState(worker, tree.b, "2.0.0", region)).toBe("MISS");
    expect(await tarballState(worker, tree.c, "3.0.0", region)).toBe("MISS");
    expect(await tarballState(worker, tree.c, "2.1.0", region)).toBe("MISS");
    // devDependencies are not installed for a dependency.
    expect(await packumentState(worker, tree.dev, region)).toBe("MISS");
    // Prefetched objects were read from the origin once; only the four MISSes above read it again.
    expect(await originReads(region)).toBe(readsBefore + 5 + 4);

    expect(await tarballState(worker, tree.b, "1.4.0", region)).toBe("L2-HIT");
    expect(await tarballState(worker, tree.c, "2.2.0", region)).toBe("L2-HIT");
    expect(await packumentState(worker, tree.b, region)).toBe("L2-HIT");
    expect(await packumentState(worker, tree.c, region)).toBe("L2-HIT");
  });

  it("serving the same packument again does not repeat the work", async () => {
    const region = "ap-south";
    const fetch = workerWith({});
    const tree = await publishTree(npm, "pf-repeat");
    await packumentState(fetch, tree.a, region);
    const reads = await originReads(region);
    const counts = [await prefetched(region, "packument"), await prefetched(region, "tarball")];
    expect(await packumentState(fetch, tree.a, region)).toBe("L1-HIT");
    expect(await packumentState(fetch, tree.a, region, { accept: "application/json" })).toBe("L2-HIT");
    expect([await prefetched(region, "packument"), await prefetched(region, "tarball")]).toEqual(counts);
    expect(await originReads(region)).toBe(reads);
  });

  it("stops at PREFETCH_DEPTH levels: with 1, b is warmed and c is not", async () => {
    const region = "us-east";
    const fetch = workerWith({ PREFETCH_DEPTH: "1" });
    const tree = await publishTree(npm, "pf-depth");
    await packumentState(fetch, tree.a, region);
    // c first: serving b's packument would prefetch one level below b.
    expect(await packumentState(fetch, tree.c, region)).toBe("MISS");
    expect(await tarballState(fetch, tree.c, "2.2.0", region)).toBe("MISS");
    expect(await tarballState(fetch, tree.b, "1.4.0", region)).toBe("L2-HIT");
    expect(await packumentState(fetch, tree.b, region)).toBe("L2-HIT");
  });

  it("PREFETCH=false prefetches nothing", async () => {
    const region = "eu-west";
    const fetch = workerWith({ PREFETCH: "false" });
    const tree = await publishTree(npm, "pf-off");
    const counts = [await prefetched(region, "packument"), await prefetched(region, "tarball")];
    const reads = await originReads(region);
    expect(await packumentState(fetch, tree.a, region)).toBe("MISS");
    expect(await originReads(region)).toBe(reads + 1);
    expect([await prefetched(region, "packument"), await prefetched(region, "tarball")]).toEqual(counts);
    expect(await packumentState(fetch, tree.b, region)).toBe("MISS");
    expect(await tarballState(fetch, tree.b, "1.4.0", region)).toBe("MISS");
  });

  it("warms at most PREFETCH_FANOUT dependencies of one version", async () => {
    const region = "ap-south";
    const fetch = workerWith({ PREFETCH_FANOUT: "3", PREFETCH_DEPTH: "1" });
    const deps = Array.from({ length: 6 }, (_, i) => `pf-fan-dep${i}`);
    for (const dep of deps) await publishVersion(npm, dep, "1.0.0");
    await publishVersion(npm, "pf-fan-root", "1.0.0", { dependencies: Object.fromEntries(deps.map((d) => [d, "^1.0.0"])) });
    const reads = await originReads(region);
    await packumentState(fetch, "pf-fan-root", region);
    // The root, then three packuments and three tarballs.
    expect(await originReads(region)).toBe(reads + 1 + 3 + 3);
    const states = await Promise.all(deps.map((d) => packumentState(fetch, d, region)));
    // Dependencies in the order the manifest lists them.
    expect(states).toEqual(["L2-HIT", "L2-HIT", "L2-HIT", "MISS", "MISS", "MISS"]);
  });

  it("resolves dist-tags and npm: aliases, and skips git, file and URL specs", async () => {
    const region = "us-east";
    const fetch = workerWith({});
    await publishVersion(npm, "pf-spec-tagged", "1.0.0");
    await publishVersion(npm, "pf-spec-tagged", "2.0.0-beta.1", {});
    const tag = await npm.setDistTag("pf-spec-tagged", "next", "2.0.0-beta.1");
    expect(tag.status).toBe(201);
    await publishVersion(npm, "pf-spec-target", "4.1.0");
    await publishVersion(npm, "pf-spec-git", "1.0.0");
    await publishVersion(npm, "pf-spec-root", "1.0.0", {
      dependencies: {
        "pf-spec-tagged": "next",
        "pf-spec-alias": "npm:pf-spec-target@^4",
        "pf-spec-git": "git+ssh://git@example.invalid/x/y.git",
        "pf-spec-file": "file:../local",
      },
    });
    const reads = await originReads(region);
    await packumentState(fetch, "pf-spec-root", region);
    expect(await originReads(region)).toBe(reads + 1 + 2 + 2);
    expect(await tarballState(fetch, "pf-spec-tagged", "2.0.0-beta.1", region)).toBe("L2-HIT");
    expect(await tarballState(fetch, "pf-spec-target", "4.1.0", region)).toBe("L2-HIT");
    expect(await packumentState(fetch, "pf-spec-git", region)).toBe("MISS");
  });
});

describe("npm prefetch for private packages", () => {
  it("warms only dependencies the caller's token may read", async () => {
    const region = "eu-west";
    const fetch = workerWith({ ANONYMOUS_READ: "false" });
    const admin = await npmPublisher(fetch);
    await publishVersion(admin, "pf-team-dep", "1.0.0");
    await publishVersion(admin, "pf-other-dep", "1.0.0");
    await publishVersion(admin, "pf-team-root", "1.0.0", { dependencies: { "pf-team-dep": "^1", "pf-other-dep": "^1" } });
    const { token } = await createToken({ scopes: ["read"], packages: ["pf-team-*"] });
    const reader = new NpmClient(fetch, token);
    const headers = { authorization: `Bearer ${token}` };

    expect(await packumentState(reader.fetch, "pf-team-root", region, headers)).toBe("MISS");
    expect(await packumentState(reader.fetch, "pf-team-dep", region, headers)).toBe("L2-HIT");
    // Outside the token's patterns: the prefetch run never touched it.
    expect((await reader.getPackument("pf-other-dep")).status).toBe(403);
    expect(await packumentState(admin.fetch, "pf-other-dep", region, { authorization: `Bearer ${admin.token}` })).toBe("MISS");
  });

  it("a cold packument GET costs exactly one shield call: prefetch reuses the document the rendering parsed", async () => {
    const region = "us-east";
    const name = "pf-one-call";
    await publishVersion(npm, name, "1.0.0");
    const before = await shieldCalls(region);
    const res = await workerWith({ PREFETCH: "true" })(`/npm/${name}`, { headers: { "x-pkgedge-region": region } });
    expect([res.status, res.headers.get("x-pkgedge-cache")]).toEqual([200, "MISS"]);
    // workerWith waited for the request's background work (prefetch included) to finish.
    expect(await shieldCalls(region)).toBe(before + 1);
  });
});

/** Calls that reached `region`'s shields: stored copies served, origin reads, joined reads. */
async function shieldCalls(region: string): Promise<number> {
  let n = 0;
  for (const s of await tiersFor({}, region).shieldStats()) {
    if (s.region === region) n += s.stats.hits + s.stats.originFetches.metadata + s.stats.originFetches.blob + s.stats.coalesced + s.stats.negativeHits + s.stats.staleServed;
  }
  return n;
}
