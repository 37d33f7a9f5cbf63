// Splits a stream in two that advance together: the next chunk is read from the source only
// once both branches have taken the previous one. ReadableStream.tee() reads as fast as the
// faster branch and queues everything the slower one has not taken yet, so a client reading a
// 200 MB layer slowly while L1 stores it quickly would make the isolate hold most of the layer.
// When one branch is cancelled the other continues alone.

type Result = ReadableStreamReadResult<Uint8Array>;

export function lockstepTee(source: ReadableStream<Uint8Array>): [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] {
  const reader = source.getReader();
  const taken = [0, 0];
  const open = [true, true];
  let started = 0;
  let latest: Promise<Result> | undefined;
  let wake: (() => void) | null = null;
  const wakeLeader = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  async function take(i: number): Promise<Result> {
    const want = taken[i]! + 1;
    if (want > started) {
      // The leader may start round `want` only after the other branch took round `want - 1`.
      while (open[1 - i] && taken[1 - i]! < started) await new Promise<void>((r) => (wake = r));
      started = want;
      latest = reader.read();
    }
    taken[i] = want;
    wakeLeader();
    return latest!;
  }

  const branch = (i: number) =>
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await take(i);
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        open[i] = false;
        wakeLeader();
        if (!open[1 - i]) await reader.cancel(reason);
      },
    }, { highWaterMark: 0 });

  return [branch(0), branch(1)];
}
