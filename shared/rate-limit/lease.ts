// Leases: once a key is claimed, its coordinator lends each PoP a slice of what is left of the
// window, which the PoP then spends on its own; these are the sizes and lifetimes, in one place.

/**
 * How long a lease may be spent: a twentieth of the window, between 10 ms and 1 s. Short, because
 * lent requests are booked at the lease's end (they leave the window late), and whatever a PoP
 * does not spend stays booked until it hands it back on its next call.
 */
export function leaseTtlMs(windowMs: number): number {
  return Math.min(1000, Math.max(10, Math.round(windowMs / 20)));
}

/**
 * What a PoP asks for: twice what it would spend in one lease at the rate it spent the last
 * `used` requests over `elapsedMs` (at least 1, at most the limit), so a busy PoP comes back
 * about once per lease and a quiet one books little it will not use.
 */
export function leaseWant(used: number, elapsedMs: number, ttlMs: number, limit: number): number {
  const rate = used / Math.max(1, elapsedMs);
  return Math.max(1, Math.min(limit, Math.ceil(2 * rate * ttlMs)));
}

// The last requests of a window are decided one at a time, never lent: a lease a PoP holds when
// its traffic stops is never spent, and near the limit that would refuse requests there was room for.
const RESERVE_MAX = 16;

/**
 * What the coordinator lends: what was asked, but never more than half of what is left over a
 * small reserve (the claim threshold, at most 16), so every other PoP still finds room.
 */
export function leaseGrant(want: number, limit: number, inWindow: number, threshold = 0): number {
  const reserve = Math.min(RESERVE_MAX, Math.max(0, threshold));
  return Math.max(0, Math.min(want, Math.floor((limit - inWindow - reserve) / 2)));
}
