// L1: the Cache API of the PoP that received the request, one named cache per region so a
// single dev process can play several PoPs. Deletes are local to the PoP (Cache API semantics),
// which is why mutable entries here are short-lived.
import type { ObjectMeta } from "./types";

const IMMUTABLE_SECONDS = 365 * 24 * 3600;
const DIGEST_HEADER = "x-pkgedge-digest";

export interface L1Entry {
  meta: ObjectMeta;
  body: ReadableStream<Uint8Array>;
}

function cacheUrl(key: string): string {
  // The Cache API keys on URLs; this host never resolves, it only namespaces our entries.
  return `https://l1.pkgedge.internal/${encodeURIComponent(key)}`;
}

export class EdgeCache {
  private constructor(private readonly cache: Cache) {}

  static async open(region: string): Promise<EdgeCache> {
    return new EdgeCache(await caches.open(`l1:${region}`));
  }

  async match(key: string): Promise<L1Entry | null> {
    const hit = await this.cache.match(cacheUrl(key));
    if (!hit || !hit.body) return null;
    return {
      meta: {
        size: Number(hit.headers.get("content-length") ?? 0),
        etag: hit.headers.get("etag") ?? "",
        contentType: hit.headers.get("content-type") ?? "application/octet-stream",
        ...(hit.headers.has(DIGEST_HEADER) ? { digest: hit.headers.get(DIGEST_HEADER)! } : {}),
      },
      body: hit.body,
    };
  }

  /** Stores a body; immutable entries live a year, the rest `ttlSeconds`. */
  async put(key: string, meta: ObjectMeta, body: ReadableStream<Uint8Array> | Uint8Array, immutable: boolean, ttlSeconds: number): Promise<void> {
    if (!immutable && ttlSeconds <= 0) return;
    const headers = new Headers({
      "content-type": meta.contentType,
      "content-length": String(meta.size),
      etag: meta.etag,
      "cache-control": immutable ? `public, max-age=${IMMUTABLE_SECONDS}, immutable` : `public, max-age=${ttlSeconds}`,
    });
    if (meta.digest) headers.set(DIGEST_HEADER, meta.digest);
    await this.cache.put(cacheUrl(key), new Response(body, { headers }));
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(cacheUrl(key));
  }
}
