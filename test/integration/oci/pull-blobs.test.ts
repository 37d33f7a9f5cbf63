// end-2: GET and HEAD of blobs by digest, and what a client sees for blobs that are not there.
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, bodyDigest, content, expectOciError, OciClient, publisher, randomBytes } from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

describe("end-2 GET /v2/<name>/blobs/<digest>", () => {
  it("serves the pushed bytes with the digest, length, ETag and range support", async () => {
    const blob = await content(randomBytes(70_000));
    await oci.pushBlobs("pull/blobs", blob);

    const res = await anonymous.getBlob("pull/blobs", blob.digest);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(res.headers.get("content-length")).toBe(String(blob.size));
    expect(res.headers.get("etag")).toBe(`"${blob.digest}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(res.headers.get("x-pkgedge-cache")).toBeTruthy();
    expect(await bodyDigest(res)).toBe(blob.digest);
  });

  it("is immutable by digest: cached a year", async () => {
    const blob = await content(randomBytes(100));
    await oci.pushBlobs("pull/immutable", blob);
    const res = await anonymous.getBlob("pull/immutable", blob.digest);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    await res.arrayBuffer();
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const blob = await content(randomBytes(5000));
    await oci.pushBlobs("pull/head", blob);

    const res = await anonymous.headBlob("pull/head", blob.digest);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(res.headers.get("content-length")).toBe(String(blob.size));
    expect(res.headers.get("etag")).toBe(`"${blob.digest}"`);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it("serves an empty blob", async () => {
    const blob = await content(new Uint8Array(0));
    expect(blob.digest).toBe("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    await oci.pushBlobs("pull/empty", blob);
    const res = await anonymous.getBlob("pull/empty", blob.digest);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 404 BLOB_UNKNOWN for a digest never pushed", async () => {
    await oci.pushBlobs("pull/unknown", await content("something"));
    const missing = await content("never pushed");
    await expectOciError(await anonymous.getBlob("pull/unknown", missing.digest), 404, "BLOB_UNKNOWN");
    const head = await anonymous.headBlob("pull/unknown", missing.digest);
    expect(head.status).toBe(404);
  });

  it("serves a blob at once after it was asked for before it was pushed", async () => {
    const blob = await content(randomBytes(3000));
    await oci.pushBlobs("pull/later", await content("the repository exists"));
    for (const region of ["us-east", "eu-west"]) {
      await expectOciError(await anonymous.inRegion(region).getBlob("pull/later", blob.digest), 404, "BLOB_UNKNOWN");
    }
    await oci.pushBlobs("pull/later", blob);
    for (const region of ["us-east", "eu-west"]) {
      expect(await bodyDigest(await anonymous.inRegion(region).getBlob("pull/later", blob.digest)), region).toBe(blob.digest);
    }
  });

  it("answers 404 BLOB_UNKNOWN for a blob that lives only in another repository", async () => {
    // Otherwise anyone could read a private repository's layers through a public one.
    const blob = await content(randomBytes(2000));
    await oci.pushBlobs("pull/owner", blob);
    // Read through the owner first, so every tier holds the bytes under that digest.
    for (let i = 0; i < 2; i++) expect((await anonymous.getBlob("pull/owner", blob.digest)).status).toBe(200);
    expect((await anonymous.getBlob("pull/stranger", blob.digest)).status).toBe(404);
    await oci.pushBlobs("pull/stranger", await content("makes the repository exist"));
    await expectOciError(await anonymous.getBlob("pull/stranger", blob.digest), 404, "BLOB_UNKNOWN");
  });

  it.each([
    ["a short hex", "sha256:abc"],
    ["upper-case hex", `sha256:${"A".repeat(64)}`],
    ["another algorithm", `md5:${"a".repeat(32)}`],
    ["no algorithm", "a".repeat(64)],
  ])("answers 400 DIGEST_INVALID for %s", async (_what, digest) => {
    await expectOciError(await anonymous.getBlob("pull/blobs", digest), 400, "DIGEST_INVALID");
  });
});
