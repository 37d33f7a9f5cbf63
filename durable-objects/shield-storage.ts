// The shield's SQLite tables: cached objects split into chunks (a SQLite row holds at most 2 MB),
// plus the counters behind the metrics. Schema changes are new migrations, never edits.
//
// Reads write nothing: a Durable Object holds every reply until its writes are durable (the
// output gate), so a hit that bumped its popularity and a counter would wait for a commit. Hits
// (last access, request counts) and counters are kept in memory and written with the next write
// of this storage, or FLUSH_MS after the first of them, whichever comes first; stats() and
// topRequests() write them before reading. A crash loses at most FLUSH_MS of them (metrics and
// the LRU order only, never an object).

import { LAG_BUCKETS_MS } from "../shared/metrics";
import type { ObjectMeta, ShieldStats, TierRequest } from "../shared/tiers/types";

const CHUNK_BYTES = 1024 * 1024;
const FLUSH_MS = 1000;

const MIGRATIONS = [
  `CREATE TABLE objects (
     key TEXT PRIMARY KEY,
     etag TEXT NOT NULL,
     content_type TEXT NOT NULL,
     size INTEGER NOT NULL,
     chunks INTEGER NOT NULL,
     expires_at INTEGER NOT NULL, -- ms since epoch; 0 = immutable, never expires
     stored_at INTEGER NOT NULL
   );
   CREATE TABLE chunks (key TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, idx));
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
  `ALTER TABLE objects ADD COLUMN last_access INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX objects_by_access ON objects (last_access);`,
  `ALTER TABLE objects ADD COLUMN digest TEXT;`,
  // stale: soft-invalidated (served while revalidating); negative: "not found at the origin";
  // fetched_at: when the origin read began (newer than an invalidation's version = already has
  // it); tags for purges; request: how to load it again (warming); requests: popularity.
  `ALTER TABLE objects ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE objects ADD COLUMN negative INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE objects ADD COLUMN fetched_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE objects ADD COLUMN tags TEXT NOT NULL DEFAULT '';
   ALTER TABLE objects ADD COLUMN request TEXT;
   ALTER TABLE objects ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;`,
  // upstream: the copy came from an upstream registry ("fresh", or "stale" while it fails).
  `ALTER TABLE objects ADD COLUMN upstream TEXT;`,
  // replicas: at a key's owner, the shards holding a replica of it (they loaded it from here),
  // and until when their copy can be served (0: immutable, for as long as they keep it).
  `CREATE TABLE replicas (key TEXT NOT NULL, shard TEXT NOT NULL, until INTEGER NOT NULL, PRIMARY KEY (key, shard));`,
];



export type Counter = "hits" | "misses" | "coalesced" | "origin_metadata" | "origin_blob" | "stale_served" | "negative_hits" | "origin_errors"
  /** `upstream|<protocol>|<kind>|<status>`: requests the upstream mirrors made for this shard. */
  | `upstream|${string}`;

export interface StoredObject {
  meta: ObjectMeta;
  bytes: Uint8Array;
  fresh: boolean;
  /** Soft-invalidated: may be served while a revalidation runs. */
  stale: boolean;
  /** A remembered "not found" (no bytes). */
  negative: boolean;
  expiresAt: number;
}

export interface WriteExtras {
  fetchedAt: number;
  tags?: string[];
  request?: TierRequest;
}

/** Which stored keys an invalidation selects (any of them). */
export interface Selector {
  keys?: string[];
  tags?: string[];
  prefix?: string;
}

export class ShieldStorage {
  /** Bytes stored, kept in memory so eviction does not sum the table on every write. */
  private storedBytes: number;
  /** Hits not yet written: the latest access time and how many, per key. */
  private readonly accesses = new Map<string, { at: number; requests: number }>();
  /** Counter increments not yet written. */
  private readonly counts = new Map<string, number>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly sql: SqlStorage, private readonly flushAfterMs = FLUSH_MS) {
    sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY)");
    const applied = sql.exec<{ id: number }>("SELECT COALESCE(MAX(id), -1) AS id FROM _migrations").one().id;
    MIGRATIONS.forEach((statement, id) => {
      if (id <= applied) return;
      sql.exec(statement);
      sql.exec("INSERT INTO _migrations (id) VALUES (?)", id);
    });
    this.storedBytes = sql.exec<{ bytes: number }>("SELECT COALESCE(SUM(size), 0) AS bytes FROM objects").one().bytes;
  }

  read(key: string, now: number): StoredObject | null {
    const row = this.sql
      .exec<{ etag: string; content_type: string; size: number; chunks: number; expires_at: number; digest: string | null; stale: number; negative: number; fetched_at: number; upstream: string | null }>(
        "SELECT etag, content_type, size, chunks, expires_at, digest, stale, negative, fetched_at, upstream FROM objects WHERE key = ?", key)
      .toArray()[0];
    if (!row) return null;
    const bytes = new Uint8Array(row.size);
    let offset = 0;
    for (const chunk of this.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM chunks WHERE key = ? ORDER BY idx", key)) {
      bytes.set(new Uint8Array(chunk.data), offset);
      offset += chunk.data.byteLength;
    }
    if (offset !== row.size) {
      // Never serve a torn object; forget it and let the caller refetch.
      this.delete(key);
      return null;
    }
    this.noteAccess(key, now);
    return {
      meta: {
        etag: row.etag, contentType: row.content_type, size: row.size, fetchedAt: row.fetched_at,
        ...(row.digest ? { digest: row.digest } : {}),
        ...(row.upstream === "fresh" || row.upstream === "stale" ? { upstream: row.upstream } : {}),
      },
      bytes,
      fresh: row.expires_at === 0 || row.expires_at > now,
      stale: row.stale === 1,
      negative: row.negative === 1,
      expiresAt: row.expires_at,
    };
  }

  /** Counts a request for `key`'s copy (its popularity and LRU position), written later. */
  private noteAccess(key: string, now: number): void {
    const seen = this.accesses.get(key);
    this.accesses.set(key, { at: Math.max(now, seen?.at ?? 0), requests: (seen?.requests ?? 0) + 1 });
    this.flushSoon();
  }

  /** Writes the hits and counters kept in memory (one statement each). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.accesses.size > 0) {
      const rows = [...this.accesses];
      this.accesses.clear();
      this.sql.exec(
        `UPDATE objects SET last_access = MAX(last_access, a.at), requests = requests + a.n
         FROM (SELECT value ->> '$[0]' AS key, value ->> '$[1]' AS at, value ->> '$[2]' AS n FROM json_each(?)) AS a
         WHERE objects.key = a.key`,
        JSON.stringify(rows.map(([key, a]) => [key, a.at, a.requests])));
    }
    if (this.counts.size > 0) {
      const rows = [...this.counts];
      this.counts.clear();
      this.sql.exec(
        `INSERT INTO counters (name, value) VALUES ${rows.map(() => "(?, ?)").join(", ")} ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`,
        ...rows.flat());
    }
  }

  private flushSoon(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), this.flushAfterMs);
  }

  /** Stores an object, then evicts least recently used ones while the total exceeds `maxTotalBytes`. */
  write(key: string, meta: ObjectMeta, bytes: Uint8Array, expiresAt: number, maxTotalBytes = Infinity, extras: WriteExtras = { fetchedAt: Date.now() }): void {
    // Eviction goes by last access: the hits kept in memory count.
    this.flush();
    this.delete(key);
    const chunks = Math.ceil(bytes.byteLength / CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
      this.sql.exec("INSERT INTO chunks (key, idx, data) VALUES (?, ?, ?)", key, i,
        bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    }
    this.sql.exec(
      `INSERT INTO objects (key, etag, content_type, size, chunks, expires_at, stored_at, last_access, digest, fetched_at, tags, request, upstream)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      key, meta.etag, meta.contentType, meta.size, chunks, expiresAt, Date.now(), Date.now(), meta.digest ?? null,
      extras.fetchedAt, tagList(extras.tags), extras.request ? JSON.stringify(extras.request) : null, meta.upstream ?? null);
    this.storedBytes += meta.size;
    while (this.storedBytes > maxTotalBytes) {
      const victim = this.sql.exec<{ key: string }>(
        "SELECT key FROM objects WHERE key != ? ORDER BY last_access LIMIT 1", key).toArray()[0];
      if (!victim) break;
      this.delete(victim.key);
    }
  }

  /** Remembers that the origin has no such object, until `expiresAt`. */
  writeNegative(key: string, expiresAt: number, extras: WriteExtras): void {
    this.flush();
    this.delete(key);
    this.sql.exec(
      `INSERT INTO objects (key, etag, content_type, size, chunks, expires_at, stored_at, last_access, negative, fetched_at, tags, request)
       VALUES (?, '', '', 0, 0, ?, ?, ?, 1, ?, ?, ?)`,
      key, expiresAt, Date.now(), Date.now(), extras.fetchedAt, tagList(extras.tags), extras.request ? JSON.stringify(extras.request) : null);
  }

  /** A revalidation found the copy unchanged: fresh again from `fetchedAt`. */
  touchExpiry(key: string, expiresAt: number, fetchedAt = Date.now(), meta?: ObjectMeta): void {
    this.sql.exec("UPDATE objects SET expires_at = ?, stale = 0, fetched_at = ?, upstream = ? WHERE key = ?", expiresAt, fetchedAt, meta?.upstream ?? null, key);
  }

  /**
   * Applies an invalidation to every stored key it selects that was read from the origin before
   * `version`: hard deletes, soft marks stale (a remembered "not found" is always deleted, since
   * serving it stale could hide what was just published). Returns the keys it touched.
   */
  invalidate(selector: Selector, version: number, mode: "hard" | "soft"): string[] {
    const touched: string[] = [];
    const rows: Array<{ key: string; negative: number }> = [];
    for (const key of selector.keys ?? []) {
      rows.push(...this.sql.exec<{ key: string; negative: number }>("SELECT key, negative FROM objects WHERE key = ? AND fetched_at < ?", key, version).toArray());
    }
    for (const tag of selector.tags ?? []) {
      rows.push(...this.sql.exec<{ key: string; negative: number }>(
        "SELECT key, negative FROM objects WHERE instr(tags, ?) > 0 AND fetched_at < ?", `|${tag}|`, version).toArray());
    }
    if (selector.prefix) {
      rows.push(...this.sql.exec<{ key: string; negative: number }>(
        "SELECT key, negative FROM objects WHERE substr(key, 1, ?) = ? AND fetched_at < ?", selector.prefix.length, selector.prefix, version).toArray());
    }
    for (const row of rows) {
      if (touched.includes(row.key)) continue;
      touched.push(row.key);
      if (mode === "hard" || row.negative === 1) this.delete(row.key);
      else this.sql.exec("UPDATE objects SET stale = 1 WHERE key = ?", row.key);
    }
    return touched;
  }

  /** Remembers that `shard` holds a replica of `key` until `until` (0: immutable). */
  noteReplica(key: string, shard: string, until: number): void {
    this.sql.exec(
      `INSERT INTO replicas (key, shard, until) VALUES (?, ?, ?)
       ON CONFLICT (key, shard) DO UPDATE SET until = CASE WHEN until = 0 OR excluded.until = 0 THEN 0 ELSE MAX(until, excluded.until) END`,
      key, shard, until);
  }

  /**
   * The shards holding a replica of any of `keys` that may still be served at `now`. Copies past
   * their time are forgotten, and with `forget` (a hard change, which ends the copies) all of them.
   */
  replicasOf(keys: string[], now: number, forget: boolean): string[] {
    const shards = new Set<string>();
    for (const key of keys) {
      for (const row of this.sql.exec<{ shard: string }>("SELECT shard FROM replicas WHERE key = ? AND (until = 0 OR until > ?)", key, now)) shards.add(row.shard);
      if (forget) this.sql.exec("DELETE FROM replicas WHERE key = ?", key);
      else this.sql.exec("DELETE FROM replicas WHERE key = ? AND until != 0 AND until <= ?", key, now);
    }
    return [...shards];
  }

  /** Forgets remembered "not found" answers for these keys; returns how many there were. */
  forgetNegative(keys: string[]): number {
    let removed = 0;
    for (const key of keys) removed += this.sql.exec("DELETE FROM objects WHERE key = ? AND negative = 1 RETURNING key", key).toArray().length;
    return removed;
  }

  /** The most requested keys and how to load them, for warming another region. */
  topRequests(limit: number): Array<{ request: TierRequest; requests: number }> {
    this.flush();
    return this.sql
      .exec<{ request: string; requests: number }>(
        "SELECT request, requests FROM objects WHERE negative = 0 AND request IS NOT NULL ORDER BY requests DESC LIMIT ?", limit)
      .toArray()
      .map((r) => ({ request: JSON.parse(r.request) as TierRequest, requests: r.requests }));
  }

  has(key: string): boolean {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM objects WHERE key = ? AND negative = 0", key).one().n > 0;
  }

  recordLag(ms: number): void {
    // One statement for the count, the sum and every bucket the lag falls in.
    const rows: Array<[string, number]> = [["lag_count", 1], ["lag_sum", Math.round(ms)]];
    for (const le of LAG_BUCKETS_MS) if (ms <= le) rows.push([`lag_le_${le}`, 1]);
    this.sql.exec(
      `INSERT INTO counters (name, value) VALUES ${rows.map(() => "(?, ?)").join(", ")} ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`,
      ...rows.flat());
  }

  delete(key: string): number {
    this.accesses.delete(key);
    const gone = this.sql.exec<{ size: number }>("DELETE FROM objects WHERE key = ? RETURNING size", key).toArray();
    for (const row of gone) this.storedBytes -= row.size;
    const removed = gone.length;
    this.sql.exec("DELETE FROM chunks WHERE key = ?", key);
    return removed;
  }

  /** Adds to a counter, written with the next flush. */
  count(name: Counter | `lag_${string}`, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
    this.flushSoon();
  }

  stats(): ShieldStats {
    this.flush();
    const counters = new Map<string, number>();
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters")) {
      counters.set(row.name, row.value);
    }
    const totals = this.sql
      .exec<{ n: number; bytes: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM objects WHERE negative = 0")
      .one();
    return {
      originFetches: { metadata: counters.get("origin_metadata") ?? 0, blob: counters.get("origin_blob") ?? 0 },
      coalesced: counters.get("coalesced") ?? 0,
      staleServed: counters.get("stale_served") ?? 0,
      negativeHits: counters.get("negative_hits") ?? 0,
      originErrors: counters.get("origin_errors") ?? 0,
      lag: {
        buckets: LAG_BUCKETS_MS.map((le) => counters.get(`lag_le_${le}`) ?? 0),
        count: counters.get("lag_count") ?? 0,
        sum: counters.get("lag_sum") ?? 0,
      },
      upstream: Object.fromEntries([...counters].filter(([k]) => k.startsWith("upstream|")).map(([k, v]) => [k.slice("upstream|".length), v])),
      hits: counters.get("hits") ?? 0,
      misses: counters.get("misses") ?? 0,
      storedObjects: totals.n,
      storedBytes: totals.bytes,
    };
  }
}

/** Tags stored as `|a|b|` so one tag matches with instr() and no LIKE escaping. */
function tagList(tags: string[] | undefined): string {
  return tags && tags.length ? `|${tags.join("|")}|` : "";
}
