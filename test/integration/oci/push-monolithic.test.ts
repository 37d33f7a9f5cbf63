// end-4b (single POST with the digest) and end-4a + end-6 (POST, then one PUT with the whole blob).
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest, content, expectNoBlob, expectNothingStored, expectOciError, locationPath, OciClient, publisher, randomBytes,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

describe("end-4b POST /v2/<name>/blobs/uploads/?digest=<digest>", () => {
  it("stores the blob in one request and answers 201 with its location", async () => {
    const blob = await content(randomBytes(300_000));
    const res = await oci.pushBlob("mono/one", blob);
    expect(res.status).toBe(201);
    expect(locationPath(res)).toBe(`/v2/mono/one/blobs/${blob.digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(blob.digest);

    const pulled = await anonymous.request(locationPath(res));
    expect(pulled.status).toBe(200);
    expect(await bodyDigest(pulled)).toBe(blob.digest);
  });

  it("stores a blob larger than one R2 multipart part", async () => {
    const blob = await content(randomBytes(12 * 1024 * 1024 + 7));
    expect((await oci.pushBlob("mono/large", blob)).status).toBe(201);
    const pulled = await anonymous.getBlob("mono/large", blob.digest);
    expect(pulled.headers.get("content-length")).toBe(String(blob.size));
    expect(await bodyDigest(pulled)).toBe(blob.digest);
  }, 30_000);

  it("accepts the same blob twice, storing nothing more the second time", async () => {
    const blob = await content("pushed twice");
    expect((await oci.pushBlob("mono/twice", blob)).status).toBe(201);
    await expectNothingStored(async () => {
      expect((await oci.pushBlob("mono/twice", blob)).status).toBe(201);
      const location = await oci.openUpload("mono/twice");
      expect((await oci.closeUpload(location, blob.digest, blob.bytes)).status).toBe(201);
    });
    expect(await bodyDigest(await anonymous.getBlob("mono/twice", blob.digest))).toBe(blob.digest);
  });

  it("answers 400 DIGEST_INVALID and stores nothing when the body does not match the digest", async () => {
    const blob = await content(randomBytes(4096));
    const claimed = await content("what the client said it would send");
    await expectNothingStored(async () => {
      await expectOciError(await oci.pushBlob("mono/mismatch", blob, claimed.digest), 400, "DIGEST_INVALID");
    });
    await expectNoBlob(anonymous, "mono/mismatch", claimed.digest);
    await expectNoBlob(anonymous, "mono/mismatch", blob.digest);
  });

  it.each([
    ["a truncated digest", "sha256:0123"],
    ["an unsupported algorithm", `sha512:${"0".repeat(128)}`],
    ["upper-case hex", `sha256:${"AB".repeat(32)}`],
  ])("answers 400 DIGEST_INVALID for %s and stores nothing", async (_what, digest) => {
    const blob = await content("a blob with a bad digest");
    await expectNothingStored(async () => {
      await expectOciError(await oci.pushBlob("mono/bad-digest", blob, digest), 400, "DIGEST_INVALID");
    });
    await expectNoBlob(anonymous, "mono/bad-digest", blob.digest);
  });

  it("answers 401 UNAUTHORIZED with the token challenge and stores nothing without credentials", async () => {
    const blob = await content("anonymous push");
    await expectNothingStored(async () => {
      await expectOciError(await anonymous.pushBlob("mono/anonymous", blob), 401, "UNAUTHORIZED");
    });
    await expectNoBlob(anonymous, "mono/anonymous", blob.digest);
  });
});

describe("end-4a + end-6: POST then PUT with the whole blob", () => {
  it("opens a session, then stores the blob from the closing PUT's body", async () => {
    const blob = await content(randomBytes(200_000));
    const location = await oci.openUpload("mono/post-put");
    const res = await oci.closeUpload(location, blob.digest, blob.bytes);
    expect(res.status).toBe(201);
    expect(locationPath(res)).toBe(`/v2/mono/post-put/blobs/${blob.digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(await bodyDigest(await anonymous.getBlob("mono/post-put", blob.digest))).toBe(blob.digest);
  });

  it("stores an empty blob from a PUT without a body", async () => {
    const blob = await content(new Uint8Array(0));
    const location = await oci.openUpload("mono/empty");
    const res = await oci.closeUpload(location, blob.digest);
    expect(res.status).toBe(201);
    const pulled = await anonymous.getBlob("mono/empty", blob.digest);
    expect(pulled.status).toBe(200);
    expect((await pulled.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 400 DIGEST_INVALID for a PUT without a digest, and stores nothing", async () => {
    const blob = await content("no digest given");
    const location = await oci.openUpload("mono/no-digest");
    await expectNothingStored(async () => {
      const res = await oci.request(location, { method: "PUT", body: blob.bytes });
      await expectOciError(res, 400, "DIGEST_INVALID");
    });
    await expectNoBlob(anonymous, "mono/no-digest", blob.digest);
  });
});
