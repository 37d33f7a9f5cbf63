// Unpublishing as npm does it: one version by PUTting the packument without it (then DELETE of its
// tarball), the whole package by DELETE at the current revision. A stale revision is a 409.
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient, tarballPath } from "../../helpers/npm-client";
import { expectNoVersion, expectNpmError, storedKeys } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

describe("unpublish", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  /** Publishes the versions in order and reads each tarball once, so every cache tier holds it. */
  async function published(name: string, versions: string[]): Promise<void> {
    for (const v of versions) expect((await npm.publish(name, v)).status).toBe(201);
    for (const v of versions) expect((await npm.getTarball(name, v)).status).toBe(200);
    expect((await npm.getPackument(name)).status).toBe(200);
  }

  it.each(["one-version", "@acme/one-version"])("removes one version of %s the way `npm unpublish name@version` does", async (name) => {
    await published(name, ["1.0.0", "1.1.0"]);
    expect((await npm.setDistTag(name, "beta", "1.1.0")).status).toBe(201);

    const { update, tarball } = await npm.unpublishVersion(name, "1.1.0");
    expect(update.status).toBe(200);
    expect(tarball?.status).toBe(200);

    await expectNoVersion(npm, name, "1.1.0");
    const doc = await npm.packument(name);
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.0" });
    // The version stays reserved, which is what makes republishing it a 409.
    expect(typeof doc.time["1.1.0"]).toBe("string");
    expect((await npm.getTarball(name, "1.0.0")).status).toBe(200);
  });

  it("removes a whole package with DELETE at its revision", async () => {
    await published("whole", ["1.0.0", "1.0.1"]);
    const { _rev } = await npm.packument("whole");

    const res = await npm.deletePackage("whole", _rev);
    expect(res.status).toBe(200);

    await expectNpmError(await npm.getPackument("whole"), 404, /package whole not found/);
    await expectNpmError(await npm.request("/npm/whole/1.0.0"), 404, /not found/);
    await expectNpmError(await npm.getDistTags("whole"), 404, /not found/);
    for (const v of ["1.0.0", "1.0.1"]) await expectNoVersion(npm, "whole", v);
    // Only a tombstone packument remains, remembering which versions may never be reused.
    expect(await storedKeys("whole")).toEqual(["npm/whole/packument.json"]);
  });

  it("answers 409 for a stale _rev and changes nothing", async () => {
    await published("stale", ["1.0.0", "1.0.1"]);
    const before = await npm.packument("stale");
    // Someone else writes in between: the revision npm read is now stale.
    expect((await npm.setDistTag("stale", "beta", "1.0.0")).status).toBe(201);
    const current = await npm.packument("stale");
    expect(current._rev).not.toBe(before._rev);

    const { "1.0.1": _gone, ...versions } = before.versions;
    await expectNpmError(await npm.putPackument("stale", { ...before, versions }, before._rev), 409, /document update conflict/);
    await expectNpmError(await npm.deletePackage("stale", before._rev), 409, /document update conflict/);

    expect(await npm.packument("stale")).toEqual(current);
    for (const v of ["1.0.0", "1.0.1"]) expect((await npm.getTarball("stale", v)).status).toBe(200);
  });

  it("answers 409 when deleting the tarball of a version still published", async () => {
    await published("still-there", ["1.0.0", "1.0.1"]);
    const { _rev } = await npm.packument("still-there");
    const res = await npm.request(`${tarballPath("still-there", "1.0.0")}/-rev/${_rev}`, { method: "DELETE" });
    await expectNpmError(res, 409, /still-there@1\.0\.0 is still published/);
    expect((await npm.getTarball("still-there", "1.0.0")).status).toBe(200);
  });

  it("answers 400 for a PUT that removes every version", async () => {
    await published("all-at-once", ["1.0.0"]);
    const doc = await npm.packument("all-at-once");
    await expectNpmError(await npm.putPackument("all-at-once", { ...doc, versions: {} }, doc._rev), 400, /unpublish the whole package/);
    expect(Object.keys((await npm.packument("all-at-once")).versions)).toEqual(["1.0.0"]);
  });

  it("needs a publish token for the package", async () => {
    await published("guarded", ["1.0.0", "1.0.1"]);
    const { _rev } = await npm.packument("guarded");
    await expectNpmError(await npm.as(undefined).deletePackage("guarded", _rev), 401, /authentication required to publish/);
    const other = npm.as((await createToken({ scopes: ["publish"], packages: ["@acme/*"] })).token);
    await expectNpmError(await other.deletePackage("guarded", _rev), 403, /token may not publish guarded/);
    await expectNpmError((await other.unpublishVersion("guarded", "1.0.1")).update, 403, /token may not publish guarded/);
    expect(Object.keys((await npm.packument("guarded")).versions)).toEqual(["1.0.0", "1.0.1"]);
  });
});
