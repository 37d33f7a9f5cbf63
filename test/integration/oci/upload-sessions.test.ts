// Upload sessions (end-4a, end-13, cancel): opening, status, cancelling, and expiry of abandoned
// sessions by the UploadSession Durable Object's alarm (OCI_UPLOAD_TTL_SECONDS after the last activity). Cancelled or expired sessions leave nothing.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { workerWith } from "../../helpers/worker";
import {
  content, encode, expectNoBlob, expectNothingStored, expectOciError, locationPath, OciClient, ociKeys, publisher, randomBytes,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

const uuidOf = (location: string): string => location.split("?")[0]!.split("/").pop()!;

/** The UploadSession Durable Object that holds this upload (named by its uuid). */
function sessionObject(uuid: string): DurableObjectStub {
  const ns = (env as unknown as { UPLOAD_SESSION: DurableObjectNamespace }).UPLOAD_SESSION;
  return ns.get(ns.idFromName(uuid));
}

/** Opens a session and PATCHes `bytes` into it (spanning several R2 parts when large). */
async function openWith(client: OciClient, name: string, bytes: Uint8Array): Promise<string> {
  let location = await client.openUpload(name);
  for (let offset = 0; offset < bytes.byteLength; offset += 3 * 1024 * 1024) {
    const chunk = bytes.subarray(offset, offset + 3 * 1024 * 1024);
    const res = await client.patchUpload(location, chunk, `${offset}-${offset + chunk.byteLength - 1}`);
    expect(res.status).toBe(202);
    location = locationPath(res);
  }
  return location;
}

describe("end-4a POST /v2/<name>/blobs/uploads/", () => {
  it("answers 202 with the session's location, uuid and an empty range", async () => {
    const res = await oci.startUpload("sessions/open");
    expect(res.status).toBe(202);
    const uuid = res.headers.get("docker-upload-uuid");
    expect(uuid).toMatch(/^[0-9a-f-]{16,}$/i);
    expect(locationPath(res).split("?")[0]).toBe(`/v2/sessions/open/blobs/uploads/${uuid}`);
    expect(res.headers.get("range")).toBe("0-0");
  });

  it("gives every session its own uuid", async () => {
    const locations = await Promise.all(Array.from({ length: 5 }, () => oci.openUpload("sessions/many")));
    expect(new Set(locations.map(uuidOf)).size).toBe(5);
  });

  it("answers 401 UNAUTHORIZED without credentials", async () => {
    await expectOciError(await anonymous.startUpload("sessions/anonymous"), 401, "UNAUTHORIZED");
  });
});

describe("end-13 GET /v2/<name>/blobs/uploads/<uuid>", () => {
  it("answers 204 with the location, uuid and the range received so far", async () => {
    const location = await openWith(oci, "sessions/status", randomBytes(12_345));
    const res = await oci.uploadStatus(location);
    expect(res.status).toBe(204);
    expect(res.headers.get("range")).toBe("0-12344");
    expect(res.headers.get("docker-upload-uuid")).toBe(uuidOf(location));
    expect(locationPath(res).split("?")[0]).toBe(location.split("?")[0]);
  });

  it("answers 404 BLOB_UPLOAD_UNKNOWN for a session that never existed", async () => {
    const location = `/v2/sessions/status/blobs/uploads/${crypto.randomUUID()}`;
    await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.patchUpload(location, new Uint8Array(4), "0-3"), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.closeUpload(location, (await content("x")).digest, encode("x")), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.cancelUpload(location), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("answers 404 BLOB_UPLOAD_UNKNOWN for a session used under another repository's name", async () => {
    const location = await openWith(oci, "sessions/mine", randomBytes(100));
    const elsewhere = location.replace("/v2/sessions/mine/", "/v2/sessions/theirs/");
    await expectOciError(await oci.uploadStatus(elsewhere), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.patchUpload(elsewhere, new Uint8Array(4), "100-103"), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.closeUpload(elsewhere, (await content("x")).digest, encode("x")), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.cancelUpload(elsewhere), 404, "BLOB_UPLOAD_UNKNOWN");
    // The session itself is untouched.
    expect((await oci.uploadStatus(location)).headers.get("range")).toBe("0-99");
  });
});

describe("DELETE /v2/<name>/blobs/uploads/<uuid> (cancel)", () => {
  it("answers 204, forgets the session and leaves nothing stored", async () => {
    const bytes = randomBytes(7 * 1024 * 1024 + 11);
    const blob = await content(bytes);
    await expectNothingStored(async () => {
      const location = await openWith(oci, "sessions/cancel", bytes);
      expect((await oci.cancelUpload(location)).status).toBe(204);
      await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
      await expectOciError(await oci.patchUpload(location, new Uint8Array(1), `${bytes.byteLength}-${bytes.byteLength}`), 404, "BLOB_UPLOAD_UNKNOWN");
      await expectOciError(await oci.closeUpload(location, blob.digest), 404, "BLOB_UPLOAD_UNKNOWN");
    });
    await expectNoBlob(anonymous, "sessions/cancel", blob.digest);
  }, 30_000);

  it("answers 401 UNAUTHORIZED to an anonymous cancel and keeps the session", async () => {
    const location = await openWith(oci, "sessions/cancel-anonymous", randomBytes(10));
    await expectOciError(await anonymous.cancelUpload(location), 401, "UNAUTHORIZED");
    expect((await oci.uploadStatus(location)).status).toBe(204);
  });
});

describe("abandoned sessions expire", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  // runDurableObjectAlarm fires the alarm now, as if OCI_UPLOAD_TTL_SECONDS of idleness had passed.
  it("the alarm aborts the upload: the session is unknown and nothing is stored", async () => {
    const bytes = randomBytes(11 * 1024 * 1024);
    const blob = await content(bytes);
    await expectNothingStored(async () => {
      const location = await openWith(oci, "sessions/expiry", bytes);
      expect(await runDurableObjectAlarm(sessionObject(uuidOf(location)))).toBe(true);
      await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
      await expectOciError(await oci.patchUpload(location, new Uint8Array(1), `${bytes.byteLength}-${bytes.byteLength}`), 404, "BLOB_UPLOAD_UNKNOWN");
      await expectOciError(await oci.closeUpload(location, blob.digest), 404, "BLOB_UPLOAD_UNKNOWN");
    });
    await expectNoBlob(anonymous, "sessions/expiry", blob.digest);
  }, 30_000);

  it("an idle session opened without data expires too", async () => {
    const location = await oci.openUpload("sessions/expiry-empty");
    expect(await runDurableObjectAlarm(sessionObject(uuidOf(location)))).toBe(true);
    await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("in real time, the TTL counts from the last activity, not from the opening", async () => {
    // OCI_UPLOAD_TTL_SECONDS=2 for sessions opened through this client; nothing forces the alarm.
    const short = await publisher(workerWith({ OCI_UPLOAD_TTL_SECONDS: "2" }));
    const blob = await content(randomBytes(2000));
    const before = await ociKeys();
    let location = await short.openUpload("sessions/active");
    await sleep(1300);
    const patch = await short.patchUpload(location, blob.bytes.subarray(0, 1000), "0-999");
    expect(patch.status).toBe(202);
    location = locationPath(patch);
    await sleep(1300);
    // Past the TTL since the opening, within it since the PATCH.
    expect((await short.uploadStatus(location)).status).toBe(204);
    const idle = await short.patchUpload(location, blob.bytes.subarray(1000), "1000-1999");
    expect(idle.status).toBe(202);
    location = locationPath(idle);
    await sleep(3500);
    // Idle for longer than the TTL: the alarm has fired by itself.
    await expectOciError(await short.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectNoBlob(anonymous, "sessions/active", blob.digest);
    expect(await ociKeys()).toEqual(before);
  }, 20_000);

  it("a completed session is closed: its location is unknown afterwards", async () => {
    const blob = await content(randomBytes(100));
    const location = await oci.openUpload("sessions/closed");
    expect((await oci.closeUpload(location, blob.digest, blob.bytes)).status).toBe(201);
    await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectOciError(await oci.patchUpload(location, new Uint8Array(1), "100-100"), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("a completed upload leaves no alarm behind and its blob stays", async () => {
    const blob = await content(randomBytes(4000));
    const location = await oci.openUpload("sessions/completed");
    expect((await oci.closeUpload(location, blob.digest, blob.bytes)).status).toBe(201);
    // Either no alarm is left, or one that runs finds nothing to abort: the blob must survive.
    await runDurableObjectAlarm(sessionObject(uuidOf(location)));
    const pulled = await anonymous.getBlob("sessions/completed", blob.digest);
    expect(pulled.status).toBe(200);
    expect(new Uint8Array(await pulled.arrayBuffer())).toEqual(blob.bytes);
  });
});
