// Repository names: the spec's grammar (NAME_INVALID otherwise) and nested names on every endpoint.
// Also UNSUPPORTED for methods no /v2/ route has.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest, content, expectNothingStored, expectOciError, OciClient, publisher, randomImage,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

const INVALID = [
  ["upper case", "Team/App"],
  ["a leading separator", "-app"],
  ["a trailing separator", "app-"],
  ["two dots", "app..name"],
  ["three underscores", "app___name"],
  ["an empty component", "team//app"],
  ["a trailing slash component", "team/app/"],
  ["a space", "my%20app"],
  ["256 characters", "a".repeat(256)],
] as const;

describe("NAME_INVALID", () => {
  it.each(INVALID)("rejects a name with %s on push, storing nothing", async (_what, name) => {
    const blob = await content(`for ${name}`);
    await expectNothingStored(async () => {
      await expectOciError(await oci.pushBlob(name, blob), 400, "NAME_INVALID");
      await expectOciError(await oci.startUpload(name), 400, "NAME_INVALID");
    });
  });

  it.each(INVALID)("rejects a name with %s on pull", async (_what, name) => {
    await expectOciError(await anonymous.getManifest(name, "latest"), 400, "NAME_INVALID");
    await expectOciError(await anonymous.tags(name), 400, "NAME_INVALID");
  });

  it("rejects an invalid name in a manifest PUT, storing nothing", async () => {
    const image = await randomImage();
    await expectNothingStored(async () => {
      await expectOciError(await oci.putManifest("Bad/Name", "v1", image.manifest), 400, "NAME_INVALID");
    });
  });

  it("rejects an invalid `from` of a mount", async () => {
    const blob = await content("mount from a bad name");
    await oci.pushBlobs("names/source", blob);
    const res = await oci.mount("names/target", blob.digest, "Bad..Name");
    // A registry may answer a mount it cannot do with a plain upload session; it must not mount.
    if (res.status !== 202) await expectOciError(res, 400, "NAME_INVALID");
    expect((await anonymous.getBlob("names/target", blob.digest)).status).toBe(404);
  });
});

describe("valid names", () => {
  it.each([
    ["three components", "team/app/api"],
    ["separators the grammar allows", "a.b/c_d/e__f/g-h/i---j"],
    ["a component named like a route", "team/manifests/blobs"],
    ["255 characters", `${"a".repeat(127)}/${"b".repeat(127)}`],
  ])("push, pull, list and delete with %s", async (_what, name) => {
    const image = await randomImage();
    await oci.pushImage(name, "v1", image);
    const manifest = await anonymous.getManifest(name, "v1");
    expect(manifest.status).toBe(200);
    expect(await bodyDigest(manifest)).toBe(image.manifest.digest);
    expect(await bodyDigest(await anonymous.getBlob(name, image.layers[0]!.digest))).toBe(image.layers[0]!.digest);
    expect(await (await anonymous.tags(name)).json()).toEqual({ name, tags: ["v1"] });
    expect((await oci.deleteManifest(name, "v1")).status).toBe(202);
  });

  it("keeps nested repositories apart from their parents", async () => {
    const parent = await randomImage();
    const child = await randomImage();
    await oci.pushImage("names/nest", "v1", parent);
    await oci.pushImage("names/nest/child", "v1", child);
    expect(await bodyDigest(await anonymous.getManifest("names/nest", "v1"))).toBe(parent.manifest.digest);
    expect(await bodyDigest(await anonymous.getManifest("names/nest/child", "v1"))).toBe(child.manifest.digest);
  });
});

describe("UNSUPPORTED", () => {
  it.each([
    ["PATCH", "/v2/names/nest/manifests/v1"],
    ["POST", "/v2/names/nest/tags/list"],
    ["PUT", "/v2/names/nest/blobs/sha256:" + "0".repeat(64)],
    ["POST", "/v2/names/nest/referrers/sha256:" + "0".repeat(64)],
    ["OPTIONS", "/v2/"],
    ["PROPFIND", "/v2/names/nest/tags/list"],
  ])("answers 405 UNSUPPORTED to %s %s", async (method, path) => {
    await expectNothingStored(async () => {
      const res = await oci.request(path, { method, body: ["OPTIONS", "PROPFIND"].includes(method) ? undefined : "{}" });
      await expectOciError(res, 405, "UNSUPPORTED");
    });
  });
});
