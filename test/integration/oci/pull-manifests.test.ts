// end-3: GET and HEAD of manifests by tag and by digest, for every manifest media type.
import { beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION, bodyDigest, content, expectOciError, imageIndex, MEDIA, OciClient, publisher, randomImage, type Manifest,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

async function expectManifest(res: Response, manifest: Manifest): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(manifest.mediaType);
  expect(res.headers.get("docker-content-digest")).toBe(manifest.digest);
  expect(res.headers.get("content-length")).toBe(String(manifest.size));
  expect(res.headers.get("etag")).toBeTruthy();
  expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
  expect(res.headers.get("x-pkgedge-cache")).toBeTruthy();
  // Byte for byte what was pushed (the spec forbids re-serialising).
  expect(new Uint8Array(await res.arrayBuffer())).toEqual(manifest.bytes);
}

describe("end-3 GET /v2/<name>/manifests/<reference>", () => {
  it("serves an OCI image manifest by tag and by digest, with the same bytes", async () => {
    const image = await randomImage({ layers: 2 });
    await oci.pushImage("pull/oci", "v1", image);
    await expectManifest(await anonymous.getManifest("pull/oci", "v1"), image.manifest);
    await expectManifest(await anonymous.getManifest("pull/oci", image.manifest.digest), image.manifest);
  });

  it("serves a Docker schema 2 manifest and a Docker manifest list with their own media types", async () => {
    const amd = await randomImage({ docker: true });
    const arm = await randomImage({ docker: true });
    await oci.pushImage("pull/docker", amd.manifest.digest, amd);
    await oci.pushImage("pull/docker", arm.manifest.digest, arm);
    const list = await imageIndex({ manifests: [amd.manifest, arm.manifest], docker: true });
    await oci.pushManifest("pull/docker", "multi", list);
    await expectManifest(await anonymous.getManifest("pull/docker", "multi"), list);
    await expectManifest(await anonymous.getManifest("pull/docker", amd.manifest.digest), amd.manifest);
  });

  it("serves an OCI index", async () => {
    const images = [await randomImage(), await randomImage()];
    for (const image of images) await oci.pushImage("pull/index", image.manifest.digest, image);
    const index = await imageIndex({ manifests: images.map((i) => i.manifest) });
    await oci.pushManifest("pull/index", "latest", index);
    await expectManifest(await anonymous.getManifest("pull/index", "latest"), index);
    expect(await bodyDigest(await anonymous.getManifest("pull/index", index.digest))).toBe(index.digest);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const image = await randomImage();
    await oci.pushImage("pull/head", "v1", image);
    for (const reference of ["v1", image.manifest.digest]) {
      const res = await anonymous.headManifest("pull/head", reference);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(MEDIA.manifest);
      expect(res.headers.get("docker-content-digest")).toBe(image.manifest.digest);
      expect(res.headers.get("content-length")).toBe(String(image.manifest.size));
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
  });

  it("caches by digest for a year and by tag only for the metadata TTL", async () => {
    const image = await randomImage();
    await oci.pushImage("pull/cache", "v1", image);
    const byDigest = await anonymous.getManifest("pull/cache", image.manifest.digest);
    expect(byDigest.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const byTag = await anonymous.getManifest("pull/cache", "v1");
    // wrangler.toml sets L1_METADATA_TTL = 30.
    expect(byTag.headers.get("cache-control")).toBe("public, max-age=30, must-revalidate");
    await Promise.all([byDigest.arrayBuffer(), byTag.arrayBuffer()]);
  });

  it("answers 404 MANIFEST_UNKNOWN for an unknown tag or digest in a known repository", async () => {
    const image = await randomImage();
    await oci.pushImage("pull/known", "v1", image);
    await expectOciError(await anonymous.getManifest("pull/known", "v2"), 404, "MANIFEST_UNKNOWN");
    const other = await content("not a manifest anyone pushed");
    await expectOciError(await anonymous.getManifest("pull/known", other.digest), 404, "MANIFEST_UNKNOWN");
    expect((await anonymous.headManifest("pull/known", "v2")).status).toBe(404);
  });

  it("does not serve a manifest by digest from a repository it was not pushed to", async () => {
    const image = await randomImage();
    await oci.pushImage("pull/mine", "v1", image);
    await oci.pushImage("pull/yours", "v1", await randomImage());
    for (let i = 0; i < 2; i++) expect((await anonymous.getManifest("pull/mine", image.manifest.digest)).status).toBe(200);
    await expectOciError(await anonymous.getManifest("pull/yours", image.manifest.digest), 404, "MANIFEST_UNKNOWN");
  });

  it("serves a tag at once in every region after it was asked for before it existed", async () => {
    const image = await randomImage();
    await oci.pushImage("pull/later", "v1", image);
    for (const region of ["us-east", "eu-west", "ap-south"]) {
      await expectOciError(await anonymous.inRegion(region).getManifest("pull/later", "v2"), 404, "MANIFEST_UNKNOWN");
    }
    await oci.pushManifest("pull/later", "v2", image.manifest);
    for (const region of ["us-east", "eu-west", "ap-south"]) {
      expect((await anonymous.inRegion(region).getManifest("pull/later", "v2")).status, region).toBe(200);
    }
  });

  it("answers 404 NAME_UNKNOWN for a repository that was never pushed", async () => {
    await expectOciError(await anonymous.getManifest("pull/never-pushed", "latest"), 404, "NAME_UNKNOWN");
  });

  it.each([
    ["a tag starting with a dot", ".hidden"],
    ["a tag of 129 characters", "t".repeat(129)],
    ["a malformed digest", "sha256:xyz"],
  ])("rejects %s as a reference", async (_what, reference) => {
    const res = await anonymous.getManifest("pull/known", reference);
    expect(res.status).toBe(400);
    const body = await expectOciError(res, 400, reference.startsWith("sha256:") ? "DIGEST_INVALID" : "MANIFEST_INVALID");
    expect(body.errors).toHaveLength(1);
  });
});
