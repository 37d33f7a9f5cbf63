// The audit log in R2: one small object per write under `audit/`, keyed by inverted time so a
// prefix list is newest first, with the entry in customMetadata so one list call returns a page.
// The only module that touches the `audit/` prefix of the BLOBS bucket.

/** `upstream`: a change pkgedge made itself because an upstream registry changed (a takedown). */
export type ActorKind = "admin" | "token" | "anonymous" | "upstream";

export interface AuditEntry {
  id: string;
  /** ISO time the write was accepted. */
  at: string;
  /** What was done: `npm.publish`, `token.revoke`, `oci.manifest.push`, ... */
  action: string;
  /** What it was done to: a package, repository@reference, token id. */
  target: string;
  /** Who: `admin`, `anonymous` or `token:<id>` (never the secret). */
  actor: string;
  actorKind: ActorKind;
  /** The token's human name, when the actor is a token. */
  actorName?: string;
  region: string;
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  limit: number;
  /** Opaque: from the previous page's `cursor`. */
  cursor?: string;
  action?: string;
  actor?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Present when older entries may remain. */
  cursor?: string;
}

export const AUDIT_PREFIX = "audit/";
// Inverting the time makes R2's ascending lexical order newest-first; 13 digits last to 2286.
const MAX_MS = 9_999_999_999_999;
// R2 caps customMetadata at 2 KiB per object; field values are clipped to stay well under it.
const MAX_FIELD = 400;
const MAX_DETAIL = 1000;
// A filtered read scans at most this many list pages before handing back a cursor.
const MAX_SCAN_PAGES = 5;

// Entries of one isolate within one millisecond keep their order through an inverted counter.
const MAX_SEQ = 999_999;
let sequence = 0;

export function auditKey(atMs: number, id: string, seq = (sequence = (sequence + 1) % MAX_SEQ)): string {
  return `${AUDIT_PREFIX}${String(MAX_MS - atMs).padStart(13, "0")}-${String(MAX_SEQ - seq).padStart(6, "0")}-${id}`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function toMetadata(e: AuditEntry): Record<string, string> {
  const meta: Record<string, string> = {
    id: e.id,
    at: e.at,
    action: clip(e.action, 100),
    target: clip(e.target, MAX_FIELD),
    actor: clip(e.actor, 100),
    actorKind: e.actorKind,
    region: clip(e.region, 64),
  };
  if (e.actorName) meta.actorName = clip(e.actorName, 100);
  if (e.detail) {
    const json = JSON.stringify(e.detail);
    // A detail too large to keep whole is summarised rather than cut into invalid JSON.
    meta.detail = json.length <= MAX_DETAIL ? json : JSON.stringify({ truncated: true, bytes: json.length });
  }
  return meta;
}

function fromMetadata(meta: Record<string, string>): AuditEntry {
  const entry: AuditEntry = {
    id: meta.id ?? "",
    at: meta.at ?? "",
    action: meta.action ?? "",
    target: meta.target ?? "",
    actor: meta.actor ?? "",
    actorKind: (meta.actorKind as ActorKind) ?? "anonymous",
    region: meta.region ?? "",
  };
  if (meta.actorName) entry.actorName = meta.actorName;
  if (meta.detail) {
    try {
      entry.detail = JSON.parse(meta.detail) as Record<string, unknown>;
    } catch {
      entry.detail = { unreadable: true };
    }
  }
  return entry;
}

// Cursors are the last key a page covered, so a next page is `startAfter` it: stable while
// new entries arrive (they sort before it) and independent of R2's own cursor lifetime.
const encodeCursor = (key: string) => btoa(key).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function decodeCursor(cursor: string): string | null {
  try {
    const key = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    return key.startsWith(AUDIT_PREFIX) ? key : null;
  } catch {
    return null;
  }
}

export class AuditStore {
  constructor(private readonly bucket: R2Bucket) {}

  /** Stores one entry; the object's body is the same entry as JSON for tools that read R2. */
  async append(entry: AuditEntry): Promise<void> {
    await this.bucket.put(auditKey(Date.parse(entry.at), entry.id), JSON.stringify(entry), {
      httpMetadata: { contentType: "application/json" },
      customMetadata: toMetadata(entry),
    });
  }

  /** Newest first. Returns null for a cursor this store did not hand out. */
  async list(q: AuditQuery): Promise<AuditPage | null> {
    let startAfter: string | undefined;
    if (q.cursor) {
      const key = decodeCursor(q.cursor);
      if (!key) return null;
      startAfter = key;
    }
    const filtered = Boolean(q.action || q.actor);
    const entries: AuditEntry[] = [];
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const listed = await this.bucket.list({
        prefix: AUDIT_PREFIX,
        startAfter,
        limit: filtered ? 1000 : q.limit - entries.length,
        include: ["customMetadata"],
      });
      for (const obj of listed.objects) {
        startAfter = obj.key;
        const entry = fromMetadata(obj.customMetadata ?? {});
        if (q.action && entry.action !== q.action) continue;
        if (q.actor && entry.actor !== q.actor && entry.actorName !== q.actor) continue;
        entries.push(entry);
        if (entries.length === q.limit) {
          return { entries, ...(listed.truncated || obj !== listed.objects.at(-1) ? { cursor: encodeCursor(obj.key) } : {}) };
        }
      }
      if (!listed.truncated) return { entries };
    }
    return { entries, ...(startAfter ? { cursor: encodeCursor(startAfter) } : {}) };
  }
}
