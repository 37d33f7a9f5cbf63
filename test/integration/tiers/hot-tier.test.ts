// The hot tier in isolate memory, as a client sees it: a packument, a tarball or an OCI manifest
// read often enough is answered `HOT-HIT` (and counted so in pkgedge_requests_total), while one
// read a few times stays an L1-HIT; a publish, an unpublish or a purge by key, tag or prefix
// drops the memory copy in every region before the next read; authorization still decides every
// request (a private copy needs a token each time and stays `private`); mutable copies expire;
// and HOT_TIER_BYTES=0 or HOT_TIER_MAX_OBJECT_BYTES keep objects out.
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { metric } from "../../helpers/metrics";
import { expectNpmError } from "../../helpers/npm-expect";
import { publisher, randomImage } from "../../helpers/oci";
import { createToken } from "../../helpers/tokens";
import { BASE, workerWith, type Fetch } from "../../helpers/worker";
import { EdgeCache } from "../../../shared/tiers/edge-cache";
import { packumentVariantKey } from "../../../workers/npm/objects";
import { npmPublisher, postPurge, sleep } from "../edge-cache/helpers";

// The pool's default HOT_TIER_ADMIT_HITS: the 4th L1 hit copies an object into memory.
const ADMIT = 4;
const fetch = workerWith({});
let npm: NpmClient;

beforeAll(async () => {
  npm = await npmPublisher(fetch);
});

const inRegion = (region: string): RequestInit => ({ headers: { "x-pkgedge-region": region, accept: "application/json" } });

async function read(path: string, region = "us-east", via: Fetch = fetch, init: RequestInit = inRegion(region)): Promise<{ state: string | null; body: string; res: Response }> {
  const res = await via(path, init);
  return { state: res.headers.get("x-pkgedge-cache"), body: new TextDecoder().decode(await res.arrayBuffer()), res };
}

/** States of `n` reads in a row. */
async function states(path: string, n: number, region = "us-east", via: Fetch = fetch): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await read(path, region, via)).state ?? "none");
  return out;
}

/** The answer states of reading until the key is hot: MISS, ADMIT L1-HITs (the last copies it), then HOT-HIT. */
const UNTIL_HOT = ["MISS", ...Array(ADMIT).fill("L1-HIT"), "HOT-HIT"];

describe("admission", () => {
  it("a packument read a few times stays an L1-HIT; on its 4th L1 hit it is copied and then answered from memory", async () => {
    expect((await npm.publish("hot-admit", "1.0.0")).status).toBe(201);
    const path = "/npm/hot-admit";
    const seen = await states(path, UNTIL_HOT.length + 2);
    expect(seen).toEqual([...UNTIL_HOT, "HOT-HIT", "HOT-HIT"]);
    // The same bytes from every tier.
    const cold = JSON.parse((await read(path, "ap-south")).body);
    const hot = await read(path);
    expect(hot.state).toBe("HOT-HIT");
    expect(JSON.parse(hot.body)).toEqual(cold);
    expect(hot.res.headers.get("content-length")).toBe(String(new TextEncoder().encode(hot.body).byteLength));
  });

  it("a tarball and an OCI manifest and blob become HOT-HITs, each in the region that read it", async () => {
    expect((await npm.publish("hot-tarball", "1.0.0")).status).toBe(201);
    const tgz = "/npm/hot-tarball/-/hot-tarball-1.0.0.tgz";
    expect(await states(tgz, UNTIL_HOT.length)).toEqual(UNTIL_HOT);
    // Each region has its own L1, and so its own memory copies.
    expect((await read(tgz, "eu-west")).state).toBe("MISS");

    const oci = await publisher(fetch);
    const image = await randomImage({ layers: 1, layerSize: 2048 });
    await oci.pushImage("hot/image", "v1", image);
    for (const path of ["/v2/hot/image/manifests/v1", `/v2/hot/image/manifests/${image.manifest.digest}`, `/v2/hot/image/blobs/${image.layers[0]!.digest}`]) {
      const seen: string[] = [];
      for (let i = 0; i < UNTIL_HOT.length; i++) {
        const res = await oci.request(path, { headers: { "x-pkgedge-region": "us-east", accept: image.manifest.mediaType } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        seen.push(res.headers.get("x-pkgedge-cache") ?? "none");
      }
      expect(seen.at(-1), path).toBe("HOT-HIT");
    }
  });

  it("counts HOT-HIT answers under their own tier label in pkgedge_requests_total", async () => {
    const labels = { tier: "HOT-HIT", protocol: "npm", region: "us-east" };
    const before = await metric("pkgedge_requests_total", labels, fetch);
    const seen = await states("/npm/hot-admit", UNTIL_HOT.length);
    const hot = seen.filter((s) => s === "HOT-HIT").length;
    expect(hot).toBeGreaterThan(0);
    expect(await metric("pkgedge_requests_total", labels, fetch)).toBe(before + hot);
  });
});

describe("invalidation drops the memory copy", () => {
  it("a publish drops the hot packument in every region: never HOT-HIT again with the old versions", async () => {
    const name = "hot-publish";
    const REGIONS = ["us-east", "eu-west", "ap-south"];
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    for (const region of REGIONS) expect((await states(`/npm/${name}`, UNTIL_HOT.length, region)).at(-1)).toBe("HOT-HIT");
    expect((await npm.publish(name, "1.1.0")).status).toBe(201);
    // us-east (eager, the writer's region) has it at once; the lazy regions apply it after the
    // response and may serve their shield's stale copy (L2-STALE) once while it revalidates.
    for (const region of REGIONS) {
      const seen: string[] = [];
      let versions: string[] = [];
      for (let i = 0; i < 50 && versions.length < 2; i++) {
        const r = await read(`/npm/${name}`, region);
        seen.push(r.state ?? "none");
        versions = Object.keys(JSON.parse(r.body).versions);
        if (versions.length < 2) expect(r.state, `${region}: ${seen.join(",")}`).toBe("L2-STALE");
        else await sleep(20);
      }
      expect(versions, region).toEqual(["1.0.0", "1.1.0"]);
      if (region === "us-east") expect(seen).toEqual(["MISS"]);
    }
  });

  it("an unpublished version's hot tarball is not served again", async () => {
    const name = "hot-unpublish";
    for (const v of ["1.0.0", "1.1.0"]) expect((await npm.publish(name, v)).status).toBe(201);
    const tgz = `/npm/${name}/-/${name}-1.1.0.tgz`;
    expect((await states(tgz, UNTIL_HOT.length)).at(-1)).toBe("HOT-HIT");
    const { update } = await npm.unpublishVersion(name, "1.1.0");
    expect(update.status).toBeLessThan(300);
    expect((await fetch(tgz, inRegion("us-east"))).status).toBe(404);
  });

  // [how, purge body]: each purge must drop the hot copy, so the next read is a MISS.
  const PURGES: Array<[string, (name: string) => Record<string, unknown>]> = [
    ["by key", (name) => ({ keys: [`npm:tarball:${name}/${name}-1.0.0.tgz`], mode: "hard" })],
    ["by tag", (name) => ({ tags: [`npm:${name}`], mode: "hard" })],
    ["by prefix", (name) => ({ prefix: `npm:tarball:${name}/`, mode: "hard" })],
  ];
  it.each(PURGES)("a purge %s drops the hot tarball", async (how, body) => {
    const name = `hot-purge-${how.replace(" ", "-")}`;
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    const tgz = `/npm/${name}/-/${name}-1.0.0.tgz`;
    expect((await states(tgz, UNTIL_HOT.length)).at(-1)).toBe("HOT-HIT");
    expect((await postPurge(fetch, body(name))).status).toBe(202);
    expect((await read(tgz)).state).toBe("MISS");
  });
});

describe("authorization runs before the hot tier", () => {
  it("with ANONYMOUS_READ=false a hot packument still needs a token each time and stays private", async () => {
    const registry = new NpmClient(workerWith({ ANONYMOUS_READ: "false" }));
    const reader = registry.as((await createToken({ scopes: ["read"] }, registry.fetch)).token);
    const outsider = registry.as((await createToken({ scopes: ["read"], packages: ["@other/*"] }, registry.fetch)).token);
    const name = "hot-private";
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    let last: Response | undefined;
    for (let i = 0; i < UNTIL_HOT.length; i++) {
      last = await reader.getPackument(name);
      await last.arrayBuffer();
    }
    expect([last!.status, last!.headers.get("x-pkgedge-cache"), last!.headers.get("cache-control")]).toEqual([200, "HOT-HIT", expect.stringMatching(/^private\b/)]);
    await expectNpmError(await registry.getPackument(name), 401, /authentication required to read/);
    await expectNpmError(await registry.as(`pke_${"C".repeat(40)}`).getPackument(name), 401, /invalid, expired or revoked token/);
    await expectNpmError(await outsider.getPackument(name), 403, `token may not read ${name}`);
    // The public configuration reading the same hot copy marks it public: headers are per request.
    const pub = await npm.as(undefined).getPackument(name);
    await pub.arrayBuffer();
    expect([pub.headers.get("x-pkgedge-cache"), pub.headers.get("cache-control")]).toEqual(["HOT-HIT", expect.stringMatching(/^public\b/)]);
  });
});

describe("bounds", () => {
  it("a mutable copy lives HOT_TIER_METADATA_TTL, then L1 answers again (and copies it again)", async () => {
    const short = workerWith({ HOT_TIER_METADATA_TTL: "200ms" });
    expect((await npm.publish("hot-ttl", "1.0.0")).status).toBe(201);
    expect((await states("/npm/hot-ttl", UNTIL_HOT.length, "us-east", short)).at(-1)).toBe("HOT-HIT");
    await sleep(250);
    expect(await states("/npm/hot-ttl", 2, "us-east", short)).toEqual(["L1-HIT", "HOT-HIT"]);
  });

  it("a due copy whose L1 entry is gone (another isolate's invalidation) is dropped, not served while refreshing", async () => {
    const short = workerWith({ HOT_TIER_METADATA_TTL: "200ms" });
    expect((await npm.publish("hot-gone", "1.0.0")).status).toBe(201);
    expect((await states("/npm/hot-gone", UNTIL_HOT.length, "us-east", short)).at(-1)).toBe("HOT-HIT");
    // What a write handled by another isolate of this PoP does to L1: the entry goes, this
    // isolate's epochs do not move.
    expect(await (await EdgeCache.open("us-east")).delete(packumentVariantKey("hot-gone", "full", BASE))).toBe(true);
    await sleep(250);
    expect(await states("/npm/hot-gone", 2, "us-east", short)).toEqual(["L2-HIT", "L1-HIT"]);
  });

  it("HOT_TIER_BYTES=0 turns it off; objects over HOT_TIER_MAX_OBJECT_BYTES stay in L1", async () => {
    expect((await npm.publish("hot-off", "1.0.0")).status).toBe(201);
    const off = workerWith({ HOT_TIER_BYTES: "0" });
    expect(new Set((await states("/npm/hot-off", 10, "us-east", off)).slice(1))).toEqual(new Set(["L1-HIT"]));
    const tiny = workerWith({ HOT_TIER_MAX_OBJECT_BYTES: "64" });
    expect((await npm.publish("hot-big", "1.0.0")).status).toBe(201);
    expect(new Set((await states("/npm/hot-big/-/hot-big-1.0.0.tgz", 10, "us-east", tiny)).slice(1))).toEqual(new Set(["L1-HIT"]));
  });
});
