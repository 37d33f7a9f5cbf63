// A sweep of bad input over every write route (npm, OCI, admin): deep nesting, prototype keys
// and random JSON each get a 4xx in the protocol's own format, and nothing is stored.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { publishBody } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { basic, content, expectOciError, imageManifest, MEDIA, OciClient, ociKeys, type OciCode } from "../../helpers/oci";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

// Many requests each: room for a machine shared with other test runs.
const PROPERTY_TIMEOUT_MS = 60_000;

const fetch = workerWith({ RATE_LIMIT_ENABLED: "false" });

/** JSON text nesting `depth` objects (built as text: a test-side stringify would overflow too). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const DEPTHS = [65, 1000, 20_000];
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype);

async function expectJson4xx(res: Response): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(400);
  expect(res.status, text).toBeLessThan(500);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(["error"]);
  return body.error as string;
}

async function expectOci4xx(res: Response): Promise<void> {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const code = (await res.clone().json<{ errors: Array<{ code: OciCode }> }>()).errors[0]!.code;
  await expectOciError(res, res.status, code);
}

async function storedUnder(prefix: string): Promise<string[]> {
  return (await env.BLOBS.list({ prefix })).objects.map((o) => o.key);
}

async function tokenCount(): Promise<number> {
  return (await env.TOKENS.list({ prefix: "token-id:" })).keys.length;
}

describe("deep nesting", () => {
  let npm: NpmClient;
  let oci: OciClient;
  beforeAll(async () => {
    const { token } = await createToken({ scopes: ["publish"] }, fetch);
    npm = new NpmClient(fetch, token);
    oci = new OciClient(fetch, basic(token));
    expect((await npm.publish("deep-existing", "1.0.0")).status).toBe(201);
  });

  it.each(DEPTHS)("a version manifest %i levels deep: 400, nothing stored", async (depth) => {
    const name = `deep-${depth}`;
    const text = JSON.stringify(await publishBody(name, "1.0.0")).replace('"description":', `"deep":${nested(depth)},"description":`);
    const error = await expectJson4xx(await npm.putPackument(name, text));
    expect(error).toMatch(/nests deeper than 64 levels/);
    expect(await storedUnder(`npm/${name}/`)).toEqual([]);
  });

  it.each(DEPTHS)("the metadata PUT and the dist-tag PUT %i levels deep: 400, nothing changed", async (depth) => {
    const before = await npm.packument("deep-existing");
    const doc = JSON.stringify(before).replace('"_rev":', `"deep":${nested(depth)},"_rev":`);
    await expectJson4xx(await npm.putPackument("deep-existing", doc, before._rev));
    await expectJson4xx(await npm.request("/npm/-/package/deep-existing/dist-tags/beta", { method: "PUT", headers: { "content-type": "application/json" }, body: nested(depth) }));
    expect((await npm.packument("deep-existing"))._rev).toBe(before._rev);
  });

  it.each(DEPTHS)("an OCI manifest %i levels deep: a 4xx envelope, nothing stored", async (depth) => {
    const before = await ociKeys();
    const config = await content("{}");
    const image = await imageManifest({ config, layers: [] });
    await oci.pushBlobs("deep/app", config);
    const afterBlob = await ociKeys();
    const text = new TextDecoder().decode(image.bytes).replace('"schemaVersion":', `"annotations":{"deep":${JSON.stringify(nested(depth))}},"x":${nested(depth)},"schemaVersion":`);
    const res = await oci.request("/v2/deep/app/manifests/v1", { method: "PUT", headers: { "content-type": MEDIA.manifest }, body: text });
    await expectOci4xx(res);
    expect(afterBlob.length).toBeGreaterThanOrEqual(before.length);
    expect(await ociKeys()).toEqual(afterBlob);
  });

  it.each(["/_/tokens", "/_/purge", "/_/warm"])("an admin body %s 20,000 levels deep: 400 in {error}", async (path) => {
    const tokens = await tokenCount();
    await expectJson4xx(await fetch(path, { method: "POST", headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" }, body: nested(20_000) }));
    expect(await tokenCount()).toBe(tokens);
  });
});

describe("admin token creation", () => {
  const expiresIn = fc.oneof(fc.double(), fc.constantFrom(1e300, -0, Infinity, 2 ** 53, "60", null, [], {}));
  const shaped = fc.record({
    name: fc.oneof(fc.string(), fc.constantFrom(...PROTO_KEYS)),
    scopes: fc.oneof(fc.array(fc.constantFrom("read", "publish", "admin", "__proto__", "constructor")), fc.anything()),
    packages: fc.oneof(fc.constant([]), fc.array(fc.oneof(fc.string(), fc.constantFrom(...PROTO_KEYS))), fc.anything()),
    expiresIn,
  }, { requiredKeys: [] });
  const bodies = fc.oneof(fc.json(), shaped.map((b) => JSON.stringify(b)), fc.constantFrom(...PROTO_KEYS).map((k) => `{"${k}": {"scopes": ["admin"]}, "name": "n"}`));

  it("answers 201 for a valid request and a 400 in {error} for anything else, creating nothing", async () => {
    await fc.assert(fc.asyncProperty(bodies, async (body) => {
      const tokens = await tokenCount();
      const res = await fetch("/_/tokens", { method: "POST", headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" }, body });
      if (res.status === 201) {
        const made = await res.json<{ packages?: string[]; scopes: string[]; expiresAt?: string }>();
        expect(made.packages === undefined || made.packages.length > 0).toBe(true);
        if (made.expiresAt) expect(Number.isNaN(Date.parse(made.expiresAt))).toBe(false);
        expect(await tokenCount()).toBe(tokens + 1);
        return;
      }
      expect(res.status).toBe(400);
      await expectJson4xx(res);
      expect(await tokenCount()).toBe(tokens);
    }), { numRuns: 80 });
  }, PROPERTY_TIMEOUT_MS);
});

describe("the other admin write routes", () => {
  it.each(["/_/purge", "/_/warm"])("%s: random JSON is a 2xx or a 4xx in {error}, never a 5xx", async (path) => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.json(), fc.constantFrom(...PROTO_KEYS).map((k) => `{"${k}": []}`)), async (body) => {
      const res = await fetch(path, { method: "POST", headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" }, body });
      if (res.status < 300) return void (await res.arrayBuffer());
      await expectJson4xx(res);
    }), { numRuns: 40 });
  }, PROPERTY_TIMEOUT_MS);
});

describe("npm write bodies with prototype keys", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  it("a publish keyed by one (versions, dist-tags, attachments) is refused or stored as an own key, never a 5xx", async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PROTO_KEYS), fc.constantFrom("versions", "dist-tags", "_attachments"), async (key, where) => {
      const name = `proto-body-${n++}`;
      const body = await publishBody(name, "1.0.0");
      const text = JSON.stringify(body).replace(`"${where}":{`, `"${where}":{"${key}":${where === "dist-tags" ? '"1.0.0"' : "{}"},`);
      const res = await npm.putPackument(name, text);
      if (res.status === 201) {
        // A tag may carry such a name, and is then an own key of the stored dist-tags; an extra
        // attachment is ignored (only the version's own tarball is stored).
        expect(where).not.toBe("versions");
        if (where === "dist-tags") expect(Object.hasOwn((await npm.packument(name))["dist-tags"], key)).toBe(true);
        expect((await storedUnder(`npm/${name}/`)).sort()).toEqual([`npm/${name}/-/${name}-1.0.0.tgz`, `npm/${name}/packument.json`]);
        return;
      }
      await expectJson4xx(res);
      expect(await storedUnder(`npm/${name}/`)).toEqual([]);
    }), { numRuns: 60 });
  }, PROPERTY_TIMEOUT_MS);
});
