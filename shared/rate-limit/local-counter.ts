// Per-isolate (per-PoP) counting of limit keys that are well under their limit. Nothing here
// leaves the isolate: a key costs a Map lookup until its local count reaches the claim threshold.

interface Entry {
  /** Index of the fixed window (`floor(now / windowMs)`) the count belongs to. */
  window: number;
  windowEnd: number;
  /** Requests this PoP admitted on its own in that window. */
  count: number;
  /** Of those, how many the coordinator has not been told about yet. */
  unreported: number;
  /** The coordinator said the key is hot: consult it for every request until then. */
  claimUntil: number;
}

export type Route = "local" | "coordinator";

export class LocalCounters {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 50_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Counts one request under `localKey` if this PoP may still decide alone (local count below
   * `threshold` and no live claim); otherwise says the coordinator must decide.
   */
  take(localKey: string, windowMs: number, threshold: number, now: number): Route {
    const window = Math.floor(now / windowMs);
    let e = this.entries.get(localKey);
    if (!e) {
      if (this.entries.size >= this.maxEntries) this.evict(now);
      e = { window, windowEnd: (window + 1) * windowMs, count: 0, unreported: 0, claimUntil: 0 };
      this.entries.set(localKey, e);
    } else if (e.window !== window) {
      // A new window starts from zero; requests of the old one the coordinator never heard of
      // are forgotten (the margin in the README accounts for them).
      e.window = window;
      e.windowEnd = (window + 1) * windowMs;
      e.count = 0;
      e.unreported = 0;
    }
    if (now < e.claimUntil || e.count >= threshold) return "coordinator";
    e.count++;
    e.unreported++;
    return "local";
  }

  /** Hands over the locally admitted requests the coordinator has not heard of (exactly once). */
  takeUnreported(localKey: string): number {
    const e = this.entries.get(localKey);
    if (!e) return 0;
    const n = e.unreported;
    e.unreported = 0;
    return n;
  }

  /** Puts back a report that did not arrive (the coordinator could not be reached). */
  returnUnreported(localKey: string, n: number): void {
    const e = this.entries.get(localKey);
    if (e) e.unreported += n;
  }

  /** Records the coordinator's word on how long the key stays claimed. */
  claim(localKey: string, until: number): void {
    const e = this.entries.get(localKey);
    if (e && until > e.claimUntil) e.claimUntil = until;
  }

  // Drops entries of past windows without a live claim; if that frees too little, the oldest
  // tenth (Map order is insertion order). Losing an entry only forgets counts under a threshold.
  private evict(now: number): void {
    for (const [k, e] of this.entries) if (e.windowEnd <= now && e.claimUntil <= now) this.entries.delete(k);
    if (this.entries.size < this.maxEntries) return;
    let drop = Math.ceil(this.maxEntries / 10);
    for (const k of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(k);
    }
  }
}
