// Names that users choose (dist-tags, versions, repositories) index objects: every
// Object.prototype key among them behaves as any other name, never as the prototype's member.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { basic, bearerToken, content, imageManifest, OciClient, tokenRequest } from "../../helpers/oci";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

// Many requests each: room for a machine shared with other test runs.
const PROPERTY_TIMEOUT_MS = 60_000;

const fetch = workerWith({});
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype);
const names = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/));

async function removals(name: string): Promise<number> {
  const listed = await env.BLOBS.list({ prefix: "audit/", include: ["customMetadata"] });
  return listed.objects.filter((o) => o.customMetadata?.action === "npm.dist-tag.rm" && o.customMetadata?.target === name).length;
}

describe("npm names that are Object.prototype keys", () => {
  let npm: NpmClient;
  const pkg = "proto-keys";
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
    for (const v of ["1.0.0", "2.0.0"]) expect((await npm.publish(pkg, v)).status).toBe(201);
  });

  it("removing a dist-tag that does not exist is a 404 that changes nothing and audits nothing", async () => {
    await fc.assert(fc.asyncProperty(names, async (tag) => {
      if ((await npm.packument(pkg))["dist-tags"][tag] !== undefined && Object.hasOwn((await npm.packument(pkg))["dist-tags"], tag)) return;
      const before = await npm.packument(pkg);
      const audited = await removals(pkg);
      const res = await npm.deleteDistTag(pkg, tag);
      if (tag === "latest") return void (await res.arrayBuffer());
      await expectNpmError(res, 404, `dist-tag ${tag} not found`);
      expect((await npm.packument(pkg))._rev).toBe(before._rev);
      expect(await removals(pkg)).toBe(audited);
    }), { numRuns: 60 });
  }, PROPERTY_TIMEOUT_MS);

  it("a dist-tag named like one is set, listed, served and removed as an own key", async () => {
    for (const tag of ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"]) {
      expect((await npm.setDistTag(pkg, tag, "1.0.0")).status, tag).toBe(201);
      const tags = await (await npm.getDistTags(pkg)).json<Record<string, string>>();
      expect(Object.hasOwn(tags, tag), tag).toBe(true);
      expect(tags[tag]).toBe("1.0.0");
      const served = await npm.request(`/npm/${pkg}/${tag}`);
      expect((await served.json<{ version: string }>()).version).toBe("1.0.0");
      expect((await npm.deleteDistTag(pkg, tag)).status).toBe(200);
      expect(Object.hasOwn(await (await npm.getDistTags(pkg)).json<Record<string, string>>(), tag)).toBe(false);
    }
  });

  it("a version or tag lookup by such a name is a 404, a metadata PUT naming one a 400", async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PROTO_KEYS), async (key) => {
      await expectNpmError(await npm.request(`/npm/${pkg}/${key}`), 404, "not found");
      const doc = await npm.packument(pkg);
      const res = await npm.putPackument(pkg, { ...doc, versions: JSON.parse(`{${Object.keys(doc.versions).map((v) => `"${v}":{}`).join(",")},"${key}":{"deprecated":"x"}}`) }, doc._rev);
      await expectNpmError(res, 400, "is not published");
      expect((await npm.packument(pkg))._rev).toBe(doc._rev);
    }), { numRuns: PROTO_KEYS.length });
  }, PROPERTY_TIMEOUT_MS);
});

describe("OCI repository names that are Object.prototype keys", () => {
  // Private pulls, so a grant that does not cover a repository is refused for it.
  const fetch = workerWith({ ANONYMOUS_READ: "false" });

  it("/v2/token answers 200 for every one, and a grant covers exactly what was asked", async () => {
    const { token } = await createToken({ scopes: ["publish"] }, fetch);
    const lower = [...new Set(PROTO_KEYS.map((k) => k.toLowerCase()).filter((k) => /^[a-z0-9]+$/.test(k)))];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...lower), fc.constantFrom(...lower), async (asked, other) => {
      const res = await tokenRequest([`repository:${asked}:pull,push`], basic(token), fetch);
      expect(res.status).toBe(200);
      const grant = (await res.json<{ token: string }>()).token;
      const oci = new OciClient(fetch, `Bearer ${grant}`);
      const tags = await oci.request(`/v2/${other}/tags/list`);
      // The asked repository is covered (404: nothing pushed); any other needs a new grant (401).
      expect(tags.status).toBe(asked === other ? 404 : 401);
      await tags.arrayBuffer();
    }), { numRuns: 30 });
    // And one can be pushed and pulled.
    const grant = await bearerToken(["repository:constructor:pull,push"], basic(token), fetch);
    const oci = new OciClient(fetch, `Bearer ${grant}`);
    const config = await content("{}");
    const image = await imageManifest({ config, layers: [] });
    await oci.pushBlobs("constructor", config);
    await oci.pushManifest("constructor", "v1", image);
    expect((await oci.getManifest("constructor", "v1")).status).toBe(200);
  }, PROPERTY_TIMEOUT_MS);
});
