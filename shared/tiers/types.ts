// The vocabulary shared by the edge tiers and the shield: what is asked, what comes back.

export type ObjectKind = "metadata" | "blob";

/** How a response was produced; sent to clients as `x-pkgedge-cache`. */
export type CacheState = "L1-HIT" | "L2-HIT" | "REVALIDATED" | "MISS" | "COALESCED";

export interface TierRequest {
  /** Identity of the object in the shield (protocol-chosen, opaque to the tiers). */
  key: string;
  /** Where the origin keeps it (an R2 key). */
  originKey: string;
  kind: ObjectKind;
  /** Immutable objects (by version or digest) are cached forever; the rest expire and revalidate. */
  immutable: boolean;
}

/** How the shield treats one request: chosen at the edge from the wrangler vars. */
export interface ShieldPolicy {
  /** Lifetime of mutable objects before revalidation; immutable ones ignore it. */
  ttlSeconds: number;
  /** Objects up to this size are stored in the shield; larger ones stream through. */
  maxStoredBytes: number;
  /** Total bytes one shield shard keeps before evicting the least recently used objects. */
  capacityBytes: number;
}

export interface ObjectMeta {
  size: number;
  etag: string;
  contentType: string;
  /** Content digest (`sha256:<hex>`) when the origin recorded one, e.g. what an OCI tag points at. */
  digest?: string;
}

export interface ShieldAnswer {
  found: boolean;
  state: Exclude<CacheState, "L1-HIT">;
  meta?: ObjectMeta;
  /** Small objects come back whole; large ones as a stream shared with concurrent waiters. */
  body?: Uint8Array | ReadableStream<Uint8Array>;
}

export interface ShieldStats {
  originFetches: { metadata: number; blob: number };
  coalesced: number;
  hits: number;
  misses: number;
  storedObjects: number;
  storedBytes: number;
}
