// The decision for one request: each key is counted locally while this PoP is under the claim
// threshold; past it (or while the coordinator says the key is hot) the key's coordinator
// decides, and learns in the same call how many requests this PoP let through on its own.
import { RegistryError } from "../errors";
import { log } from "../log";
import type { CheckAnswer, Coordinator } from "./coordinator";
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
  now?: number;
}

const ALLOWED_LOCALLY: Verdict = { allowed: true, consulted: 0 };

export async function decide(keys: LimitKey[], ctx: ClaimContext): Promise<Verdict> {
  const now = ctx.now ?? Date.now();
  const pending: Array<{ limit: LimitKey; localKey: string; threshold: number }> = [];
  for (const limit of keys) {
    const threshold = claimThreshold(limit.policy, ctx.claimFraction);
    const localKey = `${ctx.region}\n${limit.key}`;
    if (ctx.counters.take(localKey, limit.policy.windowMs, threshold, now) === "coordinator") {
      pending.push({ limit, localKey, threshold });
    }
  }
  if (pending.length === 0) return ALLOWED_LOCALLY;

  const answers = await Promise.all(pending.map((p) => consult(p.limit, p.localKey, p.threshold, ctx)));
  if (answers.includes(null) && ctx.failClosed) {
    throw new RegistryError("ORIGIN_UNAVAILABLE", "the rate limiter is unreachable; writes are refused until it answers", { retryAfter: 1 });
  }
  for (let i = 0; i < pending.length; i++) {
    const answer = answers[i];
    if (answer && !answer.allowed) {
      const { scope, policy } = pending[i]!.limit;
      return { allowed: false, scope, policy, remaining: answer.remaining, retryAfterMs: answer.retryAfterMs };
    }
  }
  return { allowed: true, consulted: pending.length };
}

/** One coordinator call; null when it could not be reached (the local report is kept for next time). */
async function consult(limit: LimitKey, localKey: string, threshold: number, ctx: ClaimContext): Promise<CheckAnswer | null> {
  const reported = ctx.counters.takeUnreported(localKey);
  try {
    const stub = await ctx.coordinatorFor(limit.key);
    const answer = await stub.check({ limit: limit.policy.limit, windowMs: limit.policy.windowMs, threshold, reported });
    ctx.counters.claim(localKey, answer.claimUntil);
    return answer;
  } catch (err) {
    ctx.counters.returnUnreported(localKey, reported);
    log.error("rate limiter unreachable", { scope: limit.scope, error: err });
    return null;
  }
}
