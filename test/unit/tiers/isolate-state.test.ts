// The bounded building blocks of per-isolate state: single flight collapses concurrent work and
// stops collapsing (never misbehaves) past its bound; the recent-set forgets the oldest first and
// expires entries.
import { describe, expect, it } from "vitest";
import { RecentSet, SingleFlight, regionKey } from "../../../shared/tiers/isolate-state";

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("SingleFlight", () => {
  it("runs one load for concurrent callers of a key, and a new one once it settled", async () => {
    const flights = new SingleFlight<Promise<number>>(10);
    let loads = 0;
    const gate = deferred<number>();
    const load = () => (loads++, gate.promise);
    const first = flights.run("k", load);
    const second = flights.run("k", load);
    expect([first.joined, second.joined]).toEqual([false, true]);
    gate.resolve(7);
    expect(await Promise.all([first.promise, second.promise])).toEqual([7, 7]);
    await Promise.resolve();
    expect(flights.run("k", () => Promise.resolve(8)).joined).toBe(false);
    expect(loads).toBe(1);
  });

  it("lets a failed flight go, so the next caller tries again", async () => {
    const flights = new SingleFlight<Promise<number>>(10);
    await expect(flights.run("k", () => Promise.reject(new Error("origin down"))).promise).rejects.toThrow("origin down");
    expect(flights.size).toBe(0);
  });

  it("past its bound runs work uncollapsed instead of tracking more flights", () => {
    const flights = new SingleFlight<Promise<void>>(2);
    const pending = new Promise<void>(() => {});
    flights.run("a", () => pending);
    flights.run("b", () => pending);
    expect(flights.run("c", () => pending).joined).toBe(false);
    expect(flights.run("c", () => pending).joined).toBe(false);
    expect(flights.size).toBe(2);
  });

  it("detaches a flight that began before a change, so later callers start afresh", () => {
    const flights = new SingleFlight<Promise<void>>(10);
    flights.lead("k", new Promise(() => {}), new Promise(() => {}), 1_000);
    flights.forgetStartedBy("k", 999);
    expect(flights.join("k")).toBeDefined();
    flights.forgetStartedBy("k", 1_000);
    expect(flights.join("k")).toBeUndefined();
  });
});

describe("RecentSet", () => {
  it("drops the oldest entry past its capacity", () => {
    const set = new RecentSet<number>(2, 60_000);
    set.set("a", 1);
    set.set("b", 2);
    set.set("a", 3); // re-set: now the newest
    set.set("c", 4);
    expect([set.get("a"), set.get("b"), set.get("c")]).toEqual([3, undefined, 4]);
  });

  it("expires entries after their lifetime, or their own lifetime when given", () => {
    const set = new RecentSet<true>(10, 1_000);
    set.set("default", true, 0);
    set.set("short", true, 0, 10);
    expect([set.has("default", 500), set.has("short", 500)]).toEqual([true, false]);
    expect(set.has("default", 1_000)).toBe(false);
  });
});

it("regionKey keeps regions apart", () => {
  expect(regionKey("us-east", "k")).not.toBe(regionKey("eu-west", "k"));
});
