// The coordinator's log: never more than `limit` in any window, exact waits, pruning.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlidingLog } from "../../../shared/rate-limit/sliding-window";

describe("SlidingLog", () => {
  it("admits exactly the limit within a window and says when the next slot opens", () => {
    const log = new SlidingLog();
    const decisions = [0, 100, 200, 300].map((t) => (log.prune(t, 1000), log.admit(t, 3, 1000)));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    // The oldest entry (t=0) leaves the window at 1000: 700 ms after t=300.
    expect(decisions[3]!.retryAfterMs).toBe(700);
    log.prune(1000, 1000);
    expect(log.admit(1000, 3, 1000).allowed).toBe(true);
  });

  it("counts reported requests and can be pushed over the limit by them", () => {
    const log = new SlidingLog();
    log.add(0, 5);
    const d = log.admit(10, 3, 1000);
    expect(d).toMatchObject({ allowed: false, count: 5 });
    // Three of the five must leave before a fourth fits: all five share t=0.
    expect(d.retryAfterMs).toBe(990);
    expect(log.timeUntilBelow(3, 10, 1000)).toBe(990);
    expect(log.timeUntilBelow(6, 10, 1000)).toBe(0);
  });

  it("rebuilds from stored rows in any order", () => {
    const log = new SlidingLog([{ at: 50, n: 2 }, { at: 10, n: 1 }]);
    expect(log.count).toBe(3);
    expect(log.newest).toBe(50);
    expect(log.prune(1010, 1000)).toBe(10);
    expect(log.count).toBe(2);
    expect(log.snapshot()).toEqual([{ at: 50, n: 2 }]);
  });

  it("never lets more than the limit through in any window, for any arrival times", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 100, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 300 }),
        (limit, windowMs, gaps) => {
          const log = new SlidingLog();
          const admitted: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            log.prune(now, windowMs);
            const d = log.admit(now, limit, windowMs);
            if (d.allowed) admitted.push(now);
            else expect(d.retryAfterMs).toBeGreaterThan(0);
          }
          // Every window (t - windowMs, t] ending at an admission holds at most `limit`.
          for (const t of admitted) expect(admitted.filter((a) => a > t - windowMs && a <= t).length).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it("a denied caller that waits retryAfterMs is admitted", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 60 }), (limit, gaps) => {
        const windowMs = 500;
        const log = new SlidingLog();
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          log.prune(now, windowMs);
          const d = log.admit(now, limit, windowMs);
          if (!d.allowed) {
            const later = now + d.retryAfterMs;
            log.prune(later, windowMs);
            expect(log.count).toBeLessThan(limit);
            now = later;
          }
        }
      }),
    );
  });
});
