// lockstepTee: both branches see every chunk, neither runs more than one chunk ahead, and a
// cancelled branch does not stop the other.
import { describe, expect, it } from "vitest";
import { lockstepTee } from "../../../shared/tiers/lockstep-tee";

/** A source of `n` one-byte chunks that counts how many it has handed out. */
function counted(n: number) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === n) return controller.close();
      controller.enqueue(new Uint8Array([state.pulled++]));
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream) out.push(...chunk);
  return out;
}

describe("lockstepTee", () => {
  it("gives both branches every chunk in order", async () => {
    const { stream } = counted(50);
    const [a, b] = lockstepTee(stream);
    const [x, y] = await Promise.all([readAll(a), readAll(b)]);
    expect(x).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(y).toEqual(x);
  });

  it("does not read ahead of a branch that is not reading", async () => {
    const { stream, state } = counted(100);
    const [a] = lockstepTee(stream);
    const reader = a.getReader();
    const first = await reader.read();
    expect(first.value).toEqual(new Uint8Array([0]));
    // The second read must wait for the idle branch: give it time to (wrongly) race ahead.
    const second = reader.read();
    await new Promise((r) => setTimeout(r, 20));
    expect(state.pulled).toBeLessThanOrEqual(2);
    void second;
  });

  it("lets one branch finish alone after the other is cancelled, and cancels the source only when both are", async () => {
    const { stream, state } = counted(20);
    const [a, b] = lockstepTee(stream);
    const readerB = b.getReader();
    await readerB.read();
    await readerB.cancel();
    expect(await readAll(a)).toHaveLength(20);
    expect(state.cancelled).toBe(false);

    const second = counted(20);
    const [c, d] = lockstepTee(second.stream);
    await c.cancel();
    await d.cancel();
    expect(second.state.cancelled).toBe(true);
  });
});
