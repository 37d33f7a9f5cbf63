// The shield's SQLite tables: cached objects split into chunks (a SQLite row holds at most 2 MB),
// plus the counters behind the metrics. Schema changes are new migrations, never edits.

import type { ObjectMeta, ShieldStats } from "../shared/tiers/types";

const CHUNK_BYTES = 1024 * 1024;

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
];

export type Counter = "hits" | "misses" | "coalesced" | "origin_metadata" | "origin_blob";

export interface StoredObject {
  meta: ObjectMeta;
  bytes: Uint8Array;
  fresh: boolean;
}

export class ShieldStorage {
  /** Bytes stored, kept in memory so eviction does not sum the table on every write. */
  private storedBytes: number;

  constructor(private readonly sql: SqlStorage) {
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
      .exec<{ etag: string; content_type: string; size: number; chunks: number; expires_at: number; digest: string | null }>(
        "SELECT etag, content_type, size, chunks, expires_at, digest FROM objects WHERE key = ?", key)
      .toArray()[0];
    if (!row) return null;
    const bytes = new Uint8Array(row.size);
    let offset = 0;
    for (const chunk of this.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM chunks WHERE key = ? ORDER BY idx", key)) {
      bytes.set(new Uint8Array(chunk.data), offset);
      offset += chunk.data.byteLength;
    }
    this.sql.exec("UPDATE objects SET last_access = ? WHERE key = ?", now, key);
    if (offset !== row.size) {
      // Never serve a torn object; forget it and let the caller refetch.
      this.delete(key);
      return null;
    }
    return {
      meta: { etag: row.etag, contentType: row.content_type, size: row.size, ...(row.digest ? { digest: row.digest } : {}) },
      bytes,
      fresh: row.expires_at === 0 || row.expires_at > now,
    };
  }

  /** Stores an object, then evicts least recently used ones while the total exceeds `maxTotalBytes`. */
  write(key: string, meta: ObjectMeta, bytes: Uint8Array, expiresAt: number, maxTotalBytes = Infinity): void {
    this.delete(key);
    const chunks = Math.ceil(bytes.byteLength / CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
      this.sql.exec("INSERT INTO chunks (key, idx, data) VALUES (?, ?, ?)", key, i,
        bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    }
    this.sql.exec(
      "INSERT INTO objects (key, etag, content_type, size, chunks, expires_at, stored_at, last_access, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      key, meta.etag, meta.contentType, meta.size, chunks, expiresAt, Date.now(), Date.now(), meta.digest ?? null);
    this.storedBytes += meta.size;
    while (this.storedBytes > maxTotalBytes) {
      const victim = this.sql.exec<{ key: string }>(
        "SELECT key FROM objects WHERE key != ? ORDER BY last_access LIMIT 1", key).toArray()[0];
      if (!victim) break;
      this.delete(victim.key);
    }
  }

  touchExpiry(key: string, expiresAt: number): void {
    this.sql.exec("UPDATE objects SET expires_at = ? WHERE key = ?", expiresAt, key);
  }

  delete(key: string): number {
    const gone = this.sql.exec<{ size: number }>("DELETE FROM objects WHERE key = ? RETURNING size", key).toArray();
    for (const row of gone) this.storedBytes -= row.size;
    const removed = gone.length;
    this.sql.exec("DELETE FROM chunks WHERE key = ?", key);
    return removed;
  }

  count(name: Counter, by = 1): void {
    this.sql.exec(
      "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
      name, by);
  }

  stats(): ShieldStats {
    const counters = new Map<string, number>();
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters")) {
      counters.set(row.name, row.value);
    }
    const totals = this.sql
      .exec<{ n: number; bytes: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM objects")
      .one();
    return {
      originFetches: { metadata: counters.get("origin_metadata") ?? 0, blob: counters.get("origin_blob") ?? 0 },
      coalesced: counters.get("coalesced") ?? 0,
      hits: counters.get("hits") ?? 0,
      misses: counters.get("misses") ?? 0,
      storedObjects: totals.n,
      storedBytes: totals.bytes,
    };
  }
}
