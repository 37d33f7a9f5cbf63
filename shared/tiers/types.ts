// The vocabulary shared by the edge tiers and the shield: what is asked, what comes back.
import type { UpstreamRef } from "../upstream/types";

export type ObjectKind = "metadata" | "blob";

/** How a response was produced; sent to clients as `x-pkgedge-cache`. */
export type CacheState = "HOT-HIT" | "L1-HIT" | "L2-HIT" | "L2-STALE" | "REVALIDATED" | "MISS" | "COALESCED" | "NEGATIVE";

export interface TierRequest {
  /** Identity of the object in the shield (protocol-chosen, opaque to the tiers). */
  key: string;
  /** Where the origin keeps it (an R2 key). */
  originKey: string;
  kind: ObjectKind;
  /** Immutable objects (by version or digest) are cached forever; the rest expire and revalidate. */
  immutable: boolean;
  /** Purge tags (a package, a scope, an OCI repository): `/_/purge` can drop every key carrying one. */
  tags?: string[];
  /** Set for a hot key's replica shard: load from this (owner) shard instead of the origin. */
  via?: string;
  /** Set by a replica loading from the owner: the replica's shard, which the owner remembers. */
  replica?: string;
  /**
   * Where the object comes from when the origin does not hold it and the name is not hosted
   * here: the upstream registry, through its mirror (shared/upstream/). Absent: origin only.
   */
  upstream?: UpstreamRef;
}

/** How the shield treats one request: chosen at the edge from the wrangler vars. */
export interface ShieldPolicy {
  /** Lifetime of mutable objects before revalidation; immutable ones ignore it. */
  ttlSeconds: number;
  /** Objects up to this size are stored in the shield; the edge streams larger ones from the origin. */
  maxStoredBytes: number;
  /** Total bytes one shield shard keeps before evicting the least recently used objects. */
  capacityBytes: number;
  /** The region asking (labels its metrics). */
  region: string;
  /** How long "not found at the origin" is remembered. */
  negativeTtlSeconds: number;
  /** How long past expiry the last good copy may be served when the origin fails. */
  staleIfErrorSeconds: number;
  /** Dev-only fault injection (zero in production). */
  originFaultRate: number;
  originLatencyMs: number;
  shieldFault: boolean;
}

export interface ObjectMeta {
  size: number;
  etag: string;
  contentType: string;
  /** Content digest (`sha256:<hex>`) when the origin recorded one, e.g. what an OCI tag points at. */
  digest?: string;
  /** When the shield's origin read of this copy began: a copy is newer than any change before it. */
  fetchedAt?: number;
  /**
   * Set when the copy came from an upstream registry: "stale" while the upstream is failing and
   * the last good copy is served (stale-if-error), "fresh" otherwise.
   */
  upstream?: "fresh" | "stale";
}

/**
 * The shield's answer: the object's bytes (metadata and objects up to SHIELD_MAX_OBJECT_BYTES),
 * the origin key the edge streams a larger object from itself (its bytes never cross the
 * Durable Object), or "not found". `rate` is the requests per second this shard saw for the key
 * lately (hot-key detection at the edge).
 */
export type ShieldAnswer = ShieldLoad & { state: Exclude<CacheState, "HOT-HIT" | "L1-HIT">; rate?: number };

/** What one origin (or owner-shard) read produced. */
export type ShieldLoad =
  | { kind: "bytes"; meta: ObjectMeta; bytes: Uint8Array }
  | { kind: "stream"; meta: ObjectMeta; originKey: string }
  | { kind: "missing" };

/**
 * A change at the origin, applied by every region's shields (and, in dev, L1). `version` is the
 * time the write committed: a shield copy read from the origin after it already has the change,
 * so duplicated or late events are harmless and never bring older data back.
 */
export interface InvalidationEvent {
  id: string;
  version: number;
  keys: string[];
  tags?: string[];
  prefix?: string;
  /** "auto" follows each region's strategy; purges choose hard or soft explicitly. */
  mode: "auto" | "hard" | "soft";
  /** Region that made the change (it applies it at once, before the event travels). */
  from: string;
  /** On the queue: the regions the writer's push did not reach (every region when absent). */
  regions?: string[];
  /**
   * Removals and purges go to every shard, replicas included whether their owner knows of them
   * or not: a copy the owner lost track of (or made before it tracked replicas) must not outlive
   * them. Other key changes go to each key's owner, which passes them on to its replicas.
   */
  everyShard?: boolean;
}

export interface ShieldStats {
  originFetches: { metadata: number; blob: number };
  coalesced: number;
  staleServed: number;
  negativeHits: number;
  originErrors: number;
  /** Invalidation lag histogram recorded by this shard: bucket upper bound (ms) -> count, plus sum. */
  lag: { buckets: number[]; count: number; sum: number };
  /** Upstream requests the mirrors made for this shard's misses, by `<protocol>|<kind>|<status>`. */
  upstream: Record<string, number>;
  hits: number;
  misses: number;
  storedObjects: number;
  storedBytes: number;
}
