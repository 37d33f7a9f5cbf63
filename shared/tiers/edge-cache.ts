// L1: the Cache API of the PoP that received the request, one named cache per region so a
// single dev process can play several PoPs. Deletes are local to the PoP (Cache API semantics),
// which is why mutable entries here are short-lived.
import type { ObjectMeta } from "./types";

const IMMUTABLE_SECONDS = 365 * 24 * 3600;
const DIGEST_HEADER = "x-pkgedge-digest";
const NEGATIVE_HEADER = "x-pkgedge-negative";
// When the entry was stored (ms): a copy in memory must not outlive the L1 entry it came from.
const STORED_AT_HEADER = "x-pkgedge-stored-at";
// Where an upstream copy came from ("fresh", or "stale" while the upstream fails): kept with the entry.
const UPSTREAM_HEADER = "x-pkgedge-upstream";

export interface L1Entry {
  meta: ObjectMeta;
  body: ReadableStream<Uint8Array>;
  storedAt?: number;
}

/** A remembered "not found" at this PoP. */
export const NEGATIVE = Symbol("negative");

function cacheUrl(key: string): string {
  // The Cache API keys on URLs; this host never resolves, it only namespaces our entries.
  return `https://l1.pkgedge.internal/${encodeURIComponent(key)}`;
}

function upstreamOf(value: string | null): Pick<ObjectMeta, "upstream"> {
  return value === "fresh" || value === "stale" ? { upstream: value } : {};
}

export class EdgeCache {
  private constructor(private readonly cache: Cache) {}

  static async open(region: string): Promise<EdgeCache> {
    return new EdgeCache(await caches.open(`l1:${region}`));
  }

  async match(key: string): Promise<L1Entry | typeof NEGATIVE | null> {
    const hit = await this.cache.match(cacheUrl(key));
    if (hit?.headers.has(NEGATIVE_HEADER)) {
      await hit.body?.cancel();
      return NEGATIVE;
    }
    if (!hit || !hit.body) return null;
    // An entry without its length was written from a stream cut short: never serve it.
    if (!hit.headers.has("content-length")) {
      await hit.body.cancel();
      await this.cache.delete(cacheUrl(key));
      return null;
    }
    return {
      meta: {
        size: Number(hit.headers.get("content-length") ?? 0),
        etag: hit.headers.get("etag") ?? "",
        contentType: hit.headers.get("content-type") ?? "application/octet-stream",
        ...(hit.headers.has(DIGEST_HEADER) ? { digest: hit.headers.get(DIGEST_HEADER)! } : {}),
        ...upstreamOf(hit.headers.get(UPSTREAM_HEADER)),
      },
      body: hit.body,
      ...(hit.headers.has(STORED_AT_HEADER) ? { storedAt: Number(hit.headers.get(STORED_AT_HEADER)) } : {}),
    };
  }

  /**
   * Stores a body; immutable entries live a year, the rest `ttlSeconds`. Tags go out as
   * Cache-Tag, which Cloudflare's purge-by-tag API matches in every PoP (cache.delete cannot).
   */
  async put(key: string, meta: ObjectMeta, body: ReadableStream<Uint8Array> | Uint8Array, immutable: boolean, ttlSeconds: number, tags: string[] = []): Promise<void> {
    if (!immutable && ttlSeconds <= 0) {
      if (body instanceof ReadableStream) await body.cancel();
      return;
    }
    const headers = new Headers({
      "content-type": meta.contentType,
      "content-length": String(meta.size),
      etag: meta.etag,
      [STORED_AT_HEADER]: String(Date.now()),
      "cache-control": immutable ? `public, max-age=${IMMUTABLE_SECONDS}, immutable` : `public, max-age=${ttlSeconds}`,
    });
    if (meta.digest) headers.set(DIGEST_HEADER, meta.digest);
    if (meta.upstream) headers.set(UPSTREAM_HEADER, meta.upstream);
    if (tags.length) headers.set("cache-tag", tags.join(","));
    let stored: ReadableStream<Uint8Array> | Uint8Array = body;
    if (body instanceof ReadableStream) {
      // A stream of unknown length is stored without its Content-Length (and would come back
      // claiming 0 bytes); a FixedLengthStream tells the runtime the length.
      const fixed = new FixedLengthStream(meta.size);
      void body.pipeTo(fixed.writable).catch(() => {});
      stored = fixed.readable as ReadableStream<Uint8Array>;
    }
    await this.cache.put(cacheUrl(key), new Response(stored, { headers }));
  }

  /** Remembers "not found" for `ttlSeconds`. */
  async putNegative(key: string, ttlSeconds: number, tags: string[] = []): Promise<void> {
    if (ttlSeconds <= 0) return;
    const headers = new Headers({ [NEGATIVE_HEADER]: "1", "cache-control": `public, max-age=${ttlSeconds}`, "content-length": "0" });
    if (tags.length) headers.set("cache-tag", tags.join(","));
    await this.cache.put(cacheUrl(key), new Response(null, { headers }));
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(cacheUrl(key));
  }
}
