// The packument PUT without tarballs (`npm deprecate`, `npm unpublish pkg@ver`) changes only
// deprecation messages, removed versions and dist-tags; a tag it moves or adds meets the
// dist-tag API's rules and is audited as a tag change.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../../shared/origin/audit-store";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({});

async function auditOf(name: string): Promise<AuditEntry[]> {
  const listed = await env.BLOBS.list({ prefix: "audit/", include: ["customMetadata"] });
  return listed.objects.map((o) => o.customMetadata as unknown as AuditEntry).filter((e) => e.target === name);
}

describe("the metadata PUT", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  it.each(["1.0.0", "^1.0.0", "not a tag!", "1.x", ""])("refuses the dist-tag %j and changes nothing", async (tag) => {
    const name = `meta-tag-${Math.random().toString(36).slice(2, 8)}`;
    for (const v of ["1.0.0", "2.0.0"]) expect((await npm.publish(name, v)).status).toBe(201);
    const doc = await npm.packument(name);
    const res = await npm.putPackument(name, { ...doc, "dist-tags": { ...doc["dist-tags"], [tag]: "2.0.0" } }, doc._rev);
    await expectNpmError(res, 400, /invalid dist-tag/);
    const after = await npm.packument(name);
    expect(after._rev).toBe(doc._rev);
    expect(after["dist-tags"]).toEqual({ latest: "2.0.0" });
    // The exact version is still served for its own number.
    const version = await npm.request(`/npm/${name}/1.0.0`);
    expect((await version.json<{ version: string }>()).version).toBe("1.0.0");
  });

  it("refuses a tag aimed at a version that does not exist", async () => {
    const name = "meta-dangling";
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    const doc = await npm.packument(name);
    await expectNpmError(await npm.putPackument(name, { ...doc, "dist-tags": { ...doc["dist-tags"], beta: "9.9.9" } }, doc._rev), 400, /not a version of meta-dangling/);
  });

  it("takes a valid tag change, audited as npm.dist-tag.add, and ignores every other field", async () => {
    const name = "meta-valid";
    for (const v of ["1.0.0", "2.0.0"]) expect((await npm.publish(name, v)).status).toBe(201);
    const doc = await npm.packument(name);
    const body = {
      ...doc,
      description: "rewritten",
      readme: "rewritten",
      maintainers: [{ name: "mallory" }],
      "dist-tags": { ...doc["dist-tags"], beta: "1.0.0" },
      versions: { ...doc.versions, "1.0.0": { ...doc.versions["1.0.0"]!, dependencies: { evil: "*" }, deprecated: "use 2" } },
    };
    expect((await npm.putPackument(name, body, doc._rev)).status).toBe(200);
    const after = await npm.packument(name);
    expect(after["dist-tags"]).toEqual({ latest: "2.0.0", beta: "1.0.0" });
    expect(after.description).toBe(doc.description);
    expect(after.readme).toBe(doc.readme);
    expect(after.maintainers).toEqual(doc.maintainers);
    expect(after.versions["1.0.0"]).toEqual({ ...doc.versions["1.0.0"], deprecated: "use 2" });
    const tagChanges = (await auditOf(name)).filter((e) => e.action === "npm.dist-tag.add");
    expect(tagChanges.map((e) => JSON.parse(e.detail as unknown as string))).toEqual([{ tag: "beta", version: "1.0.0", via: "metadata" }]);
  });

  it("moves latest off an unpublished version, audited as a tag change", async () => {
    const name = "meta-unpublish";
    for (const v of ["1.0.0", "2.0.0"]) expect((await npm.publish(name, v)).status).toBe(201);
    const { update } = await npm.unpublishVersion(name, "2.0.0");
    expect(update.status).toBe(200);
    expect((await npm.packument(name))["dist-tags"]).toEqual({ latest: "1.0.0" });
    const tagChanges = (await auditOf(name)).filter((e) => e.action === "npm.dist-tag.add");
    expect(tagChanges.map((e) => JSON.parse(e.detail as unknown as string))).toEqual([{ tag: "latest", version: "1.0.0", via: "metadata" }]);
  });
});
