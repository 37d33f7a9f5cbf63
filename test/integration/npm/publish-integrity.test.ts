// The tarball a client uploads must be the one its manifest describes: sha512 integrity, sha1
// shasum, the attachment's length, valid base64. A refused publish stores nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { attachmentOf, digestsOf, manifestOf, publishBody, tarballBytes, type PublishBody } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { expectNoPackage, expectNoVersion, expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

// [package, how the body is spoiled, status, what the error must say]
const SPOILED: Array<[string, (body: PublishBody) => Promise<void> | void, number, RegExp]> = [
  ["bad-integrity", async (body) => {
    manifestOf(body).dist.integrity = (await digestsOf(tarballBytes("another tarball"))).integrity;
  }, 422, /integrity check failed for bad-integrity@1\.0\.0: .*sha512/],
  ["bad-shasum", async (body) => {
    manifestOf(body).dist.shasum = (await digestsOf(tarballBytes("another tarball"))).shasum;
  }, 422, /integrity check failed for bad-shasum@1\.0\.0: .*sha1/],
  ["truncated", (body) => {
    const attachment = attachmentOf(body);
    // What a cut-off upload looks like: the data ends early, the declared length does not.
    attachment.data = Buffer.from(Buffer.from(attachment.data, "base64").subarray(0, attachment.length - 10)).toString("base64");
  }, 400, /truncated/],
  ["not-base64", (body) => {
    attachmentOf(body).data = "this is not base64!";
  }, 400, /not valid base64/],
];

describe("publish integrity", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it.each(SPOILED)("refuses %s and stores nothing", async (name, spoil, status, message) => {
    const body = await publishBody(name, "1.0.0");
    await spoil(body);
    await expectNpmError(await npm.putPackument(name, body), status, message);
    await expectNoPackage(npm, name);
  });

  it("refuses a bad tarball for a new version of an existing package, keeping the old one", async () => {
    expect((await npm.publish("existing", "1.0.0")).status).toBe(201);
    const body = await publishBody("existing", "1.1.0");
    manifestOf(body).dist.integrity = (await digestsOf(tarballBytes("another tarball"))).integrity;
    await expectNpmError(await npm.putPackument("existing", body), 422, /sha512/);
    await expectNoVersion(npm, "existing", "1.1.0");
    const doc = await npm.packument("existing");
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.0" });
  });

  it("stores exactly the bytes whose digests were claimed", async () => {
    const tarball = tarballBytes("good tarball", { name: "good", version: "1.0.0" });
    expect((await npm.publish("good", "1.0.0", { tarball })).status).toBe(201);
    const res = await npm.getTarball("good", "1.0.0");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(tarball);
    expect((await npm.packument("good")).versions["1.0.0"]?.dist.integrity).toBe((await digestsOf(tarball)).integrity);
  });
});
