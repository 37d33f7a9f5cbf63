// Fans one origin stream out to every request in this isolate that asked for the same large
// object while it was being read, without holding the whole object: only the first REPLAY_BYTES
// are kept so that waiters arriving a moment late can still join. The slowest reader sets the
// pace (in-isolate streams carry backpressure; a stream relayed over Durable Object RPC did not
// in local workerd, which is why large objects no longer pass through the shield).

const REPLAY_BYTES = 8 * 1024 * 1024;

export class Broadcast {
  private readonly writers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private readonly replay: Uint8Array[] = [];
  private replayBytes = 0;
  private replayComplete = true;
  private done = false;

  /** Settles when the source has been read to its end (or failed). */
  readonly ended: Promise<void>;

  constructor(source: ReadableStream<Uint8Array>) {
    // Started on the next turn so the first subscriber (the requester) is in place.
    this.ended = new Promise((resolve) => queueMicrotask(() => void this.pump(source).finally(resolve)));
  }

  /** A new reader of the object, or null when it is too far along to replay. */
  subscribe(): ReadableStream<Uint8Array> | null {
    if (this.done || !this.replayComplete) return null;
    // A standard (JS) TransformStream: backpressure reaches pump() through write(), and its
    // readable can be piped into the runtime's own streams (FixedLengthStream).
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: 1 }, { highWaterMark: 0 });
    const writer = writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
    for (const chunk of this.replay) void writer.write(chunk).catch(() => this.writers.delete(writer));
    this.writers.add(writer);
    return readable as ReadableStream<Uint8Array>;
  }

  private async pump(source: ReadableStream<Uint8Array>): Promise<void> {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (this.replayComplete) {
          if (this.replayBytes + value.byteLength <= REPLAY_BYTES) {
            this.replay.push(value);
            this.replayBytes += value.byteLength;
          } else {
            this.replayComplete = false;
            this.replay.length = 0;
          }
        }
        // The slowest reader sets the pace, so memory stays bounded by the streams' buffers.
        await Promise.all([...this.writers].map((w) => w.write(value).catch(() => this.writers.delete(w))));
        if (this.writers.size === 0 && !this.replayComplete) {
          await reader.cancel();
          break;
        }
      }
      this.done = true;
      await Promise.all([...this.writers].map((w) => w.close().catch(() => {})));
    } catch (err) {
      this.done = true;
      await Promise.all([...this.writers].map((w) => w.abort(err).catch(() => {})));
    }
  }
}
