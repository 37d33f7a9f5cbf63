// end-4a + end-5 + end-6: chunked uploads of any chunk size, in order, with or without Content-Range.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest, content, expectNoBlob, expectNothingStored, expectOciError, locationPath, OciClient, ociKeys, publisher, randomBytes, withQuery,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

describe("end-5 PATCH /v2/<name>/blobs/uploads/<uuid>", () => {
  it("appends each chunk and reports the range received so far", async () => {
    const blob = await content(randomBytes(100_000));
    let location = await oci.openUpload("chunked/range");
    const uuid = location.split("?")[0]!.split("/").pop()!;
    for (const [start, end] of [[0, 9_999], [10_000, 10_000], [10_001, 99_999]] as const) {
      const res = await oci.patchUpload(location, blob.bytes.subarray(start, end + 1), `${start}-${end}`);
      expect(res.status).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${end}`);
      expect(res.headers.get("docker-upload-uuid")).toBe(uuid);
      location = locationPath(res);
      expect(location.split("?")[0]).toBe(`/v2/chunked/range/blobs/uploads/${uuid}`);
    }
    const put = await oci.closeUpload(location, blob.digest);
    expect(put.status).toBe(201);
    expect(locationPath(put)).toBe(`/v2/chunked/range/blobs/${blob.digest}`);
    expect(put.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(await bodyDigest(await anonymous.getBlob("chunked/range", blob.digest))).toBe(blob.digest);
  });

  // The server re-cuts chunks into fixed R2 multipart parts: sizes that straddle part boundaries
  // must come back byte for byte.
  it.each([
    ["1 MiB + 13 byte chunks over 12 MiB", 12 * 1024 * 1024 + 5, 1024 * 1024 + 13],
    ["5 MiB chunks over 11 MiB", 11 * 1024 * 1024, 5 * 1024 * 1024],
    ["7 MiB - 1 byte chunks over 15 MiB", 15 * 1024 * 1024 + 1, 7 * 1024 * 1024 - 1],
  ])("stores a blob uploaded in %s", async (_what, size, chunkSize) => {
    const blob = await content(randomBytes(size));
    const { patches, put } = await oci.pushBlobChunked("chunked/large", blob, { chunkSize });
    expect(patches.map((p) => p.status)).toEqual(patches.map(() => 202));
    expect(patches.at(-1)!.headers.get("range")).toBe(`0-${size - 1}`);
    expect(put.status).toBe(201);
    const pulled = await anonymous.getBlob("chunked/large", blob.digest);
    expect(pulled.headers.get("content-length")).toBe(String(size));
    expect(await bodyDigest(pulled)).toBe(blob.digest);
  }, 60_000);

  it("accepts chunks without Content-Range (streamed PATCH, as docker sends it)", async () => {
    const blob = await content(randomBytes(3 * 1024 * 1024 + 3));
    const { patches, put } = await oci.pushBlobChunked("chunked/streamed", blob, { chunkSize: 1024 * 1024, contentRange: false });
    expect(patches.map((p) => p.headers.get("range"))).toEqual([`0-${1024 * 1024 - 1}`, `0-${2 * 1024 * 1024 - 1}`, `0-${3 * 1024 * 1024 - 1}`, `0-${blob.size - 1}`]);
    expect(put.status).toBe(201);
    expect(await bodyDigest(await anonymous.getBlob("chunked/streamed", blob.digest))).toBe(blob.digest);
  });

  // docker and skopeo send a whole layer in one PATCH without Content-Range, then a PUT without
  // a body: the layer streams into R2 in one put, past the size of a multipart part too.
  it.each([
    ["below one part", 100_003],
    ["above one part", 9 * 1024 * 1024 + 7],
  ])("stores a layer %s sent in one streamed PATCH", async (_what, size) => {
    const blob = await content(randomBytes(size));
    const { patches, put } = await oci.pushBlobChunked("chunked/one-patch", blob, { chunkSize: size, contentRange: false });
    expect(patches.map((p) => [p.status, p.headers.get("range")])).toEqual([[202, `0-${size - 1}`]]);
    expect(put.status).toBe(201);
    const pulled = await anonymous.getBlob("chunked/one-patch", blob.digest);
    expect(pulled.headers.get("content-length")).toBe(String(size));
    expect(await bodyDigest(pulled)).toBe(blob.digest);
  }, 30_000);

  it("answers 400 DIGEST_INVALID for a wrong digest after one streamed PATCH and stores nothing", async () => {
    const blob = await content(randomBytes(9 * 1024 * 1024));
    const wrong = await content("not the uploaded bytes");
    await expectNothingStored(async () => {
      const { location, put } = await oci.pushBlobChunked("chunked/one-patch-wrong", blob, { chunkSize: blob.size, contentRange: false, digest: wrong.digest });
      await expectOciError(put, 400, "DIGEST_INVALID");
      await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    });
    await expectNoBlob(anonymous, "chunked/one-patch-wrong", blob.digest);
  }, 30_000);

  // Its bytes are one finished object, not parts: more of them cannot be appended, so the client
  // is told to start again (no client sends more after a streamed PATCH; chunked ones say where
  // each chunk goes, and are taken chunk by chunk).
  it("answers 416 BLOB_UPLOAD_INVALID to more bytes after a streamed PATCH over one part, and keeps nothing", async () => {
    const blob = await content(randomBytes(8 * 1024 * 1024 + 5));
    await expectNothingStored(async () => {
      const location = await oci.openUpload("chunked/one-patch-more");
      const first = await oci.patchUpload(location, blob.bytes.subarray(0, 8 * 1024 * 1024));
      expect(first.status).toBe(202);
      await expectOciError(await oci.patchUpload(locationPath(first), blob.bytes.subarray(8 * 1024 * 1024)), 416, "BLOB_UPLOAD_INVALID");
      await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    });
    await expectNoBlob(anonymous, "chunked/one-patch-more", blob.digest);
  }, 30_000);

  it("takes the last chunk from the closing PUT", async () => {
    const blob = await content(randomBytes(2 * 1024 * 1024 + 99));
    const { put } = await oci.pushBlobChunked("chunked/last-in-put", blob, { chunkSize: 1024 * 1024, lastInPut: true });
    expect(put.status).toBe(201);
    expect(await bodyDigest(await anonymous.getBlob("chunked/last-in-put", blob.digest))).toBe(blob.digest);
  });

  it("accepts a closing PUT whose last chunk carries its Content-Range", async () => {
    const blob = await content(randomBytes(5000));
    const location = await oci.openUpload("chunked/put-range");
    const patch = await oci.patchUpload(location, blob.bytes.subarray(0, 3000), "0-2999");
    expect(patch.status).toBe(202);
    const put = await oci.request(withQuery(locationPath(patch), { digest: blob.digest }), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-range": "3000-4999" },
      body: blob.bytes.subarray(3000),
    });
    expect(put.status).toBe(201);
    expect(await bodyDigest(await anonymous.getBlob("chunked/put-range", blob.digest))).toBe(blob.digest);
  });

  it("answers 416 BLOB_UPLOAD_INVALID for an out-of-order chunk and keeps the session where it was", async () => {
    const blob = await content(randomBytes(3000));
    let location = await oci.openUpload("chunked/out-of-order");
    const first = await oci.patchUpload(location, blob.bytes.subarray(0, 1000), "0-999");
    expect(first.status).toBe(202);
    location = locationPath(first);

    // A gap, then an overlap: the next chunk must start at byte 1000.
    await expectOciError(await oci.patchUpload(location, blob.bytes.subarray(1500, 2000), "1500-1999"), 416, "BLOB_UPLOAD_INVALID");
    await expectOciError(await oci.patchUpload(location, blob.bytes.subarray(500, 1000), "500-999"), 416, "BLOB_UPLOAD_INVALID");

    const status = await oci.uploadStatus(location);
    expect([status.status, status.headers.get("range")]).toEqual([204, "0-999"]);
    const rest = await oci.patchUpload(location, blob.bytes.subarray(1000), "1000-2999");
    expect([rest.status, rest.headers.get("range")]).toEqual([202, "0-2999"]);
    expect((await oci.closeUpload(locationPath(rest), blob.digest)).status).toBe(201);
    expect(await bodyDigest(await anonymous.getBlob("chunked/out-of-order", blob.digest))).toBe(blob.digest);
  });

  it.each([["letters", "abc"], ["end before start", "10-5"], ["a negative start", "-1-5"]])(
    "answers 416 BLOB_UPLOAD_INVALID for a Content-Range of %s",
    async (_what, range) => {
      const location = await oci.openUpload("chunked/bad-range");
      await expectOciError(await oci.patchUpload(location, new Uint8Array(6), range), 416, "BLOB_UPLOAD_INVALID");
    },
  );

  it.each([
    ["shorter", 100, "400-999"],
    ["longer", 600, "400-499"],
  ])("answers 416 BLOB_UPLOAD_INVALID to a body %s than its Content-Range, and never keeps those bytes", async (_what, length, range) => {
    const blob = await content(randomBytes(1000));
    await expectNothingStored(async () => {
      const location = await oci.openUpload("chunked/range-length");
      expect((await oci.patchUpload(location, blob.bytes.subarray(0, 400), "0-399")).status).toBe(202);
      await expectOciError(await oci.patchUpload(location, blob.bytes.subarray(400, 400 + length), range), 416, "BLOB_UPLOAD_INVALID");
      // pkgedge may keep the session as it was before the chunk, or drop it; nothing in between.
      const status = await oci.uploadStatus(location);
      if (status.status === 204) expect(status.headers.get("range")).toBe("0-399");
      else await expectOciError(status, 404, "BLOB_UPLOAD_UNKNOWN");
      expect([204, 404]).toContain((await oci.cancelUpload(location)).status);
    });
    await expectNoBlob(anonymous, "chunked/range-length", blob.digest);
  });

  it("answers 401 UNAUTHORIZED for a PATCH without credentials", async () => {
    const location = await oci.openUpload("chunked/anonymous-patch");
    await expectOciError(await anonymous.patchUpload(location, new Uint8Array(10), "0-9"), 401, "UNAUTHORIZED");
  });
});

describe("end-6 PUT /v2/<name>/blobs/uploads/<uuid>?digest=<digest>", () => {
  it.each([
    ["one PATCH", [3000]],
    ["three PATCHes", [1000, 1000, 1000]],
  ])("a small blob sent as skopeo sends it (%s, then a PUT without a body) is stored once, without a tail object, and served", async (_what, sizes) => {
    const blob = await content(randomBytes(3000));
    const before = new Set(await ociKeys());
    let location = await oci.openUpload("chunked/skopeo-shaped");
    let offset = 0;
    for (const size of sizes) {
      const patch = await oci.patchUpload(location, blob.bytes.subarray(offset, offset + size), `${offset}-${offset + size - 1}`);
      expect(patch.status).toBe(202);
      location = locationPath(patch);
      offset += size;
    }
    const put = await oci.closeUpload(location, blob.digest);
    expect(put.status).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(new Uint8Array(await (await oci.getBlob("chunked/skopeo-shaped", blob.digest)).arrayBuffer())).toEqual(blob.bytes);
    await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    const added = (await ociKeys()).filter((k) => !before.has(k));
    expect(added.filter((k) => k.endsWith(".tail"))).toEqual([]);
    // The data object, the blob's link and the repository's link: nothing else was written.
    expect(added.filter((k) => k.startsWith("oci/data/"))).toHaveLength(1);
  });

  it("answers 400 DIGEST_INVALID for a wrong digest, drops the session and stores nothing", async () => {
    const blob = await content(randomBytes(6 * 1024 * 1024 + 1));
    const wrong = await content("not the uploaded bytes");
    await expectNothingStored(async () => {
      const { location, patches, put } = await oci.pushBlobChunked("chunked/wrong-digest", blob, { chunkSize: 2 * 1024 * 1024, digest: wrong.digest });
      expect(patches.every((p) => p.status === 202)).toBe(true);
      await expectOciError(put, 400, "DIGEST_INVALID");
      await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
      await expectOciError(await oci.closeUpload(location, blob.digest), 404, "BLOB_UPLOAD_UNKNOWN");
    });
    await expectNoBlob(anonymous, "chunked/wrong-digest", blob.digest);
    await expectNoBlob(anonymous, "chunked/wrong-digest", wrong.digest);
  }, 30_000);

  it("answers 400 DIGEST_INVALID for a malformed digest parameter and stores nothing", async () => {
    const blob = await content(randomBytes(1000));
    await expectNothingStored(async () => {
      const location = await oci.openUpload("chunked/malformed-digest");
      expect((await oci.patchUpload(location, blob.bytes, "0-999")).status).toBe(202);
      await expectOciError(await oci.closeUpload(location, "sha256:nothex"), 400, "DIGEST_INVALID");
      // Whether the session survives is not specified; once it is gone nothing may remain.
      expect([204, 404]).toContain((await oci.cancelUpload(location)).status);
    });
    await expectNoBlob(anonymous, "chunked/malformed-digest", blob.digest);
  });
});
