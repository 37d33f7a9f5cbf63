// What a PoP and a key's coordinator (the RateLimiter Durable Object) say to each other, and how
// a key names its coordinator: one object per key, so no object ever sees all traffic.
import { sha256Hex } from "../digest";

export interface CheckRequest {
  limit: number;
  windowMs: number;
  /** The PoPs' claim threshold, so the coordinator can say how long the key stays hot. */
  threshold: number;
  /** Requests the calling PoP admitted on its own that the coordinator has not counted yet. */
  reported: number;
  /** False for a lease refill sent in the background: no request waits on this call. */
  admit?: boolean;
  /** Requests the PoP would like to admit on its own for the next lease (0 or absent: none). */
  want?: number;
  /** Leases the PoP holds no longer, with what they left unused, to take back. */
  returned?: LeaseReturn[];
}

/** A lease: `n` requests the PoP may admit on its own for `ttlMs`, booked in the log at `at`. */
export interface Lease {
  n: number;
  ttlMs: number;
  at: number;
}

export interface LeaseReturn {
  at: number;
  n: number;
}

export interface CheckAnswer {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
  /** PoPs consult the coordinator for this key until then (epoch ms). */
  claimUntil: number;
  /** Present when the coordinator lent the PoP part of what is left of the window. */
  lease?: Lease;
}

export interface CoordinatorStats {
  /** check() calls since the object started: proof of whether any PoP consulted it. */
  checks: number;
  admitted: number;
  denied: number;
  /** Requests PoPs admitted locally and reported afterwards. */
  reported: number;
  /** Leases granted, requests lent in them, and lent requests taken back unused. */
  leases: number;
  lent: number;
  returned: number;
  /** Admitted requests inside the current window. */
  inWindow: number;
  alarmAt: number | null;
}

/** The RPC surface the edge uses (the Durable Object stub satisfies it). */
export interface Coordinator {
  check(req: CheckRequest): Promise<CheckAnswer>;
}

const names = new Map<string, string>();

/**
 * The Durable Object name for a limit key: a SHA-256 of it, so client addresses and token ids
 * never appear in object names. Memoised per isolate (bounded) since hot keys repeat.
 */
export async function coordinatorName(key: string): Promise<string> {
  const known = names.get(key);
  if (known) return known;
  const name = await sha256Hex(`pkgedge-rate-limit:${key}`);
  if (names.size >= 10_000) names.clear();
  names.set(key, name);
  return name;
}
