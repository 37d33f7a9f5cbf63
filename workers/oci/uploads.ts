// Blob pushes (end-4a, end-4b, end-5, end-6, end-11, end-13 and cancel). Bytes stream into R2
// through a BlobWriter that hashes as it goes (a body sent whole with its length in one put,
// chunks through resumable parts); an UploadSession Durable Object keeps the state
// between requests. The digest is checked before the blob becomes visible, and a blob is never
// copied: its digest is linked to the object the upload wrote. A finish goes through the
// session's prepare/finalize steps (durable-objects/upload-session.ts), so a crash at any
// instant leaves a finish the session completes or rolls back, never a blob it could delete.
import type { Context } from "hono";
import { crashPoint } from "../../shared/crash-point";
import { BlobWriter, MAX_WHOLE_BYTES, PART_BYTES, newUpload, type UploadState } from "../../shared/origin";
import { requireRepositoryAccess } from "./auth";
import { authorizedRepository, objectStore, repositories } from "./context";
import { ociError } from "./errors";
import { blobObject, dataObject } from "./keys";
import { blobCacheKey } from "./objects";
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
  if (lease === "busy") throw busy();
  if (lease === "unknown" || "resolved" in lease) throw unknownUpload(id);
  return lease;
}

const busy = () => ociError("BLOB_UPLOAD_INVALID", "another request is writing to this upload; send chunks one at a time", { status: "RANGE_NOT_SATISFIABLE" });

function uploadId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!UPLOAD_ID.test(id)) throw unknownUpload(id);
  return id;
}

/**
 * The declared length of a body that can stream into R2 whole, in one put (BlobWriter's short
 * way); null when it has none (chunked transfer encoding), is empty or is too large for one put.
 */
function wholeLength(c: Context): number | null {
  const declared = c.req.header("content-length");
  const length = declared === undefined ? Number.NaN : Number(declared);
  return c.req.raw.body && Number.isSafeInteger(length) && length > 0 && length <= MAX_WHOLE_BYTES ? length : null;
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

const digestInvalid = (actual: string, digest: Digest) =>
  ociError("DIGEST_INVALID", `content digest ${actual} does not match ${digest.digest}`, { detail: { expected: digest.digest, actual } });

/** Finishes a sessionless writer (a small monolithic upload): verify the digest, then link it in. */
async function complete(c: Context, name: string, writer: BlobWriter, state: UploadState, digest: Digest): Promise<void> {
  const result = await writer.finish(digest.hex, "application/octet-stream");
  if (!result.ok) throw digestInvalid(result.digest, digest);
  await repositories(c).commitBlob(name, digest.digest, state.key);
  // A pull (or a client's existence check) before the push may be remembered as not found.
  await c.get("tiers").forgetNotFound([blobCacheKey(name, digest.digest)]);
}

/**
 * Finishes an upload its session holds: the session records the digest (prepare), the data
 * object is completed, and the session links it and closes (finalize). On a mismatch or an
 * error the session rolls the upload back; nothing partial remains.
 */
async function completeLeased(c: Context, name: string, id: string, leaseId: string, writer: BlobWriter, state: UploadState, digest: Digest): Promise<void> {
  const stub = session(c, id);
  try {
    if (writer.digest() !== digest.digest) throw digestInvalid(writer.digest(), digest);
    if (!(await stub.prepare(leaseId, digest.digest, state))) throw unknownUpload(id);
    await writer.finish(digest.hex, "application/octet-stream");
  } catch (err) {
    await stub.discard(name, leaseId).catch(() => {});
    throw err;
  }
  if (!(await stub.finalize(leaseId))) {
    // The session was resolved without us (this request outlived its finish lease): if it
    // completed the commit the blob is there; if it rolled back, what we just wrote is unlinked.
    if (!(await repositories(c).blob(name, digest.digest))) {
      const linked = await objectStore(c).resolve(blobObject(digest.digest));
      if (linked?.key !== state.key) await objectStore(c).delete(state.key);
      throw unknownUpload(id);
    }
  }
  await c.get("tiers").forgetNotFound([blobCacheKey(name, digest.digest)]);
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
      await c.get("tiers").forgetNotFound([blobCacheKey(name, digest.digest)]);
      return created(c, name, digest.digest);
    }
  }

  const id = crypto.randomUUID();
  const digestParam = c.req.query("digest");
  if (digestParam !== undefined) {
    // end-4b: the whole blob in this one request. Small blobs need no session; one large enough
    // for a multipart upload opens one the moment R2 creates it, so a crash leaves nothing the
    // alarm cannot find.
    const digest = parseDigest(digestParam);
    const state = newUpload(dataObject(id));
    let leaseId: string | undefined;
    const ttl = c.get("config").ociUploadTtlSeconds;
    const openSession = async (opened: UploadState) => {
      leaseId = await session(c, id).openLeased(name, opened, ttl);
    };
    const length = wholeLength(c);
    try {
      let writer: BlobWriter;
      let appended: UploadState;
      if (length !== null) {
        // Streamed in one put: a large one is in a session's care before any byte is sent.
        if (length >= PART_BYTES) await openSession(state);
        writer = await BlobWriter.streamWhole(objectStore(c), state, c.req.raw.body!, length);
        appended = writer.snapshot();
      } else {
        writer = await BlobWriter.resume(objectStore(c), state, { multipartStarted: (multipartId) => openSession({ ...state, multipartId }) });
        appended = await writer.append(c.req.raw.body, { persist: false });
      }
      if (leaseId) await completeLeased(c, name, id, leaseId, writer, appended, digest);
      else await complete(c, name, writer, appended, digest);
    } catch (err) {
      if (leaseId) await session(c, id).discard(name, leaseId).catch(() => {});
      else await BlobWriter.discard(objectStore(c), state).catch(() => {});
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
  // The one PATCH of a streamed upload (no Content-Range: docker and skopeo send the whole blob
  // so) goes into R2 in one put; chunks of a chunked upload through the resumable writer.
  const whole = !header && leased.received === 0 && !leased.multipartId ? wholeLength(c) : null;
  let state: UploadState;
  try {
    if (whole !== null) {
      state = (await BlobWriter.streamWhole(objectStore(c), leased, c.req.raw.body!, whole)).snapshot();
      // Every byte is in the data object, which the session does not know is complete yet.
      await crashPoint("oci-whole-stored");
    } else {
      const writer = await BlobWriter.resume(objectStore(c), leased, { multipartStarted: (multipartId) => recordMultipart(stub, leaseId, id, multipartId) });
      state = await writer.append(c.req.raw.body, { persist: true });
    }
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
  // A PUT with no last chunk (what skopeo and docker send) needs none of the saved bytes back,
  // and for an upload smaller than one part the session finishes it in one call.
  const noMoreBytes = c.req.raw.body === null || c.req.header("content-length") === "0";
  if (noMoreBytes) {
    const whole = await stub.finishWhole(name, digest.digest);
    if (whole === "unknown") throw unknownUpload(id);
    if (whole === "busy") throw busy();
    if (whole === "committed") {
      await c.get("tiers").forgetNotFound([blobCacheKey(name, digest.digest)]);
      return created(c, name, digest.digest);
    }
    if (whole !== "resume") {
      if ("mismatch" in whole) throw digestInvalid(whole.mismatch, digest);
      if (whole.resolved === "committed" && whole.digest === digest.digest) return created(c, name, digest.digest);
      throw unknownUpload(id);
    }
  }
  const taken = await stub.begin(name);
  if (taken === "unknown") throw unknownUpload(id);
  if (taken === "busy") throw busy();
  if ("resolved" in taken) {
    // A retry of a finish that a crash interrupted: the session just completed it or rolled it back.
    if (taken.resolved === "committed" && taken.digest === digest.digest) return created(c, name, digest.digest);
    throw unknownUpload(id);
  }
  const { id: leaseId, state: leased } = taken;
  // A session still empty that gets the whole blob with its PUT (what containerd sends).
  const whole = leased.received === 0 && !leased.multipartId && !noMoreBytes ? wholeLength(c) : null;
  let state: UploadState;
  let writer: BlobWriter;
  try {
    if (whole !== null) {
      writer = await BlobWriter.streamWhole(objectStore(c), leased, c.req.raw.body!, whole);
      state = writer.snapshot();
    } else {
      writer = await BlobWriter.resume(objectStore(c), leased, { multipartStarted: (multipartId) => recordMultipart(stub, leaseId, id, multipartId) }, { noMoreBytes });
      state = await writer.append(c.req.raw.body, { persist: false });
    }
  } catch (err) {
    await stub.discard(name, leaseId).catch(() => {});
    throw err;
  }
  await completeLeased(c, name, id, leaseId, writer, state, digest);
  return created(c, name, digest.digest);
}

async function recordMultipart(stub: ReturnType<typeof session>, leaseId: string, id: string, multipartId: string): Promise<void> {
  if (!(await stub.recordMultipart(leaseId, multipartId))) throw unknownUpload(id);
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
  const discarded = await session(c, id).discard(name);
  if (discarded === "busy") throw busy();
  if (!discarded) throw unknownUpload(id);
  return c.body(null, 204);
}
