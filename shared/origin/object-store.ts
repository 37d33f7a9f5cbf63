// The origin's object storage (R2): tarballs, layers, wheels and the JSON documents that must be
// updated atomically. The only module that touches R2.
import { RegistryError } from "../errors";

export interface OriginObject {
  body: ReadableStream<Uint8Array>;
  size: number;
  etag: string;
  contentType: string;
  uploaded: number;
}

export interface StoredDocument<T> {
  doc: T;
  etag: string;
}

const MAX_CAS_ATTEMPTS = 10;

export class ObjectStore {
  constructor(private readonly bucket: R2Bucket) {}

  /** Streams one object, or null when it does not exist. */
  async read(key: string): Promise<OriginObject | null> {
    const obj = await this.bucket.get(key);
    return obj ? toOriginObject(obj) : null;
  }

  /** Like read, but answers "unchanged" without a body when the stored etag still matches. */
  async readIfChanged(key: string, etag: string): Promise<OriginObject | "unchanged" | null> {
    // R2 conditionals take the bare ETag; OriginObject carries the quoted HTTP form.
    const obj = await this.bucket.get(key, { onlyIf: { etagDoesNotMatch: etag.replace(/^W\/|"/g, "") } });
    if (!obj) return null;
    if (!("body" in obj)) return "unchanged";
    return toOriginObject(obj as R2ObjectBody);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.bucket.head(key)) !== null;
  }

  /**
   * Writes an object only if no object exists under the key (R2's If-None-Match: *), so two
   * writers can never overwrite each other. Returns false when the key was taken.
   */
  async createIfAbsent(key: string, body: ReadableStream | ArrayBuffer | Uint8Array, contentType: string,
    sha512?: ArrayBuffer): Promise<boolean> {
    const put = await this.bucket.put(key, body, {
      onlyIf: new Headers({ "If-None-Match": "*" }),
      httpMetadata: { contentType },
      ...(sha512 ? { sha512 } : {}),
    });
    return put !== null;
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

function toOriginObject(obj: R2ObjectBody): OriginObject {
  return {
    body: obj.body,
    size: obj.size,
    etag: obj.httpEtag,
    contentType: obj.httpMetadata?.contentType ?? "application/octet-stream",
    uploaded: obj.uploaded.getTime(),
  };
}
