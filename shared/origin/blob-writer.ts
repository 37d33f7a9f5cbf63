// Streams an upload into R2 while computing its sha256, across as many requests as the client
// cares to send. The bytes are re-cut into fixed-size multipart parts (R2 wants every part but
// the last the same size), so memory holds at most one part whatever the chunk sizes, and the
// object only becomes complete once the digest has been checked.
//
// Between requests, the bytes that did not fill a part are kept in R2: while the upload is
// smaller than one part (no multipart upload), as the data object itself, so a small blob pushed
// in chunks is written once and its finish rewrites nothing; once parts exist, in `<key>.tail`.
// Every write of the data object before its finish holds a prefix of the upload, so it holds
// the whole upload exactly when its size is the upload's size (what a finish cut off checks).
//
// A request that brings every byte at once with its length declared (the one PATCH docker and
// skopeo send, a monolithic push) takes a shorter way: the body streams into R2 as one object in
// one put while the runtime's native sha256 (DigestStream) hashes it: no part buffer, no tail,
// no multipart upload and no JavaScript hashing (about ten times slower). Such an upload keeps its digest (`whole`) instead of a
// resumable hash state; more bytes after it are taken only while it is below one part, by
// hashing the data object again.
import { Hash } from "fast-sha256";
import { toHex } from "../digest";
import { RegistryError } from "../errors";
import type { ObjectStore } from "./object-store";

/** R2 accepts parts of 5 MiB to 5 GiB; 8 MiB keeps memory low and allows 80 GB objects. */
export const PART_BYTES = 8 * 1024 * 1024;
const SHA256_BLOCK = 64;

/** Everything needed to continue an upload in another request; plain data, safe to store. */
export interface UploadState {
  /** R2 key the finished object is written to. */
  key: string;
  /** Bytes received so far. */
  received: number;
  /** sha256 chaining words after the last whole 64-byte block of the bytes received. */
  hashWords: number[];
  multipartId?: string;
  parts: R2UploadedPart[];
  /**
   * sha256 of every byte received, when they were streamed whole into the data object in one
   * request (see the header); `hashWords` then holds nothing of them.
   */
  whole?: string;
}

export interface WriterHooks {
  /**
   * Called once R2 has created the multipart upload, before any part is sent: whoever keeps the
   * upload's state records the id here, or a crash mid-request would leave it unaccounted for.
   */
  multipartStarted?: (multipartId: string) => Promise<void>;
}

/** R2 takes a single put of up to 5 GiB; larger bodies go through multipart parts. */
export const MAX_WHOLE_BYTES = 4 * 1024 * 1024 * 1024;
const WHOLE_READ_BYTES = 1024 * 1024;

export type FinishResult = { ok: true; size: number; digest: string } | { ok: false; digest: string };

export function newUpload(key: string): UploadState {
  const words = new Uint32Array(8);
  new Hash()._saveState(words);
  return { key, received: 0, hashWords: [...words], parts: [] };
}

export class BlobWriter {
  private readonly hash = new Hash();
  /** Bytes received after the last uploaded part (fewer than PART_BYTES). */
  private tail: Uint8Array;
  private tailLength: number;
  private state: UploadState;
  private computed?: string;
  /** Whether a tail object may exist for this upload (one was loaded or saved). */
  private tailSaved: boolean;
  /** Bytes the data object holds now (a prefix of the upload), or null when none was written. */
  private stored: number | null = null;
  /** Only the tail's last partial hash block was read (resume with `noMoreBytes`). */
  private partial = false;
  /** The bytes were streamed whole (state.whole): nothing of them is in memory or in `hash`. */
  private sealed = false;

  private constructor(private readonly store: ObjectStore, state: UploadState, tail: Uint8Array, private readonly hooks: WriterHooks) {
    this.state = { ...state, parts: [...state.parts] };
    this.tail = new Uint8Array(PART_BYTES);
    this.tail.set(tail);
    this.tailLength = tail.byteLength;
    this.tailSaved = tail.byteLength > 0;
    // The saved words cover whole blocks only; the rest of the block is replayed from the tail.
    const pending = state.received % SHA256_BLOCK;
    this.hash._restoreState(Uint32Array.from(state.hashWords), state.received - pending);
    if (pending > 0) this.hash.update(tail.subarray(tail.byteLength - pending));
  }

  /**
   * Continues an upload: reloads the bytes that did not yet fill a part. With `noMoreBytes` (a
   * finish without a body) a small upload reads only the few bytes its hash needs, since its
   * data object already holds every byte and the finish will not rewrite it.
   */
  static async resume(store: ObjectStore, state: UploadState, hooks: WriterHooks = {}, opts: { noMoreBytes?: boolean } = {}): Promise<BlobWriter> {
    if (state.whole) {
      if ((await store.size(state.key)) !== state.received) throw missingData();
      return BlobWriter.sealedOver(store, state, hooks);
    }
    const tailBytes = state.received - state.parts.length * PART_BYTES;
    if (tailBytes <= 0) return new BlobWriter(store, state, new Uint8Array(0), hooks);
    if (!state.multipartId) {
      const pending = state.received % SHA256_BLOCK;
      if (opts.noMoreBytes) {
        const last = pending > 0 ? await store.readLast(state.key, pending) : { bytes: new Uint8Array(0), size: await store.size(state.key) };
        if (last?.size === state.received) {
          const writer = new BlobWriter(store, state, last.bytes, hooks);
          writer.stored = state.received;
          writer.partial = true;
          writer.tailSaved = false;
          return writer;
        }
      } else {
        const obj = await store.read(state.key);
        if (obj && obj.size === tailBytes) {
          const writer = new BlobWriter(store, state, new Uint8Array(await new Response(obj.body).arrayBuffer()), hooks);
          writer.stored = state.received;
          writer.tailSaved = false;
          return writer;
        }
        await obj?.body.cancel();
      }
      // Not there: an upload saved by an earlier version keeps its tail in `<key>.tail`.
    }
    return new BlobWriter(store, state, await readTail(store, state.key, tailBytes), hooks);
  }

  /**
   * Streams a whole body of `length` bytes into the (still empty) upload's data object in one
   * put, hashing it natively on the way. The writer answers as one that received those bytes;
   * its finish writes nothing more. A body shorter than declared is refused, nothing kept.
   */
  static async streamWhole(store: ObjectStore, state: UploadState, body: ReadableStream<Uint8Array>, length: number, hooks: WriterHooks = {}): Promise<BlobWriter> {
    const fixed = new FixedLengthStream(length);
    const stored = store.putStream(state.key, fixed.readable as ReadableStream<Uint8Array>, "application/octet-stream");
    const out = fixed.writable.getWriter();
    const digest = new crypto.DigestStream("SHA-256");
    const hashing = digest.getWriter();
    const reader = body.getReader({ mode: "byob" });
    let received = 0;
    try {
      // Large reads keep the trips through JavaScript few (a request body arrives in small
      // chunks); each one is hashed natively, then handed to the put, whose pace bounds ours.
      while (received < length) {
        const want = Math.min(WHOLE_READ_BYTES, length - received);
        const { done, value } = await reader.readAtLeast(want, new Uint8Array(want));
        if (done || !value) break;
        received += value.byteLength;
        await hashing.write(value);
        await out.write(value);
      }
      // A body shorter than declared makes the fixed-length stream, and so the put, fail.
      await Promise.all([out.close(), hashing.close()]);
      await stored;
    } catch (err) {
      await Promise.allSettled([reader.cancel(), out.abort(), stored]);
      await store.delete(state.key);
      if (received >= length) throw err;
      throw new RegistryError("BAD_REQUEST", `the body ended after ${received} of the ${length} bytes its Content-Length declared`, { protocolCode: "BLOB_UPLOAD_INVALID" });
    }
    const whole = `sha256:${toHex(await digest.digest)}`;
    return BlobWriter.sealedOver(store, { ...state, received: length, whole }, hooks);
  }

  private static sealedOver(store: ObjectStore, state: UploadState, hooks: WriterHooks): BlobWriter {
    const writer = new BlobWriter(store, { ...state, hashWords: newUpload(state.key).hashWords, received: 0 }, new Uint8Array(0), hooks);
    writer.state = { ...state, parts: [...state.parts] };
    writer.stored = state.received;
    writer.computed = state.whole;
    writer.sealed = true;
    writer.tailSaved = false;
    return writer;
  }

  get received(): number {
    return this.state.received;
  }

  /** sha256 of every byte appended so far; call once the last byte is in (it ends the hash). */
  digest(): string {
    this.computed ??= `sha256:${toHex(this.hash.digest())}`;
    return this.computed;
  }

  /**
   * Appends a request body. With `persist` the bytes that did not fill a part are saved for the
   * next request; without it they stay in memory for finish() in this request.
   */
  async append(body: ReadableStream<Uint8Array> | null, opts: { persist: boolean; maxBytes?: number }): Promise<UploadState> {
    if (body) {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (opts.maxBytes !== undefined && this.state.received + value.byteLength > opts.maxBytes) {
          await reader.cancel();
          throw new RegistryError("TOO_LARGE", `upload exceeds ${opts.maxBytes} bytes`);
        }
        await this.write(value);
      }
    }
    if (opts.persist) await this.saveTail();
    return this.snapshot();
  }

  /**
   * Completes the object if the bytes hash to `expectedHex`; otherwise deletes everything the
   * upload wrote. Either way nothing partial remains.
   */
  async finish(expectedHex: string, contentType: string): Promise<FinishResult> {
    const digest = this.digest();
    if (digest !== `sha256:${expectedHex}`) {
      await this.discard();
      return { ok: false, digest };
    }
    const { key, multipartId } = this.state;
    const last = this.tail.subarray(0, this.tailLength);
    const complete = async () => {
      if (multipartId) {
        if (last.byteLength > 0) this.state.parts.push(await this.store.uploadPart(key, multipartId, this.state.parts.length + 1, last));
        await this.store.completeMultipart(key, multipartId, this.state.parts);
      } else if (this.stored !== this.state.received) {
        await this.store.write(key, last, { contentType });
      }
      // Otherwise the data object already holds every byte: a small chunked upload is one put.
    };
    // The saved tail is a copy of bytes the object is about to hold: dropping it alongside costs
    // no round trip, and a writer that never saved one (a monolithic push) has none to drop.
    await Promise.all([complete(), this.tailSaved ? this.store.delete(tailKey(key)) : null]);
    return { ok: true, size: this.state.received, digest };
  }

  /** Throws away an upload in any state: parts, saved tail and any finished object. */
  static async discard(store: ObjectStore, state: UploadState): Promise<void> {
    if (state.multipartId) await store.abortMultipart(state.key, state.multipartId).catch(() => {});
    await store.delete([tailKey(state.key), state.key]);
  }

  /** Throws away this upload as it stands (a refused or failed single-request upload). */
  abort(): Promise<void> {
    return this.discard();
  }

  /** After the object was completed: removes the saved tail (a finish cut off may leave it). */
  static async dropTail(store: ObjectStore, state: UploadState): Promise<void> {
    await store.delete(tailKey(state.key));
  }

  private discard(): Promise<void> {
    return BlobWriter.discard(this.store, this.state);
  }

  private async write(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    if (this.partial) await this.loadWholeTail();
    if (this.sealed) await this.unseal();
    this.hash.update(chunk);
    this.state.received += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const n = Math.min(PART_BYTES - this.tailLength, chunk.byteLength - offset);
      this.tail.set(chunk.subarray(offset, offset + n), this.tailLength);
      this.tailLength += n;
      offset += n;
      if (this.tailLength === PART_BYTES) await this.uploadFullPart();
    }
  }

  private async uploadFullPart(): Promise<void> {
    const { key } = this.state;
    if (!this.state.multipartId) {
      this.state.multipartId = await this.store.startMultipart(key, "application/octet-stream");
      await this.hooks.multipartStarted?.(this.state.multipartId);
    }
    const part = await this.store.uploadPart(key, this.state.multipartId, this.state.parts.length + 1, this.tail);
    this.state.parts.push(part);
    // The part was handed over; a new buffer keeps it from being overwritten while R2 reads it.
    this.tail = new Uint8Array(PART_BYTES);
    this.tailLength = 0;
  }

  private async saveTail(): Promise<void> {
    if (!this.state.multipartId) {
      // Below one part: the data object is the saved state (a prefix of the upload).
      if (this.tailLength > 0 && this.stored !== this.state.received) {
        await this.store.write(this.state.key, this.tail.subarray(0, this.tailLength), { contentType: "application/octet-stream" });
        this.stored = this.state.received;
      }
      return;
    }
    if (this.tailLength > 0) {
      this.tailSaved = true;
      await this.store.write(tailKey(this.state.key), this.tail.subarray(0, this.tailLength), { contentType: "application/octet-stream" });
    } else {
      await this.store.delete(tailKey(this.state.key));
    }
  }

  // More bytes after a whole one: below one part, the data object is read back and hashed from
  // the start, and the upload goes on as any other; a larger one cannot be (its bytes would have
  // to be rewritten as parts), so the client is told to start again.
  private async unseal(): Promise<void> {
    const { key, received } = this.state;
    if (received >= PART_BYTES) {
      throw new RegistryError("RANGE_NOT_SATISFIABLE", `this upload was sent whole (${received} bytes in one request); start a new upload to send it in chunks`, { protocolCode: "BLOB_UPLOAD_INVALID" });
    }
    const obj = await this.store.read(key);
    if (!obj || obj.size !== received) {
      await obj?.body.cancel();
      throw missingData();
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    this.hash.reset();
    this.hash.update(bytes);
    this.tail.set(bytes);
    this.tailLength = bytes.byteLength;
    this.computed = undefined;
    this.sealed = false;
    delete this.state.whole;
  }

  // A finish resumed without the tail got a body after all: read the whole tail before any byte
  // is added to it (the hash already covers it).
  private async loadWholeTail(): Promise<void> {
    this.partial = false;
    const obj = await this.store.read(this.state.key);
    if (!obj || obj.size !== this.state.received) {
      await obj?.body.cancel();
      throw missingData();
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    this.tail.set(bytes);
    this.tailLength = bytes.byteLength;
  }

  /** The state to save: where the upload stands after what was appended. */
  snapshot(): UploadState {
    if (this.sealed) return { ...this.state, parts: [...this.state.parts] };
    const words = new Uint32Array(8);
    this.hash._saveState(words);
    return { ...this.state, parts: [...this.state.parts], hashWords: [...words] };
  }
}

const missingData = () => new RegistryError("NOT_FOUND", "upload data is missing; start the upload again", { protocolCode: "BLOB_UPLOAD_UNKNOWN" });

function tailKey(key: string): string {
  return `${key}.tail`;
}

async function readTail(store: ObjectStore, key: string, bytes: number): Promise<Uint8Array> {
  const obj = await store.read(tailKey(key));
  if (!obj || obj.size !== bytes) {
    await obj?.body.cancel();
    throw missingData();
  }
  return new Uint8Array(await new Response(obj.body).arrayBuffer());
}
