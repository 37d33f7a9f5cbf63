// pkgedge_oci_open_uploads: every upload holding an R2 multipart upload open is counted, from the
// moment R2 creates it (so one whose request died mid-chunk is counted too) until it completes
// or its session discards it.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Lease, UploadSession } from "../../../durable-objects/upload-session";
import { BASE } from "../../helpers/worker";
import { content, locationPath, publisher, randomBytes } from "../../helpers/oci";

async function openUploads(): Promise<number> {
  const text = await (await exports.default.fetch(`${BASE}/_/metrics`, { headers: { authorization: "Bearer test-admin-secret" } })).text();
  expect(text).toContain("# TYPE pkgedge_oci_open_uploads gauge");
  return Number(/^pkgedge_oci_open_uploads (\d+)$/m.exec(text)![1]);
}

const uuidOf = (location: string): string => location.split("?")[0]!.split("/").pop()!;

function sessionObject(uuid: string): DurableObjectStub<UploadSession> {
  const ns = (env as unknown as { UPLOAD_SESSION: DurableObjectNamespace<UploadSession> }).UPLOAD_SESSION;
  return ns.get(ns.idFromName(uuid));
}

describe("pkgedge_oci_open_uploads", () => {
  it("counts a chunked upload from its first full part until its finish", async () => {
    const oci = await publisher();
    const blob = await content(randomBytes(9 * 1024 * 1024));
    const before = await openUploads();
    const location = locationPath(await oci.patchUpload(await oci.openUpload("metric/chunked"), blob.bytes, `0-${blob.bytes.byteLength - 1}`));
    expect(await openUploads()).toBe(before + 1);
    expect((await oci.closeUpload(location, blob.digest)).status).toBe(201);
    expect(await openUploads()).toBe(before);
  }, 30_000);

  it("counts the multipart upload of a request that died mid-chunk, until the upload is discarded", async () => {
    const oci = await publisher();
    const before = await openUploads();
    const location = await oci.openUpload("metric/cut-off");
    const stub = sessionObject(uuidOf(location));
    // What the dying PATCH did: took the lease, had R2 create the multipart upload, recorded it.
    const lease = (await stub.begin("metric/cut-off")) as Lease;
    const multipart = await env.BLOBS.createMultipartUpload(lease.state.key);
    expect(await stub.recordMultipart(lease.id, multipart.uploadId)).toBe(true);
    expect(await openUploads()).toBe(before + 1);
    // Its session knows the multipart upload, so discarding it aborts it and stops counting it.
    expect((await oci.cancelUpload(location)).status).toBe(204);
    expect(await openUploads()).toBe(before);
    await expect(multipart.uploadPart(1, new Uint8Array(16))).rejects.toThrow();
  });
});
