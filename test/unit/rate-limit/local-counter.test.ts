// A PoP's own counting: local below the threshold, the coordinator from then on, a fresh start
// each window, claims that outlast the window, and reports handed over exactly once.
import { describe, expect, it } from "vitest";
import { LocalCounters } from "../../../shared/rate-limit/local-counter";

describe("LocalCounters", () => {
  it("decides locally up to the threshold, then sends every request to the coordinator", () => {
    const c = new LocalCounters();
    const routes = Array.from({ length: 5 }, () => c.take("k", 1000, 3, 10));
    expect(routes).toEqual(["local", "local", "local", "coordinator", "coordinator"]);
    expect(c.takeUnreported("k")).toBe(3);
    expect(c.takeUnreported("k")).toBe(0);
  });

  it("starts every fixed window from zero, keeping the old window's unreported requests for the next report", () => {
    const c = new LocalCounters();
    for (let i = 0; i < 3; i++) c.take("k", 1000, 3, 10);
    expect(c.take("k", 1000, 3, 999)).toBe("coordinator");
    expect(c.take("k", 1000, 3, 1000)).toBe("local");
    // Unreported requests of the old window are still handed to the coordinator with the new one's.
    expect(c.takeUnreported("k")).toBe(4);
  });

  it("keeps consulting while the coordinator says the key is hot, across windows", () => {
    const c = new LocalCounters();
    c.take("k", 1000, 3, 10);
    c.claim("k", 2500);
    expect(c.take("k", 1000, 3, 1200)).toBe("coordinator");
    expect(c.take("k", 1000, 3, 2499)).toBe("coordinator");
    expect(c.take("k", 1000, 3, 2500)).toBe("local");
  });

  it("puts back a report that did not arrive", () => {
    const c = new LocalCounters();
    c.take("k", 1000, 3, 0);
    c.take("k", 1000, 3, 0);
    const n = c.takeUnreported("k");
    c.returnUnreported("k", n);
    expect(c.takeUnreported("k")).toBe(2);
  });

  it("keeps separate counts per key (per region in dev)", () => {
    const c = new LocalCounters();
    for (const region of ["a", "b", "c"]) {
      expect([1, 2, 3, 4].map(() => c.take(`${region}\nk`, 1000, 3, 0))).toEqual(["local", "local", "local", "coordinator"]);
    }
  });

  it("stays bounded, evicting entries of past windows first", () => {
    const c = new LocalCounters(100);
    for (let i = 0; i < 100; i++) c.take(`old${i}`, 1000, 3, 0);
    c.take("hot", 1000, 3, 5000);
    expect(c.size).toBe(1);
    for (let i = 0; i < 250; i++) c.take(`new${i}`, 1000, 3, 5000);
    expect(c.size).toBeLessThanOrEqual(100);
  });
});
