// Leases: booked in the log at their end so every window's count stays an upper bound, taken
// back exactly when unspent, sized to the rate a PoP spends them at, never more than half of
// what is left; and a PoP spends one locally, asks for the next one half way, hands back the rest.
import { describe, expect, it } from "vitest";
import { leaseGrant, leaseTtlMs, leaseWant } from "../../../shared/rate-limit/lease";
import { LocalCounters } from "../../../shared/rate-limit/local-counter";
import { SlidingLog } from "../../../shared/rate-limit/sliding-window";

describe("SlidingLog leases", () => {
  it("books lent requests at the lease's end, so they leave the window late", () => {
    const log = new SlidingLog();
    log.admit(0, 10, 1000);
    expect(log.reserve(100, 5)).toBe(100);
    expect(log.count).toBe(6);
    // At 1050 the t=0 request has left; the lease (booked at 100) is still in.
    log.prune(1050, 1000);
    expect(log.count).toBe(5);
    log.prune(1100, 1000);
    expect(log.count).toBe(0);
  });

  it("a lease booked before the newest entry joins it, and release takes back only from there", () => {
    const log = new SlidingLog();
    log.reserve(500, 4);
    // A request admitted at 100 while the lease reaches 500 joins the t=500 entry (late, safe).
    log.admit(100, 10, 1000);
    expect(log.snapshot()).toEqual([{ at: 500, n: 5 }]);
    expect(log.release(500, 3)).toBe(3);
    expect(log.count).toBe(2);
    // Never below zero, nothing from another entry.
    expect(log.release(500, 10)).toBe(2);
    expect(log.release(499, 1)).toBe(0);
  });

  it("a return for an entry that left the window takes nothing", () => {
    const log = new SlidingLog();
    log.reserve(100, 3);
    log.prune(1200, 1000);
    expect(log.release(100, 3)).toBe(0);
    expect(log.count).toBe(0);
  });
});

describe("lease sizes", () => {
  it("lasts a twentieth of the window, between 10 ms and 1 s", () => {
    expect(leaseTtlMs(60_000)).toBe(1000);
    expect(leaseTtlMs(3000)).toBe(150);
    expect(leaseTtlMs(100)).toBe(10);
  });

  it("asks for twice what one lease would spend at the last rate, within [1, limit]", () => {
    expect(leaseWant(100, 100, 1000, 1e9)).toBe(2000);
    expect(leaseWant(0, 100, 1000, 1e9)).toBe(1);
    expect(leaseWant(100, 1, 1000, 500)).toBe(500);
  });

  it("lends at most half of what is left", () => {
    expect(leaseGrant(1000, 100, 20)).toBe(40);
    expect(leaseGrant(10, 100, 20)).toBe(10);
    expect(leaseGrant(10, 100, 99)).toBe(0);
    expect(leaseGrant(10, 100, 150)).toBe(0);
  });

  it("keeps the last requests of a window (the threshold, at most 16) for one-at-a-time decisions", () => {
    expect(leaseGrant(1000, 100, 20, 10)).toBe(35);
    expect(leaseGrant(1000, 100, 89, 10)).toBe(0);
    expect(leaseGrant(1e9, 1e6, 0, 1e5)).toBe(499_992);
  });
});

describe("LocalCounters with a lease", () => {
  it("spends a lease locally, asks for the next one half way, then goes back to the coordinator", () => {
    const c = new LocalCounters();
    expect(c.take("k", 1000, 1, 0)).toBe("local");
    expect(c.take("k", 1000, 1, 0)).toBe("coordinator");
    c.grant("k", { n: 4, ttlMs: 100, at: 100 }, 0);
    expect([1, 2, 3, 4, 5].map(() => c.take("k", 1000, 1, 10))).toEqual(["leased", "leased", "refill", "refill", "coordinator"]);
    // Spent in full: nothing to hand back.
    expect(c.takeReturns("k")).toEqual([]);
  });

  it("spends the lease in hand before the next one, and hands back what each left unspent", () => {
    const c = new LocalCounters();
    c.take("k", 1000, 1, 0);
    c.take("k", 1000, 1, 0);
    c.grant("k", { n: 10, ttlMs: 100, at: 100 }, 0);
    c.take("k", 1000, 1, 10);
    // The next lease arrives while the first has 9 left: the first is spent first.
    c.grant("k", { n: 10, ttlMs: 100, at: 150 }, 50);
    expect(c.takeReturns("k")).toEqual([]);
    expect(c.take("k", 1000, 1, 60)).toBe("leased");
    // At 120 the first has ended with 8 unspent; the second takes over (and, past half its
    // time with no other lease waiting, asks for the next).
    expect(c.take("k", 1000, 1, 120)).toBe("refill");
    expect(c.takeReturns("k")).toEqual([{ at: 100, n: 8 }]);
    // At 150 the second has ended too, with 9 unspent.
    expect(c.take("k", 1000, 1, 150)).toBe("coordinator");
    expect(c.takeReturns("k")).toEqual([{ at: 150, n: 9 }]);
  });

  it("refuses locally while a refusal from the coordinator holds", () => {
    const c = new LocalCounters();
    c.take("k", 1000, 1, 0);
    c.deny("k", 500);
    expect(c.take("k", 1000, 1, 100)).toBe("denied");
    expect(c.deniedFor("k", 100)).toBe(400);
    expect(c.take("k", 1000, 1, 500)).toBe("coordinator");
  });
});
