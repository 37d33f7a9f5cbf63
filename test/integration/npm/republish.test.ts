// A version, once published, names those bytes forever: publishing it again is a 409, also after
// it was unpublished, and the stored tarball is never touched.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { tarballBytes } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { expectNoVersion, expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

const CANNOT_REPUBLISH = (spec: string) => `cannot publish over the previously published version ${spec}`;

async function storedTarball(key: string): Promise<Uint8Array | null> {
  const obj = await env.BLOBS.get(key);
  return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
}

describe("republishing", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it("answers 409 for an existing version and keeps the original tarball", async () => {
    const original = tarballBytes("original", { name: "reused", version: "1.0.0" });
    expect((await npm.publish("reused", "1.0.0", { tarball: original })).status).toBe(201);
    const before = await npm.packument("reused");

    const res = await npm.publish("reused", "1.0.0", { tarball: tarballBytes("impostor", { name: "reused", version: "1.0.0" }) });
    await expectNpmError(res, 409, CANNOT_REPUBLISH("reused@1.0.0"));

    expect(await storedTarball("npm/reused/-/reused-1.0.0.tgz")).toEqual(original);
    expect(new Uint8Array(await (await npm.getTarball("reused", "1.0.0")).arrayBuffer())).toEqual(original);
    expect(await npm.packument("reused")).toEqual(before);
  });

  it("answers 409 for a version unpublished on its own", async () => {
    for (const v of ["1.0.0", "1.0.1"]) expect((await npm.publish("gone-version", v)).status).toBe(201);
    const { update, tarball } = await npm.unpublishVersion("gone-version", "1.0.1");
    expect([update.status, tarball?.status]).toEqual([200, 200]);

    await expectNpmError(await npm.publish("gone-version", "1.0.1", { tarball: tarballBytes("second try", { name: "gone-version", version: "1.0.1" }) }), 409, CANNOT_REPUBLISH("gone-version@1.0.1"));
    await expectNoVersion(npm, "gone-version", "1.0.1");
  });

  it("answers 409 for a version of a package unpublished as a whole", async () => {
    expect((await npm.publish("gone-package", "1.0.0")).status).toBe(201);
    expect((await npm.deletePackage("gone-package", (await npm.packument("gone-package"))._rev)).status).toBe(200);

    await expectNpmError(await npm.publish("gone-package", "1.0.0"), 409, CANNOT_REPUBLISH("gone-package@1.0.0"));
    await expectNoVersion(npm, "gone-package", "1.0.0");
    // A new version brings the package back.
    expect((await npm.publish("gone-package", "1.0.1")).status).toBe(201);
    expect(Object.keys((await npm.packument("gone-package")).versions)).toEqual(["1.0.1"]);
  });
});
