// end-9 and end-10: deleting manifests (by digest or only a tag) and blobs; reads see it at once.
import { beforeAll, describe, expect, it } from "vitest";
import { clientWithToken, content, expectNothingStored, expectOciError, OciClient, publisher, randomImage } from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

const tagsOf = async (name: string): Promise<string[]> => (await (await anonymous.tags(name)).json<{ tags: string[] }>()).tags;

describe("end-9 DELETE /v2/<name>/manifests/<digest>", () => {
  it("answers 202; the manifest and every tag pointing to it are gone, even after cached reads", async () => {
    const image = await randomImage();
    const kept = await randomImage();
    await oci.pushImage("del/by-digest", "v1", image);
    await oci.pushManifest("del/by-digest", "latest", image.manifest);
    await oci.pushImage("del/by-digest", "other", kept);
    // Read first so every tier holds it.
    for (const ref of ["v1", "latest", image.manifest.digest]) expect((await anonymous.getManifest("del/by-digest", ref)).status).toBe(200);

    expect((await oci.deleteManifest("del/by-digest", image.manifest.digest)).status).toBe(202);
    await expectOciError(await anonymous.getManifest("del/by-digest", image.manifest.digest), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await anonymous.getManifest("del/by-digest", "v1"), 404, "MANIFEST_UNKNOWN");
    await expectOciError(await anonymous.getManifest("del/by-digest", "latest"), 404, "MANIFEST_UNKNOWN");
    expect(await tagsOf("del/by-digest")).toEqual(["other"]);
    expect((await anonymous.getManifest("del/by-digest", "other")).status).toBe(200);
  });

  it("answers 404 MANIFEST_UNKNOWN for a digest that is not there", async () => {
    await oci.pushImage("del/unknown", "v1", await randomImage());
    await expectOciError(await oci.deleteManifest("del/unknown", (await content("absent")).digest), 404, "MANIFEST_UNKNOWN");
  });
});

describe("after a delete", () => {
  it("a manifest pushed again is served again at once", async () => {
    const image = await randomImage();
    await oci.pushImage("del/again", "v1", image);
    expect((await anonymous.getManifest("del/again", image.manifest.digest)).status).toBe(200);
    expect((await oci.deleteManifest("del/again", image.manifest.digest)).status).toBe(202);
    expect((await anonymous.getManifest("del/again", image.manifest.digest)).status).toBe(404);
    await oci.pushManifest("del/again", "v1", image.manifest);
    expect((await anonymous.getManifest("del/again", image.manifest.digest)).status).toBe(200);
    expect((await anonymous.getManifest("del/again", "v1")).headers.get("docker-content-digest")).toBe(image.manifest.digest);
  });

  it("a blob pushed again is served again at once", async () => {
    const blob = await content(crypto.getRandomValues(new Uint8Array(800)));
    await oci.pushBlobs("del/blob-again", blob);
    expect((await anonymous.getBlob("del/blob-again", blob.digest)).status).toBe(200);
    expect((await oci.deleteBlob("del/blob-again", blob.digest)).status).toBe(202);
    expect((await anonymous.getBlob("del/blob-again", blob.digest)).status).toBe(404);
    await oci.pushBlobs("del/blob-again", blob);
    const res = await anonymous.getBlob("del/blob-again", blob.digest);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(blob.bytes);
  });
});

describe("end-9 DELETE /v2/<name>/manifests/<tag>", () => {
  it("answers 202 and removes only the tag", async () => {
    const image = await randomImage();
    await oci.pushImage("del/by-tag", "v1", image);
    await oci.pushManifest("del/by-tag", "v2", image.manifest);
    expect((await anonymous.getManifest("del/by-tag", "v1")).status).toBe(200);

    expect((await oci.deleteManifest("del/by-tag", "v1")).status).toBe(202);
    await expectOciError(await anonymous.getManifest("del/by-tag", "v1"), 404, "MANIFEST_UNKNOWN");
    expect((await anonymous.getManifest("del/by-tag", "v2")).status).toBe(200);
    expect((await anonymous.getManifest("del/by-tag", image.manifest.digest)).status).toBe(200);
    expect(await tagsOf("del/by-tag")).toEqual(["v2"]);
  });

  it("answers 404 MANIFEST_UNKNOWN for a tag that is not there", async () => {
    await oci.pushImage("del/no-tag", "v1", await randomImage());
    await expectOciError(await oci.deleteManifest("del/no-tag", "v9"), 404, "MANIFEST_UNKNOWN");
  });
});

describe("end-10 DELETE /v2/<name>/blobs/<digest>", () => {
  it("answers 202 and the blob is gone, even after a cached read", async () => {
    const blob = await content(crypto.getRandomValues(new Uint8Array(3000)));
    await oci.pushBlobs("del/blob", blob);
    expect((await (await anonymous.getBlob("del/blob", blob.digest)).arrayBuffer()).byteLength).toBe(3000);
    expect((await oci.deleteBlob("del/blob", blob.digest)).status).toBe(202);
    await expectOciError(await anonymous.getBlob("del/blob", blob.digest), 404, "BLOB_UNKNOWN");
    expect((await anonymous.headBlob("del/blob", blob.digest)).status).toBe(404);
  });

  it("removes the blob from that repository only", async () => {
    const blob = await content(crypto.getRandomValues(new Uint8Array(500)));
    await oci.pushBlobs("del/blob-a", blob);
    await oci.pushBlobs("del/blob-b", blob);
    expect((await oci.deleteBlob("del/blob-a", blob.digest)).status).toBe(202);
    expect((await anonymous.getBlob("del/blob-a", blob.digest)).status).toBe(404);
    const other = await anonymous.getBlob("del/blob-b", blob.digest);
    expect(other.status).toBe(200);
    expect(new Uint8Array(await other.arrayBuffer())).toEqual(blob.bytes);
  });

  it("a manifest naming a deleted blob is refused with MANIFEST_BLOB_UNKNOWN", async () => {
    const image = await randomImage();
    await oci.pushBlobs("del/blob-then-manifest", image.config, ...image.layers);
    expect((await oci.deleteBlob("del/blob-then-manifest", image.layers[0]!.digest)).status).toBe(202);
    await expectNothingStored(async () => {
      await expectOciError(await oci.putManifest("del/blob-then-manifest", "v1", image.manifest), 400, "MANIFEST_BLOB_UNKNOWN");
    });
  });

  it("answers 404 BLOB_UNKNOWN for a blob that is not there", async () => {
    await oci.pushBlobs("del/no-blob", await content("present"));
    await expectOciError(await oci.deleteBlob("del/no-blob", (await content("absent")).digest), 404, "BLOB_UNKNOWN");
  });
});

describe("who may delete", () => {
  it("answers 401 UNAUTHORIZED without credentials and 403 DENIED to a read token; nothing is deleted", async () => {
    const image = await randomImage();
    await oci.pushImage("del/guarded", "v1", image);
    const reader = await clientWithToken({ scopes: ["read"] });
    await expectOciError(await anonymous.deleteManifest("del/guarded", "v1"), 401, "UNAUTHORIZED");
    await expectOciError(await anonymous.deleteBlob("del/guarded", image.config.digest), 401, "UNAUTHORIZED");
    await expectOciError(await reader.deleteManifest("del/guarded", image.manifest.digest), 403, "DENIED");
    await expectOciError(await reader.deleteBlob("del/guarded", image.config.digest), 403, "DENIED");
    expect((await anonymous.getManifest("del/guarded", "v1")).status).toBe(200);
    expect((await anonymous.getBlob("del/guarded", image.config.digest)).status).toBe(200);
  });
});
