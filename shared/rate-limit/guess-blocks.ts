// Addresses this PoP knows are out of authentication attempts: while one is, every request from
// it that carries credentials is refused, so a right guess answers like a wrong one (429).
import type { Policy } from "./policy";

export interface Blocked {
  policy: Policy;
  retryAfterMs: number;
}

interface Entry {
  until: number;
  policy: Policy;
}

export class GuessBlocks {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 10_000) {}

  block(ip: string, verdict: { policy: Policy; retryAfterMs: number }, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      for (const [key, e] of this.entries) if (e.until <= now) this.entries.delete(key);
      // Still full: forget the oldest; it only costs that address one more counted guess.
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(ip, { until: now + verdict.retryAfterMs, policy: verdict.policy });
  }

  blockedFor(ip: string, now: number): Blocked | null {
    const e = this.entries.get(ip);
    if (!e) return null;
    if (e.until <= now) {
      this.entries.delete(ip);
      return null;
    }
    return { policy: e.policy, retryAfterMs: e.until - now };
  }
}
