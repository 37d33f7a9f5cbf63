// ANONYMOUS_READ=false: every read needs a token, whatever the caches hold, and what a token
// reads is marked `private` so no shared cache between us and the client keeps it.
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeCache } from "../../../shared/tiers/edge-cache";
import { packumentVariantKey, tarballCacheKey } from "../../../workers/npm/objects";
import { tarballFile } from "../../../workers/npm/names";
import { ABBREVIATED_TYPE } from "../../../workers/npm/packument";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";
import { BASE, workerWith, type Fetch } from "../../helpers/worker";

type Read = (npm: NpmClient, name: string) => Promise<Response>;

// [what, read]: each read gets its own package, so each starts with cold caches.
const READS: Array<[string, Read]> = [
  ["the full packument", (npm, name) => npm.getPackument(name)],
  ["the abbreviated packument", (npm, name) => npm.getPackument(name, ABBREVIATED_TYPE)],
  ["a tarball", (npm, name) => npm.getTarball(name, "1.0.0")],
];
const packageFor = (what: string) => what.replace(/\W+/g, "-").replace(/^-|-$/g, "");

/** Publishes 1.0.0 of each name with a fresh publish token. */
async function publishAll(registry: NpmClient, names: string[]): Promise<void> {
  const publisher = registry.as((await createToken({ scopes: ["publish"] }, registry.fetch)).token);
  for (const name of names) expect((await publisher.publish(name, "1.0.0")).status).toBe(201);
}

describe("with ANONYMOUS_READ=false", () => {
  const registry = new NpmClient(workerWith({ ANONYMOUS_READ: "false" }));
  let reader: NpmClient;
  let outsider: NpmClient;
  beforeAll(async () => {
    reader = registry.as((await createToken({ scopes: ["read"] }, registry.fetch)).token);
    outsider = registry.as((await createToken({ scopes: ["read"], packages: ["@other/*"] }, registry.fetch)).token);
    await publishAll(registry, [...READS.map(([what]) => packageFor(what)), "private-meta"]);
  });

  it.each(READS)("%s needs a token even right after an authorized read of the same URL", async (what, read) => {
    const name = packageFor(what);
    const authorized = await read(reader, name);
    expect(authorized.status).toBe(200);
    expect(authorized.headers.get("cache-control")).toMatch(/^private\b/);
    // The same read again comes from this PoP's cache: the bytes are there to leak.
    const again = await read(reader, name);
    expect([again.status, again.headers.get("x-pkgedge-cache")]).toEqual([200, "L1-HIT"]);

    await expectNpmError(await read(registry, name), 401, /authentication required to read/);
    await expectNpmError(await read(registry.as(`pke_${"B".repeat(40)}`), name), 401, /invalid, expired or revoked token/);
    await expectNpmError(await read(outsider, name), 403, `token may not read ${name}`);
  });

  it("answers a conditional request without a token with 401, not 304", async () => {
    const etag = (await reader.getPackument("private-meta")).headers.get("etag")!;
    expect(etag).toBeTruthy();
    expect((await reader.request("/npm/private-meta", { headers: { "if-none-match": etag } })).status).toBe(304);
    await expectNpmError(await registry.request("/npm/private-meta", { headers: { "if-none-match": etag } }), 401, /authentication required/);
  });

  it("needs a token for version manifests, dist-tags and whoami too", async () => {
    await expectNpmError(await registry.request("/npm/private-meta/1.0.0"), 401, /authentication required/);
    await expectNpmError(await registry.getDistTags("private-meta"), 401, /authentication required/);
    await expectNpmError(await registry.request("/npm/-/whoami"), 401, /authentication required/);
    expect((await reader.request("/npm/private-meta/1.0.0")).status).toBe(200);
    expect(await (await reader.getDistTags("private-meta")).json()).toEqual({ latest: "1.0.0" });
  });
});

const REGIONS = ["us-east", "eu-west", "ap-south"];
const inRegion = (fetch: Fetch, region: string): Fetch => (path, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("x-pkgedge-region", region);
  return fetch(path, { ...init, headers });
};
// The L1 entry each read fills, so a test can empty L1 and leave only the shield (L2) warm.
const L1_KEYS: Record<string, (name: string) => string> = {
  "the full packument": (name) => packumentVariantKey(name, "full", BASE),
  "the abbreviated packument": (name) => packumentVariantKey(name, "abbreviated", BASE),
  "a tarball": (name) => tarballCacheKey(name, tarballFile(name, "1.0.0")),
};

describe("with ANONYMOUS_READ=false, in every region, with L1 and then only L2 warm", () => {
  const fetch = workerWith({ ANONYMOUS_READ: "false" });
  let readerToken: string;
  let outsiderToken: string;
  beforeAll(async () => {
    readerToken = (await createToken({ scopes: ["read"] }, fetch)).token;
    outsiderToken = (await createToken({ scopes: ["read"], packages: ["@other/*"] }, fetch)).token;
    await publishAll(new NpmClient(fetch), READS.map(([what]) => `tiers-${packageFor(what)}`));
  });

  it.each(READS)("%s is never served from a cache entry to a caller without an equivalent token", async (what, read) => {
    const name = `tiers-${packageFor(what)}`;
    for (const region of REGIONS) {
      const registry = new NpmClient(inRegion(fetch, region));
      const reader = registry.as(readerToken);
      expect((await read(reader, name)).status).toBe(200);
      expect((await read(reader, name)).headers.get("x-pkgedge-cache")).toBe("L1-HIT");
      const refusals = async () => {
        await expectNpmError(await read(registry, name), 401, /authentication required to read/);
        await expectNpmError(await read(registry.as(`pke_${"C".repeat(40)}`), name), 401, /invalid, expired or revoked token/);
        await expectNpmError(await read(registry.as(outsiderToken), name), 403, `token may not read ${name}`);
      };
      await refusals();
      // Empty this region's L1: the bytes are now only in the region's shield.
      expect(await (await EdgeCache.open(region)).delete(L1_KEYS[what]!(name))).toBe(true);
      await refusals();
      // Proof that L2 was warm while those requests were refused.
      const fromShield = await read(reader, name);
      expect([fromShield.status, fromShield.headers.get("x-pkgedge-cache")]).toEqual([200, "L2-HIT"]);
      expect(fromShield.headers.get("cache-control")).toMatch(/^private\b/);
    }
  });
});

describe("with ANONYMOUS_READ=true (wrangler.toml)", () => {
  const registry = new NpmClient();
  beforeAll(() => publishAll(registry, READS.map(([what]) => `public-${packageFor(what)}`)));

  it.each(READS)("%s is served to anyone and marked public", async (what, read) => {
    const res = await read(registry, `public-${packageFor(what)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toMatch(/^public\b/);
  });
});
