// Per-isolate (per-PoP) counting of limit keys. Nothing here leaves the isolate: a key costs a Map
// lookup until its local count reaches the claim threshold, and once it is claimed, while this
// PoP holds a lease from the key's coordinator (or a refusal it is still waiting out).
import type { Lease, LeaseReturn } from "./coordinator";

/** A lease as the PoP spends it: `left` of `n`, until `until` on this isolate's clock. */
interface HeldLease {
  n: number;
  left: number;
  until: number;
  /** When it was asked for, so the next request can be sized to the rate this one was spent at. */
  since: number;
  at: number;
}

interface Entry {
  /** Index of the fixed window (`floor(now / windowMs)`) the count belongs to. */
  window: number;
  windowMs: number;
  windowEnd: number;
  /** Requests this PoP admitted on its own in that window. */
  count: number;
  /** Of those, how many the coordinator has not been told about yet. */
  unreported: number;
  /** The coordinator said the key is hot: consult it (or spend its lease) until then. */
  claimUntil: number;
  lease: HeldLease | null;
  /** A lease that arrived while `lease` still had requests: spent once that one is. */
  next: HeldLease | null;
  /** How the last lease was spent (requests over ms), to size the next one. */
  spent: { used: number; elapsedMs: number } | null;
  /** Leases replaced or run out with requests unspent, to hand back on the next call. */
  returns: LeaseReturn[];
  /** The coordinator refused this key until then: refuse here without asking again. */
  deniedUntil: number;
  /** A call to the coordinator in flight for this key: others wait on it rather than send their own. */
  inFlight: Promise<unknown> | null;
  /** Requests of this PoP waiting on that call: the next lease should cover them. */
  waiting: number;
}

/**
 * local: under the threshold, counted here. leased: spent from a lease. refill: spent from a
 * lease that is half gone (ask for the next one in the background). coordinator: ask it now.
 * denied: refused a moment ago by the coordinator, still in force.
 */
export type Route = "local" | "leased" | "refill" | "coordinator" | "denied";

// Unspent leases kept to hand back; past this the oldest are dropped (they only stay booked).
const MAX_RETURNS = 8;

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
      e = { window, windowMs, windowEnd: (window + 1) * windowMs, count: 0, unreported: 0, claimUntil: 0, lease: null, next: null, spent: null, returns: [], deniedUntil: 0, inFlight: null, waiting: 0 };
      this.entries.set(localKey, e);
    } else if (e.window !== window) {
      // A new window starts from zero, but requests of the old one the coordinator never heard
      // of stay to be reported: forgotten, a client straddling the boundary would get `t` more
      // than the limit from one PoP alone. Booked when reported, they count a little late: a
      // stricter window, never a looser one.
      e.window = window;
      e.windowMs = windowMs;
      e.windowEnd = (window + 1) * windowMs;
      e.count = 0;
    }
    if (now < e.claimUntil || e.count >= threshold) return this.claimed(e, now);
    e.count++;
    e.unreported++;
    return "local";
  }

  private claimed(e: Entry, now: number): Route {
    if (now < e.deniedUntil) return "denied";
    if (e.lease && !(now < e.lease.until && e.lease.left > 0)) {
      this.retire(e, e.lease);
      e.lease = e.next;
      e.next = null;
    }
    const lease = e.lease;
    if (lease && now < lease.until && lease.left > 0) {
      lease.left--;
      // Half spent (in requests or in time): the next one is asked for while this one lasts.
      const half = lease.left * 2 < lease.n || (now - lease.since) * 2 > lease.until - lease.since;
      return half && e.inFlight === null && e.next === null ? "refill" : "leased";
    }
    if (lease) {
      this.retire(e, lease);
      e.lease = null;
    }
    return "coordinator";
  }

  // A lease that ran out or was replaced: its unspent requests go back on the next call.
  private retire(e: Entry, lease: HeldLease): void {
    e.spent = { used: lease.n - lease.left, elapsedMs: Math.max(1, Math.min(Date.now(), lease.until) - lease.since) };
    if (lease.left <= 0) return;
    if (e.returns.length >= MAX_RETURNS) e.returns.shift();
    e.returns.push({ at: lease.at, n: lease.left });
  }

  /** What to ask the coordinator for: the rate the last lease (or the local count) was spent at. */
  usage(localKey: string, now: number): { used: number; elapsedMs: number; waiting: number } {
    const e = this.entries.get(localKey);
    if (!e) return { used: 1, elapsedMs: 1, waiting: 0 };
    const { waiting } = e;
    if (e.lease && e.next === null) return { used: e.lease.n - e.lease.left, elapsedMs: now - e.lease.since, waiting };
    if (e.spent) return { ...e.spent, waiting };
    return { used: Math.max(1, e.count), elapsedMs: now - (e.windowEnd - e.windowMs), waiting };
  }

  /** Counts a request starting (+1) or ending (-1) a wait on the key's call in flight. */
  wait(localKey: string, delta: number): void {
    const e = this.entries.get(localKey);
    if (e) e.waiting = Math.max(0, e.waiting + delta);
  }

  /** Records a lease the coordinator granted to a call sent at `sentAt` (this isolate's clock). */
  grant(localKey: string, lease: Lease, sentAt: number): void {
    const e = this.entries.get(localKey);
    if (!e) return;
    // Counted from when the call left: the lease ends here no later than at the coordinator.
    const held = { n: lease.n, left: lease.n, until: sentAt + lease.ttlMs, since: sentAt, at: lease.at };
    // The one in hand is spent first (it ends sooner); this one waits its turn.
    if (e.lease && e.lease.left > 0 && sentAt < e.lease.until) {
      if (e.next) this.retire(e, e.next);
      e.next = held;
    } else {
      if (e.lease) this.retire(e, e.lease);
      e.lease = held;
    }
  }

  /** Records a refusal: requests on this key are refused here until `until`. */
  deny(localKey: string, until: number): void {
    const e = this.entries.get(localKey);
    if (!e) return;
    e.deniedUntil = Math.max(e.deniedUntil, until);
    for (const lease of [e.lease, e.next]) if (lease) this.retire(e, lease);
    e.lease = null;
    e.next = null;
  }

  /** Milliseconds a refusal recorded with deny() still holds. */
  deniedFor(localKey: string, now: number): number {
    const e = this.entries.get(localKey);
    return e ? Math.max(0, e.deniedUntil - now) : 0;
  }

  /** Hands over the unspent leases to take back (exactly once; put back with restoreReturns). */
  takeReturns(localKey: string): LeaseReturn[] {
    const e = this.entries.get(localKey);
    if (!e || e.returns.length === 0) return [];
    const out = e.returns;
    e.returns = [];
    return out;
  }

  restoreReturns(localKey: string, returns: LeaseReturn[]): void {
    const e = this.entries.get(localKey);
    if (e) e.returns = [...returns, ...e.returns].slice(-MAX_RETURNS);
  }

  /** The call in flight for this key, if any. */
  inFlight(localKey: string): Promise<unknown> | null {
    return this.entries.get(localKey)?.inFlight ?? null;
  }

  /** Marks `call` as the key's call in flight until it settles. */
  fly<T>(localKey: string, call: Promise<T>): Promise<T> {
    const e = this.entries.get(localKey);
    if (!e) return call;
    e.inFlight = call;
    const land = () => {
      if (e.inFlight === call) e.inFlight = null;
    };
    call.then(land, land);
    return call;
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
    for (const [k, e] of this.entries) if (e.windowEnd <= now && e.claimUntil <= now && e.deniedUntil <= now && (!e.lease || e.lease.until <= now)) this.entries.delete(k);
    if (this.entries.size < this.maxEntries) return;
    let drop = Math.ceil(this.maxEntries / 10);
    for (const k of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(k);
    }
  }
}
