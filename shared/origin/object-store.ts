// The origin's object storage (R2): tarballs, layers, wheels and the JSON documents that must be
// updated atomically. The only module that touches R2.
import { RegistryError } from "../errors";

export interface OriginObject {
  body: ReadableStream<Uint8Array>;
  size: number;
  etag: string;
  contentType: string;
  uploaded: number;
  /** Content digest recorded with the object (or with the link that led to it). */
  digest?: string;
  /** The key that holds the bytes (a link's target). */
  key: string;
  /** False when only the first bytes were read (see read's `firstBytes`). */
  complete: boolean;
}

export interface ResolvedObject {
  /** The key that holds the bytes (the link's target, or the key itself). */
  key: string;
  size: number;
  digest?: string;
}

// customMetadata fields. A link is an empty object naming the object that holds the bytes:
// it lets a digest or a tag point at data without copying it (an R2 copy stops at 5 GiB).
const LINK = "pkgedge-link";
const DIGEST = "digest";
const CREATE_ONLY = () => new Headers({ "If-None-Match": "*" });

export interface StoredDocument<T> {
  doc: T;
  etag: string;
}

const MAX_CAS_ATTEMPTS = 10;

/**
 * Ends the (empty) body of a link that was just followed. Read to its end, not cancelled: it
 * costs nothing, and a cancelled R2 body makes workerd log a "pump canceled" stack trace.
 */
async function finishLink(link: R2ObjectBody): Promise<void> {
  await link.arrayBuffer();
}

export class ObjectStore {
  constructor(private readonly bucket: R2Bucket) {}

  /**
   * Streams one object, or null when it does not exist. With `firstBytes` only that many bytes
   * are read (`complete` says whether that was all of it): one request both sizes a large
   * object and fetches a small one whole.
   */
  async read(key: string, opts: { firstBytes?: number } = {}): Promise<OriginObject | null> {
    // As an HTTP Range header, a range past the end is clipped to the object (RFC 9110 14.1.2).
    const options = opts.firstBytes !== undefined ? { range: new Headers({ range: `bytes=0-${opts.firstBytes - 1}` }) } : {};
    const obj = await this.bucket.get(key, options);
    if (!obj) return null;
    const target = obj.customMetadata?.[LINK];
    if (target === undefined) return toOriginObject(obj, key);
    await finishLink(obj);
    const data = await this.bucket.get(target, options);
    return data ? toOriginObject(data, target, obj.customMetadata?.[DIGEST]) : null;
  }

  /**
   * A large object as a stream that reads it range by range, each range only when the reader
   * wants more, so memory holds one chunk whatever the object's size or the reader's pace.
   */
  readRanges(key: string, size: number, rangeBytes = 8 * 1024 * 1024): ReadableStream<Uint8Array> {
    let offset = 0;
    let current: ReadableStreamDefaultReader<Uint8Array> | null = null;
    const bucket = this.bucket;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          if (!current) {
            if (offset >= size) return controller.close();
            const length = Math.min(rangeBytes, size - offset);
            const obj = await bucket.get(key, { range: { offset, length } });
            if (!obj) return controller.error(new RegistryError("ORIGIN_UNAVAILABLE", "object vanished while being read", { detail: { tier: "origin" } }));
            offset += length;
            current = obj.body.getReader();
          }
          const { done, value } = await current.read();
          if (done) {
            current = null;
            continue;
          }
          controller.enqueue(value);
          return;
        }
      },
      async cancel(reason) {
        await current?.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Bytes of one range of an object (`suffix`: its last bytes), clipped to its end; null when the
   * object is missing. For small reads into a large object (a wheel's zip directory).
   */
  async readRange(key: string, range: { offset: number; length: number } | { suffix: number }): Promise<Uint8Array | null> {
    const obj = await this.bucket.get(key, { range });
    if (!obj) return null;
    return new Uint8Array(await obj.arrayBuffer());
  }

  /** Like read, but answers "unchanged" without a body when the stored etag still matches. */
  async readIfChanged(key: string, etag: string): Promise<OriginObject | "unchanged" | null> {
    // R2 conditionals take the bare ETag; OriginObject carries the quoted HTTP form.
    const bare = etag.replace(/^W\/|"/g, "");
    const obj = await this.bucket.get(key, { onlyIf: { etagDoesNotMatch: bare } });
    if (!obj) return null;
    if (!("body" in obj)) return "unchanged";
    const target = obj.customMetadata?.[LINK];
    if (target === undefined) return toOriginObject(obj as R2ObjectBody, key);
    // A link reports its target's etag, so the condition is asked again of the target.
    await finishLink(obj as R2ObjectBody);
    const data = await this.bucket.get(target, { onlyIf: { etagDoesNotMatch: bare } });
    if (!data) return null;
    if (!("body" in data)) return "unchanged";
    return toOriginObject(data as R2ObjectBody, target, obj.customMetadata?.[DIGEST]);
  }

  /** Where the bytes of `key` are, following a link; null when either end is missing. */
  async resolve(key: string): Promise<ResolvedObject | null> {
    const head = await this.bucket.head(key);
    if (!head) return null;
    const digest = head.customMetadata?.[DIGEST];
    const target = head.customMetadata?.[LINK];
    if (target === undefined) return { key, size: head.size, ...(digest ? { digest } : {}) };
    const data = await this.bucket.head(target);
    return data ? { key: target, size: data.size, ...(digest ? { digest } : {}) } : null;
  }

  /** The digest a link (or object) records, without following it: its target may be gone. */
  async recordedDigest(key: string): Promise<string | null> {
    return (await this.bucket.head(key))?.customMetadata?.[DIGEST] ?? null;
  }

  /**
   * Makes `key` a link to `target`. With `createOnly` an existing key is left alone and the
   * answer is false, so two writers racing for one name cannot both win.
   */
  async link(key: string, target: string, opts: { digest?: string; createOnly?: boolean } = {}): Promise<boolean> {
    const put = await this.bucket.put(key, "", {
      customMetadata: { [LINK]: target, ...(opts.digest ? { [DIGEST]: opts.digest } : {}) },
      ...(opts.createOnly ? { onlyIf: CREATE_ONLY() } : {}),
    });
    return put !== null;
  }

  /** Writes a whole (small, in-memory) object, optionally create-only; false when the key was taken. */
  async write(key: string, body: Uint8Array | string, opts: { contentType: string; digest?: string; createOnly?: boolean; metadata?: Record<string, string> }): Promise<boolean> {
    const put = await this.bucket.put(key, body, {
      httpMetadata: { contentType: opts.contentType },
      customMetadata: { ...opts.metadata, ...(opts.digest ? { [DIGEST]: opts.digest } : {}) },
      ...(opts.createOnly ? { onlyIf: CREATE_ONLY() } : {}),
    });
    return put !== null;
  }

  /** Writes a stream of known length (a request body with Content-Length) as one object; its size. */
  async putStream(key: string, body: ReadableStream<Uint8Array>, contentType: string): Promise<number> {
    return (await this.bucket.put(key, body, { httpMetadata: { contentType } }))!.size;
  }

  /** Keys under a prefix in lexical order, after `startAfter`, at most `limit` of them. */
  async list(prefix: string, opts: { startAfter?: string; limit: number }): Promise<{ keys: string[]; more: boolean }> {
    const keys: string[] = [];
    let cursor: string | undefined;
    while (keys.length < opts.limit) {
      const page = await this.bucket.list({
        prefix,
        limit: Math.min(1000, opts.limit - keys.length),
        ...(cursor ? { cursor } : opts.startAfter ? { startAfter: opts.startAfter } : {}),
      });
      keys.push(...page.objects.map((o) => o.key));
      if (!page.truncated) return { keys, more: false };
      cursor = page.cursor;
    }
    return { keys, more: true };
  }

  // ---- multipart uploads: objects larger than one request body, written part by part ----

  async startMultipart(key: string, contentType: string): Promise<string> {
    return (await this.bucket.createMultipartUpload(key, { httpMetadata: { contentType } })).uploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, bytes: Uint8Array): Promise<R2UploadedPart> {
    return this.bucket.resumeMultipartUpload(key, uploadId).uploadPart(partNumber, bytes);
  }

  async completeMultipart(key: string, uploadId: string, parts: R2UploadedPart[]): Promise<void> {
    await this.bucket.resumeMultipartUpload(key, uploadId).complete(parts);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.bucket.resumeMultipartUpload(key, uploadId).abort();
  }

  async exists(key: string): Promise<boolean> {
    return (await this.bucket.head(key)) !== null;
  }

  /** The object's size in bytes, or null when it does not exist. */
  async size(key: string): Promise<number | null> {
    return (await this.bucket.head(key))?.size ?? null;
  }

  /** The last `n` bytes of an object (fewer if it is shorter) and its size, or null when absent. */
  async readLast(key: string, n: number): Promise<{ bytes: Uint8Array; size: number } | null> {
    const obj = await this.bucket.get(key, { range: { suffix: n } });
    if (!obj) return null;
    return { bytes: new Uint8Array(await obj.arrayBuffer()), size: obj.size };
  }

  /**
   * Writes an object only if no object exists under the key (R2's If-None-Match: *), so two
   * writers can never overwrite each other. Returns false when the key was taken.
   */
  async createIfAbsent(key: string, body: ReadableStream | ArrayBuffer | Uint8Array, contentType: string,
    sha512?: ArrayBuffer): Promise<boolean> {
    const put = await this.bucket.put(key, body, {
      onlyIf: CREATE_ONLY(),
      httpMetadata: { contentType },
      ...(sha512 ? { sha512 } : {}),
    });
    return put !== null;
  }

  /** Whether the object under `key` has these bytes, by the sha512 stored with it (createIfAbsent). */
  async holdsSha512(key: string, sha512: ArrayBuffer): Promise<boolean> {
    const head = await this.bucket.head(key);
    const stored = head?.checksums.sha512;
    if (!head || !stored) return false;
    const a = new Uint8Array(stored);
    const b = new Uint8Array(sha512);
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  async delete(keys: string | string[]): Promise<void> {
    await this.bucket.delete(keys);
  }

  async readJson<T>(key: string): Promise<StoredDocument<T> | null> {
    const obj = await this.bucket.get(key);
    if (!obj) return null;
    return { doc: (await obj.json()) as T, etag: obj.etag };
  }

  /**
   * Read-modify-write of a JSON document with optimistic concurrency: the write carries the
   * etag it read (If-Match) or If-None-Match: * for a new document, and the whole step is
   * retried when another writer got there first. `mutate` may throw to abort; returning null
   * deletes nothing and writes nothing.
   */
  async updateJson<T>(key: string, mutate: (current: T | null) => T | null | Promise<T | null>): Promise<StoredDocument<T> | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.readJson<T>(key);
      const next = await mutate(current ? current.doc : null);
      if (next === null) return current;
      const condition = current ? { etagMatches: current.etag } : new Headers({ "If-None-Match": "*" });
      const put = await this.bucket.put(key, JSON.stringify(next), {
        onlyIf: condition,
        httpMetadata: { contentType: "application/json" },
      });
      if (put) return { doc: next, etag: put.etag };
      // Lost the race: back off a little, with jitter, and read again.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
    throw new RegistryError("CONFLICT", "too many concurrent updates, try again", { retryAfter: 1 });
  }
}

function toOriginObject(obj: R2ObjectBody, key: string, linkDigest?: string): OriginObject {
  const digest = linkDigest ?? obj.customMetadata?.[DIGEST];
  const read = obj.range && "length" in obj.range && obj.range.length !== undefined ? obj.range.length : obj.size;
  return {
    key,
    complete: read >= obj.size,
    ...(digest ? { digest } : {}),
    body: obj.body,
    size: obj.size,
    etag: obj.httpEtag,
    contentType: obj.httpMetadata?.contentType ?? "application/octet-stream",
    uploaded: obj.uploaded.getTime(),
  };
}
