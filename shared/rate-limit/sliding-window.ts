// The exact sliding-window log a coordinator keeps for one key: every admitted request's time
// (requests admitted in the same millisecond share one entry), so "at most `limit` in any
// `windowMs`" holds exactly, and the time a denied caller must wait is known to the millisecond.

export interface LogEntry {
  at: number;
  n: number;
}

export interface Decision {
  allowed: boolean;
  /** Requests still allowed right now after this one. */
  remaining: number;
  /** When denied: milliseconds until one more request would be admitted. */
  retryAfterMs: number;
  /** Admitted requests inside the window after this decision. */
  count: number;
}

export class SlidingLog {
  // A deque as an array plus a head index: pruning is O(expired), no shifting per request.
  private entries: LogEntry[];
  private head = 0;
  private total = 0;

  constructor(entries: LogEntry[] = []) {
    this.entries = entries.slice().sort((a, b) => a.at - b.at);
    for (const e of this.entries) this.total += e.n;
  }

  get count(): number {
    return this.total;
  }

  get newest(): number | null {
    return this.head < this.entries.length ? this.entries[this.entries.length - 1]!.at : null;
  }

  /** Drops entries at or before `now - windowMs`; returns that cutoff when anything went. */
  prune(now: number, windowMs: number): number | null {
    const cutoff = now - windowMs;
    const start = this.head;
    while (this.head < this.entries.length && this.entries[this.head]!.at <= cutoff) {
      this.total -= this.entries[this.head]!.n;
      this.head++;
    }
    if (this.head === start) return null;
    // Compact once the dead prefix dominates, so memory stays proportional to live entries.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return cutoff;
  }

  /** Records requests that were already admitted elsewhere (a PoP's local count). */
  add(now: number, n: number): void {
    if (n <= 0) return;
    const last = this.head < this.entries.length ? this.entries[this.entries.length - 1]! : null;
    // Clocks may step back a little between events; never let the log go out of order.
    if (last && last.at >= now) last.n += n;
    else this.entries.push({ at: now, n });
    this.total += n;
  }

  /**
   * Books `n` requests a PoP may admit on its own until `at` (a lease), as if all of them were
   * admitted at `at`: they leave the window when a request made at the lease's end would, never
   * earlier. Returns the time of the entry that holds them (a later one when the log already
   * reaches past `at`), which release() needs.
   */
  reserve(at: number, n: number): number {
    this.add(at, n);
    return this.entries[this.entries.length - 1]!.at;
  }

  /** Takes back `n` booked requests a lease did not use, from the entry reserve() named. */
  release(at: number, n: number): number {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (e.at === at) {
        const back = Math.min(n, e.n);
        e.n -= back;
        this.total -= back;
        return back;
      }
      if (e.at < at) lo = mid + 1;
      else hi = mid - 1;
    }
    // Already out of the window: nothing left to take back.
    return 0;
  }

  /** Admits one request if the window has room (the caller pruned first). */
  admit(now: number, limit: number, windowMs: number): Decision {
    if (this.total + 1 <= limit) {
      this.add(now, 1);
      return { allowed: true, remaining: limit - this.total, retryAfterMs: 0, count: this.total };
    }
    return { allowed: false, remaining: 0, retryAfterMs: this.timeUntilBelow(limit, now, windowMs), count: this.total };
  }

  /** Milliseconds until fewer than `level` admitted requests remain in the window. */
  timeUntilBelow(level: number, now: number, windowMs: number): number {
    let excess = this.total - level + 1;
    if (excess <= 0) return 0;
    for (let i = this.head; i < this.entries.length; i++) {
      excess -= this.entries[i]!.n;
      if (excess <= 0) return Math.max(1, this.entries[i]!.at + windowMs - now);
    }
    return windowMs;
  }

  snapshot(): LogEntry[] {
    return this.entries.slice(this.head).map((e) => ({ ...e }));
  }
}
