// The decision for one request: each key is counted locally while this PoP is under the claim
// threshold; past it (or while the coordinator says the key is hot) the PoP spends a lease the
// key's coordinator lent it, asking for the next one in the background when it is half spent,
// and asks the coordinator itself only when it holds none (reporting, in the same call, how many
// requests it let through on its own and what its old leases left unspent).
import { RegistryError } from "../errors";
import { log } from "../log";
import type { CheckAnswer, Coordinator } from "./coordinator";
import { leaseTtlMs, leaseWant } from "./lease";
import type { LocalCounters } from "./local-counter";
import { claimThreshold, type Policy, type Scope } from "./policy";
import type { LimitKey } from "./subjects";

export type Verdict =
  | { allowed: true; consulted: number }
  | { allowed: false; scope: Scope; policy: Policy; remaining: number; retryAfterMs: number };

export interface ClaimContext {
  counters: LocalCounters;
  /** The PoP: local counts are per region, since in dev one process plays every region. */
  region: string;
  claimFraction: number;
  coordinatorFor(key: string): Promise<Coordinator>;
  /** Publishes and logins are refused when the coordinator cannot be reached; reads go through. */
  failClosed: boolean;
  /** Keeps a background lease refill alive after the response (the Worker's waitUntil). */
  background?(work: Promise<unknown>): void;
  now?: number;
}

interface Pending {
  limit: LimitKey;
  localKey: string;
  threshold: number;
}

const ALLOWED_LOCALLY: Verdict = { allowed: true, consulted: 0 };
// A request that finds a call in flight waits for its lease up to this many times before asking
// itself (each landing call serves as many waiters as its lease holds; see `waiting` below).
const MAX_WAITS = 32;

export async function decide(keys: LimitKey[], ctx: ClaimContext): Promise<Verdict> {
  const now = ctx.now ?? Date.now();
  const pending: Pending[] = [];
  for (const limit of keys) {
    // The policy is part of the local key: a refusal or lease under one limit never carries over
    // to another (a new deploy's limits, or tests that run several configurations in one isolate).
    const localKey = `${ctx.region}\n${limit.policy.limit}/${limit.policy.windowMs}\n${limit.key}`;
    const p = { limit, localKey, threshold: claimThreshold(limit.policy, ctx.claimFraction) };
    const route = ctx.counters.take(p.localKey, limit.policy.windowMs, p.threshold, now);
    if (route === "denied") return refused(limit, 0, ctx.counters.deniedFor(p.localKey, now));
    if (route === "coordinator") pending.push(p);
    else if (route === "refill") {
      const refill = call(p, ctx, false).catch(() => null);
      ctx.background?.(refill);
    }
  }
  if (pending.length === 0) return ALLOWED_LOCALLY;

  const answers = await Promise.all(pending.map((p) => consult(p, ctx)));
  if (answers.includes(null) && ctx.failClosed) {
    throw new RegistryError("ORIGIN_UNAVAILABLE", "the rate limiter is unreachable; writes are refused until it answers", { retryAfter: 1 });
  }
  for (let i = 0; i < pending.length; i++) {
    const answer = answers[i];
    if (answer && !answer.allowed) return refused(pending[i]!.limit, answer.remaining, answer.retryAfterMs);
  }
  return { allowed: true, consulted: pending.length };
}

function refused(limit: LimitKey, remaining: number, retryAfterMs: number): Verdict {
  return { allowed: false, scope: limit.scope, policy: limit.policy, remaining, retryAfterMs };
}

const ADMITTED: CheckAnswer = { allowed: true, remaining: 0, retryAfterMs: 0, claimUntil: 0 };

/**
 * The coordinator's word on one request: a lease another request of this PoP is already asking
 * for is waited on and spent (concurrent requests share one call); otherwise one call of its own.
 * Null when the coordinator could not be reached.
 */
async function consult(p: Pending, ctx: ClaimContext): Promise<CheckAnswer | null> {
  const { counters } = ctx;
  for (let waits = 0; waits < MAX_WAITS; waits++) {
    const flying = counters.inFlight(p.localKey);
    if (!flying) break;
    counters.wait(p.localKey, 1);
    await flying.catch(() => null);
    counters.wait(p.localKey, -1);
    const now = Date.now();
    const route = counters.take(p.localKey, p.limit.policy.windowMs, p.threshold, now);
    if (route === "leased" || route === "refill" || route === "local") return ADMITTED;
    if (route === "denied") return { allowed: false, remaining: 0, retryAfterMs: counters.deniedFor(p.localKey, now), claimUntil: 0 };
  }
  return call(p, ctx, true);
}

/**
 * One coordinator call: decides this request (`admit`) or only refills the lease, hands over
 * the local report and unspent leases, and records the answer. Null when it could not be
 * reached (the report and the returns are kept for next time).
 */
async function call(p: Pending, ctx: ClaimContext, admit: boolean): Promise<CheckAnswer | null> {
  const { counters } = ctx;
  const { policy } = p.limit;
  const sentAt = Date.now();
  const reported = counters.takeUnreported(p.localKey);
  const returned = counters.takeReturns(p.localKey);
  const { used, elapsedMs, waiting } = counters.usage(p.localKey, sentAt);
  // Enough for the requests already waiting on this PoP, at least.
  const want = Math.max(waiting, leaseWant(used, elapsedMs, leaseTtlMs(policy.windowMs), policy.limit));
  const answer = counters.fly(p.localKey, (async () => {
    const stub = await ctx.coordinatorFor(p.limit.key);
    return stub.check({ limit: policy.limit, windowMs: policy.windowMs, threshold: p.threshold, reported, want, admit, ...(returned.length ? { returned } : {}) });
  })());
  try {
    const a = await answer;
    counters.claim(p.localKey, a.claimUntil);
    if (a.lease) counters.grant(p.localKey, a.lease, sentAt);
    // A refusal is kept for as long as the coordinator said, counted from when the call left, but
    // no longer than a lease: part of the window may be lent to PoPs that hand it back unspent.
    if (!a.allowed) counters.deny(p.localKey, sentAt + Math.min(a.retryAfterMs, leaseTtlMs(policy.windowMs)));
    return a;
  } catch (err) {
    counters.returnUnreported(p.localKey, reported);
    counters.restoreReturns(p.localKey, returned);
    log.error("rate limiter unreachable", { scope: p.limit.scope, error: err });
    return null;
  }
}
