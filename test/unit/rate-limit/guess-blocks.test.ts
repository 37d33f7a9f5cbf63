// GuessBlocks: an address out of authentication attempts stays blocked exactly until its retry
// time, and the map stays bounded however many addresses it sees.
import { describe, expect, it } from "vitest";
import { GuessBlocks } from "../../../shared/rate-limit/guess-blocks";

const policy = { limit: 10, windowMs: 60_000 };

describe("GuessBlocks", () => {
  it("blocks an address until its retry time, then forgets it", () => {
    const blocks = new GuessBlocks();
    blocks.block("a", { policy, retryAfterMs: 1000 }, 0);
    expect(blocks.blockedFor("a", 999)).toEqual({ policy, retryAfterMs: 1 });
    expect(blocks.blockedFor("b", 999)).toBeNull();
    expect(blocks.blockedFor("a", 1000)).toBeNull();
    expect(blocks.blockedFor("a", 0)).toBeNull();
  });

  it("keeps at most its bound, dropping expired entries first, then the oldest", () => {
    const blocks = new GuessBlocks(3);
    blocks.block("old", { policy, retryAfterMs: 10 }, 0);
    blocks.block("b", { policy, retryAfterMs: 1000 }, 0);
    blocks.block("c", { policy, retryAfterMs: 1000 }, 0);
    blocks.block("d", { policy, retryAfterMs: 1000 }, 20);
    expect(["old", "b", "c", "d"].map((k) => blocks.blockedFor(k, 20) !== null)).toEqual([false, true, true, true]);
    blocks.block("e", { policy, retryAfterMs: 1000 }, 30);
    expect(["b", "c", "d", "e"].map((k) => blocks.blockedFor(k, 30) !== null)).toEqual([false, true, true, true]);
  });
});
