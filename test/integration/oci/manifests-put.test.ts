// end-7: PUT of manifests by tag and digest, their validation, and the OCI-Subject answer.
import { beforeAll, describe, expect, it } from "vitest";
import {
  content, descriptor, emptyConfig, encode, expectNoManifest, expectNothingStored, expectOciError, imageIndex, imageManifest,
  locationPath, manifestDescriptor, manifestOf, MEDIA, OciClient, publisher, randomBytes, randomImage, type Manifest,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

/** A manifest PUT that must be refused: the answer, nothing in R2, nothing served. */
async function expectRefused(name: string, reference: string, body: Manifest, status: number, code: Parameters<typeof expectOciError>[2], contentType?: string, client = oci) {
  const answer = await expectNothingStored(async () => expectOciError(await client.putManifest(name, reference, body, contentType), status, code));
  await expectNoManifest(anonymous, name, reference);
  await expectNoManifest(anonymous, name, body.digest);
  return answer;
}

describe("end-7 PUT /v2/<name>/manifests/<reference>", () => {
  it("stores a manifest by tag: 201, its digest and a by-digest location", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/tag", image.config, ...image.layers);
    const res = await oci.putManifest("put/tag", "v1", image.manifest);
    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(image.manifest.digest);
    expect(locationPath(res)).toBe(`/v2/put/tag/manifests/${image.manifest.digest}`);
    expect(res.headers.get("oci-subject")).toBeNull();
    expect((await anonymous.getManifest("put/tag", "v1")).headers.get("docker-content-digest")).toBe(image.manifest.digest);
  });

  it("stores a manifest by digest without creating a tag", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/digest", image.config, ...image.layers);
    await oci.pushManifest("put/digest", "keep", image.manifest);
    const other = await randomImage();
    await oci.pushBlobs("put/digest", other.config, ...other.layers);
    const res = await oci.putManifest("put/digest", other.manifest.digest, other.manifest);
    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(other.manifest.digest);
    expect((await anonymous.getManifest("put/digest", other.manifest.digest)).status).toBe(200);
    expect(await (await anonymous.tags("put/digest")).json()).toEqual({ name: "put/digest", tags: ["keep"] });
  });

  it("ignores parameters on the Content-Type", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/params", image.config, ...image.layers);
    const res = await oci.putManifest("put/params", "v1", image.manifest, `${MEDIA.manifest}; charset=utf-8`);
    expect(res.status).toBe(201);
  });

  it("accepts a manifest that references no layers", async () => {
    const config = await emptyConfig();
    await oci.pushBlobs("put/no-layers", config);
    const manifest = await imageManifest({ config, layers: [], configMediaType: MEDIA.empty, artifactType: "application/vnd.example.thing" });
    expect((await oci.putManifest("put/no-layers", "v1", manifest)).status).toBe(201);
  });

  it("accepts a manifest without a mediaType field, typed by its Content-Type", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/no-media-type", image.config, ...image.layers);
    const { mediaType: _dropped, ...json } = image.manifest.json;
    const bare = await manifestOf(json, MEDIA.manifest);
    expect((await oci.putManifest("put/no-media-type", "v1", bare)).status).toBe(201);
    const res = await anonymous.getManifest("put/no-media-type", "v1");
    expect(res.headers.get("content-type")).toBe(MEDIA.manifest);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bare.bytes);
  });

  it("accepts a 128-character tag with upper case, dots and dashes", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/long-tag", image.config, ...image.layers);
    const tag = `V1.2-rc_${"x".repeat(120)}`;
    expect(tag).toHaveLength(128);
    expect((await oci.putManifest("put/long-tag", tag, image.manifest)).status).toBe(201);
    expect((await anonymous.getManifest("put/long-tag", tag)).status).toBe(200);
  });

  it("moves a tag on re-push and keeps the old manifest by digest", async () => {
    const v1 = await randomImage();
    const v2 = await randomImage();
    await oci.pushImage("put/move", "latest", v1);
    await oci.pushImage("put/move", "latest", v2);
    expect((await anonymous.getManifest("put/move", "latest")).headers.get("docker-content-digest")).toBe(v2.manifest.digest);
    expect((await anonymous.getManifest("put/move", v1.manifest.digest)).status).toBe(200);
    // Re-pushing the very same manifest to the same tag is a no-op that still answers 201.
    expect((await oci.putManifest("put/move", "latest", v2.manifest)).status).toBe(201);
  });

  it("answers 400 MANIFEST_INVALID for a body that is not JSON", async () => {
    const body = await content("{ not json");
    await expectRefused("put/invalid", "v1", { ...body, mediaType: MEDIA.manifest, json: {} }, 400, "MANIFEST_INVALID");
  });

  it("answers 400 MANIFEST_INVALID for JSON that is not a manifest", async () => {
    const body = await manifestOf({ schemaVersion: 2, mediaType: MEDIA.manifest, layers: "none" });
    await expectRefused("put/invalid", "v1", body, 400, "MANIFEST_INVALID");
  });

  it("answers 400 MANIFEST_INVALID for an unknown media type", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/invalid", image.config, ...image.layers);
    const strange = await manifestOf({ ...image.manifest.json, mediaType: "application/vnd.example.unknown+json" });
    await expectRefused("put/invalid", "v1", strange, 400, "MANIFEST_INVALID");
    await expectRefused("put/invalid", "v1", image.manifest, 400, "MANIFEST_INVALID", "text/plain");
    // Docker schema 1 (signed, long deprecated) is not one of the four accepted types.
    const schema1 = await manifestOf({ schemaVersion: 1, name: "put/invalid", tag: "v1", fsLayers: [], history: [] }, "application/vnd.docker.distribution.manifest.v1+prettyjws");
    await expectRefused("put/invalid", "v1", schema1, 400, "MANIFEST_INVALID");
  });

  it("answers 400 MANIFEST_INVALID when the Content-Type and the body's mediaType disagree", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/invalid", image.config, ...image.layers);
    await expectRefused("put/invalid", "v1", image.manifest, 400, "MANIFEST_INVALID", MEDIA.dockerManifest);
    await expectRefused("put/invalid", "v1", image.manifest, 400, "MANIFEST_INVALID", MEDIA.index);
  });

  it("answers 400 MANIFEST_INVALID for an invalid tag", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/invalid", image.config, ...image.layers);
    await expectNothingStored(async () => {
      await expectOciError(await oci.putManifest("put/invalid", "-starts-with-dash", image.manifest), 400, "MANIFEST_INVALID");
    });
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN naming a missing layer", async () => {
    const image = await randomImage({ layers: 2 });
    await oci.pushBlobs("put/blob-unknown", image.config, image.layers[0]!);
    const answer = await expectRefused("put/blob-unknown", "v1", image.manifest, 400, "MANIFEST_BLOB_UNKNOWN");
    expect(JSON.stringify(answer.errors[0]!.detail)).toContain(image.layers[1]!.digest);
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN naming a missing config", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/blob-unknown", ...image.layers);
    const answer = await expectRefused("put/blob-unknown", "v2", image.manifest, 400, "MANIFEST_BLOB_UNKNOWN");
    expect(JSON.stringify(answer.errors[0]!.detail)).toContain(image.config.digest);
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN for a layer whose upload has not been closed", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/unfinished", image.config);
    const location = await oci.openUpload("put/unfinished");
    const layer = image.layers[0]!;
    expect((await oci.patchUpload(location, layer.bytes, `0-${layer.size - 1}`)).status).toBe(202);
    await expectRefused("put/unfinished", "v1", image.manifest, 400, "MANIFEST_BLOB_UNKNOWN");
    // Closing the upload makes the same manifest acceptable.
    expect((await oci.closeUpload(location, layer.digest)).status).toBe(201);
    expect((await oci.putManifest("put/unfinished", "v1", image.manifest)).status).toBe(201);
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN for a blob pushed only to another repository", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/elsewhere", image.config, ...image.layers);
    await expectRefused("put/blob-unknown", "v3", image.manifest, 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN for an index whose child manifest is missing", async () => {
    const present = await randomImage();
    const absent = await randomImage();
    await oci.pushImage("put/index", present.manifest.digest, present);
    await oci.pushBlobs("put/index", absent.config, ...absent.layers);
    const index = await imageIndex({ manifests: [present.manifest, absent.manifest] });
    const answer = await expectRefused("put/index", "multi", index, 400, "MANIFEST_BLOB_UNKNOWN");
    expect(JSON.stringify(answer.errors[0]!.detail)).toContain(absent.manifest.digest);
  });

  it("answers 400 MANIFEST_BLOB_UNKNOWN for an index whose child is a blob, not a manifest", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/index-blob", image.config, ...image.layers);
    // The child's bytes were pushed as a blob: the index still names no manifest this repository has.
    await oci.pushBlobs("put/index-blob", image.manifest);
    const index = await imageIndex({ manifests: [image.manifest] });
    await expectRefused("put/index-blob", "multi", index, 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("answers 400 for a descriptor with a malformed digest, storing nothing", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/bad-descriptor", image.config, ...image.layers);
    const json = { ...image.manifest.json, layers: [{ mediaType: MEDIA.layer, digest: "sha256:not-hex", size: 3 }] };
    const bad = await manifestOf(json);
    const res = await expectNothingStored(() => oci.putManifest("put/bad-descriptor", "v1", bad));
    expect(res.status).toBe(400);
    const code = (await res.clone().json<{ errors: Array<{ code: string }> }>()).errors[0]!.code;
    expect(["MANIFEST_INVALID", "DIGEST_INVALID"]).toContain(code);
    await expectOciError(res, 400, code as "MANIFEST_INVALID");
    await expectNoManifest(anonymous, "put/bad-descriptor", "v1");
  });

  it("answers 400 DIGEST_INVALID when the digest reference does not match the body", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/digest-mismatch", image.config, ...image.layers);
    const other = await content("another body");
    await expectNothingStored(async () => {
      await expectOciError(await oci.putManifest("put/digest-mismatch", other.digest, image.manifest), 400, "DIGEST_INVALID");
    });
    await expectNoManifest(anonymous, "put/digest-mismatch", image.manifest.digest);
    await expectNoManifest(anonymous, "put/digest-mismatch", other.digest);
  });

  it("answers 413 SIZE_INVALID for a manifest over 4 MiB", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/large", image.config, ...image.layers);
    const filler = "x".repeat(4 * 1024 * 1024);
    const large = await manifestOf({ ...image.manifest.json, annotations: { "org.example.filler": filler } });
    expect(large.size).toBeGreaterThan(4 * 1024 * 1024);
    await expectRefused("put/large", "v1", large, 413, "SIZE_INVALID");
  }, 20_000);

  it("answers 413 SIZE_INVALID for a manifest over 4 MiB sent without a Content-Length", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/large-streamed", image.config, ...image.layers);
    const large = await manifestOf({ ...image.manifest.json, annotations: { "org.example.filler": "z".repeat(4 * 1024 * 1024) } });
    // A streamed body declares no length: the limit must hold while reading, not only by header.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < large.bytes.byteLength; i += 256 * 1024) controller.enqueue(large.bytes.slice(i, i + 256 * 1024));
        controller.close();
      },
    });
    await expectNothingStored(async () => {
      const res = await oci.request("/v2/put/large-streamed/manifests/v1", { method: "PUT", headers: { "content-type": MEDIA.manifest }, body });
      await expectOciError(res, 413, "SIZE_INVALID");
    });
    await expectNoManifest(anonymous, "put/large-streamed", "v1");
  }, 20_000);

  it("accepts a manifest just under 4 MiB", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/large", image.config, ...image.layers);
    const base = (await manifestOf({ ...image.manifest.json, annotations: { "org.example.filler": "" } })).size;
    const filler = "y".repeat(4 * 1024 * 1024 - base);
    const large = await manifestOf({ ...image.manifest.json, annotations: { "org.example.filler": filler } });
    expect(large.size).toBe(4 * 1024 * 1024);
    expect((await oci.putManifest("put/large", "v2", large)).status).toBe(201);
  }, 20_000);

  it("answers 401 UNAUTHORIZED without credentials and stores nothing", async () => {
    const image = await randomImage();
    await oci.pushBlobs("put/anonymous", image.config, ...image.layers);
    await expectRefused("put/anonymous", "v1", image.manifest, 401, "UNAUTHORIZED", undefined, anonymous);
    // The refusal was for the write: the repository's blobs still pull anonymously.
    expect((await anonymous.headBlob("put/anonymous", image.config.digest)).status).toBe(200);
  });
});

describe("end-7 with a subject", () => {
  it("answers with OCI-Subject naming the subject's digest", async () => {
    const image = await randomImage();
    await oci.pushImage("put/subject", "v1", image);
    const config = await emptyConfig();
    const sig = await content(randomBytes(64));
    await oci.pushBlobs("put/subject", config, sig);
    const referrer = await imageManifest({
      config, configMediaType: MEDIA.empty, layers: [sig], artifactType: "application/vnd.example.signature", subject: manifestDescriptor(image.manifest),
    });
    const res = await oci.putManifest("put/subject", referrer.digest, referrer);
    expect(res.status).toBe(201);
    expect(res.headers.get("oci-subject")).toBe(image.manifest.digest);
  });

  it("accepts a subject that does not exist (yet)", async () => {
    const config = await emptyConfig();
    await oci.pushBlobs("put/subject-later", config);
    const missing = await content(encode("{\"not\":\"pushed\"}"));
    const referrer = await imageManifest({
      config, configMediaType: MEDIA.empty, layers: [], artifactType: "application/vnd.example.sbom", subject: descriptor(missing, MEDIA.manifest),
    });
    const res = await oci.putManifest("put/subject-later", referrer.digest, referrer);
    expect(res.status).toBe(201);
    expect(res.headers.get("oci-subject")).toBe(missing.digest);
  });
});
