// Blob pushes (end-4a, end-4b, end-5, end-6, end-11, end-13 and cancel). Bytes stream into R2
// through a BlobWriter that hashes as it goes; an UploadSession Durable Object keeps the state
// between requests. The digest is checked before the blob becomes visible, and a blob is never
// copied: its digest is linked to the object the upload wrote.
import type { Context } from "hono";
import { BlobWriter, newUpload, type UploadState } from "../../shared/origin";
import { requireRepositoryAccess } from "./auth";
import { authorizedRepository, objectStore, repositories } from "./context";
import { ociError } from "./errors";
import { blobCacheKey, dataObject } from "./keys";
import { parseContentRange, parseDigest, parseRepositoryName, type Digest } from "./names";
import { recordAudit } from "../audit";

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function session(c: Context, id: string) {
  return c.env.UPLOAD_SESSION.get(c.env.UPLOAD_SESSION.idFromName(id));
}

const unknownUpload = (id: string) => ociError("BLOB_UPLOAD_UNKNOWN", `upload ${id.slice(0, 64)} unknown: it finished, was cancelled or expired`);

/** Takes the upload for this request, or answers as the spec asks when it cannot. */
async function lease(c: Context, name: string, id: string) {
  const lease = await session(c, id).begin(name);
  if (lease === "unknown") throw unknownUpload(id);
  if (lease === "busy") throw ociError("BLOB_UPLOAD_INVALID", "another request is writing to this upload; send chunks one at a time", { status: "RANGE_NOT_SATISFIABLE" });
  return lease;
}

function uploadId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!UPLOAD_ID.test(id)) throw unknownUpload(id);
  return id;
}

/** Headers describing an upload in progress: where to send the next chunk and what arrived. */
function progress(name: string, id: string, received: number): Record<string, string> {
  return {
    location: `/v2/${name}/blobs/uploads/${id}`,
    // distribution-spec: Range is the inclusive range received so far ("0-0" when empty).
    range: `0-${Math.max(0, received - 1)}`,
    "docker-upload-uuid": id,
  };
}

/** The answer to a blob push (an upload or a mount) that committed, and its audit entry. */
function created(c: Context, name: string, digest: string): Response {
  recordAudit(c, { action: "oci.blob.push", target: `${name}@${digest}` });
  return c.body(null, 201, { location: `/v2/${name}/blobs/${digest}`, "docker-content-digest": digest });
}

/** Finishes a writer: verify the digest, then link it in; on mismatch nothing remains. */
async function complete(c: Context, name: string, writer: BlobWriter, state: UploadState, digest: Digest): Promise<void> {
  const result = await writer.finish(digest.hex, "application/octet-stream");
  if (!result.ok) {
    throw ociError("DIGEST_INVALID", `content digest ${result.digest} does not match ${digest.digest}`, { detail: { expected: digest.digest, actual: result.digest } });
  }
  await repositories(c).commitBlob(name, digest.digest, state.key);
  // A pull (or a client's existence check) before the push may be remembered as not found.
  await c.get("tiers").appeared([blobCacheKey(name, digest.digest)]);
}

/** POST /v2/<name>/blobs/uploads/: mount, monolithic upload, or a new session. */
export async function startUpload(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const mount = c.req.query("mount");
  const from = c.req.query("from");
  if (mount && from) {
    const digest = parseDigest(mount);
    const source = parseRepositoryName(from);
    // Mounting reads the source repository: the caller must be allowed to pull from it. When it
    // may not, or the blob is not there, the spec says to fall back to a plain upload session.
    let mayPull = true;
    try {
      requireRepositoryAccess(c, source, "pull");
    } catch {
      mayPull = false;
    }
    if (mayPull && (await repositories(c).mountBlob(name, source, digest.digest))) {
      await c.get("tiers").appeared([blobCacheKey(name, digest.digest)]);
      return created(c, name, digest.digest);
    }
  }

  const id = crypto.randomUUID();
  const digestParam = c.req.query("digest");
  if (digestParam !== undefined) {
    // end-4b: the whole blob in this one request.
    const digest = parseDigest(digestParam);
    const state = newUpload(dataObject(id));
    const writer = await BlobWriter.resume(objectStore(c), state);
    try {
      const appended = await writer.append(c.req.raw.body, { persist: false });
      await complete(c, name, writer, appended, digest);
    } catch (err) {
      await BlobWriter.discard(objectStore(c), state).catch(() => {});
      throw err;
    }
    return created(c, name, digest.digest);
  }

  await session(c, id).open(name, newUpload(dataObject(id)), c.get("config").ociUploadTtlSeconds);
  return c.body(null, 202, { ...progress(name, id, 0), "content-length": "0" });
}

/** PATCH: one more chunk, which must start where the last one ended. */
export async function appendChunk(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const id = uploadId(c);
  const stub = session(c, id);
  const { id: leaseId, state: leased } = await lease(c, name, id);
  const header = c.req.header("content-range");
  let expectedEnd: number | undefined;
  try {
    if (header) {
      const range = parseContentRange(header);
      if (range.start !== leased.received) {
        throw ociError("BLOB_UPLOAD_INVALID", `chunk starts at ${range.start} but ${leased.received} bytes were received`, {
          status: "RANGE_NOT_SATISFIABLE",
          headers: progress(name, id, leased.received),
        });
      }
      expectedEnd = range.end + 1;
    }
  } catch (err) {
    await stub.release(leaseId);
    throw err;
  }
  let state: UploadState;
  try {
    const writer = await BlobWriter.resume(objectStore(c), leased);
    state = await writer.append(c.req.raw.body, { persist: true });
  } catch (err) {
    // A chunk that broke off half-way leaves parts nobody can account for: start over.
    await stub.discard(name).catch(() => {});
    throw err;
  }
  if (expectedEnd !== undefined && state.received !== expectedEnd) {
    await stub.discard(name).catch(() => {});
    throw ociError("BLOB_UPLOAD_INVALID", `Content-Range promised bytes up to ${expectedEnd - 1} but the body ended at ${state.received - 1}; the upload was discarded`, { status: "RANGE_NOT_SATISFIABLE" });
  }
  if (!(await stub.commit(leaseId, state))) throw unknownUpload(id);
  return c.body(null, 202, { ...progress(name, id, state.received), "content-length": "0" });
}

/** PUT ?digest=: the optional last chunk, then verify and publish the blob (end-6). */
export async function finishUpload(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const id = uploadId(c);
  const digest = parseDigest(c.req.query("digest"));
  const stub = session(c, id);
  const { id: leaseId, state: leased } = await lease(c, name, id);
  try {
    const writer = await BlobWriter.resume(objectStore(c), leased);
    const state = await writer.append(c.req.raw.body, { persist: false });
    await complete(c, name, writer, state, digest);
  } catch (err) {
    await stub.discard(name).catch(() => {});
    throw err;
  }
  await stub.close(leaseId);
  return created(c, name, digest.digest);
}

/** GET: how much of the upload has arrived (end-13). */
export async function uploadStatus(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const id = uploadId(c);
  const status = await session(c, id).status(name);
  if (!status) throw unknownUpload(id);
  return c.body(null, 204, progress(name, id, status.received));
}

/** DELETE: cancel, deleting everything the upload wrote. */
export async function cancelUpload(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const id = uploadId(c);
  if (!(await session(c, id).discard(name))) throw unknownUpload(id);
  return c.body(null, 204);
}
