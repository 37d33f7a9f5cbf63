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
}

export interface WriterHooks {
  /**
   * Called once R2 has created the multipart upload, before any part is sent: whoever keeps the
   * upload's state records the id here, or a crash mid-request would leave it unaccounted for.
   */
  multipartStarted?: (multipartId: string) => Promise<void>;
}

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

  // A finish resumed without the tail got a body after all: read the whole tail before any byte
  // is added to it (the hash already covers it).
  private async loadWholeTail(): Promise<void> {
    this.partial = false;
    const obj = await this.store.read(this.state.key);
    if (!obj || obj.size !== this.state.received) {
      await obj?.body.cancel();
      throw new RegistryError("NOT_FOUND", "upload data is missing; start the upload again", { protocolCode: "BLOB_UPLOAD_UNKNOWN" });
    }
    const bytes = new Uint8Array(await new Response(obj.body).arrayBuffer());
    this.tail.set(bytes);
    this.tailLength = bytes.byteLength;
  }

  private snapshot(): UploadState {
    const words = new Uint32Array(8);
    this.hash._saveState(words);
    return { ...this.state, parts: [...this.state.parts], hashWords: [...words] };
  }
}

function tailKey(key: string): string {
  return `${key}.tail`;
}

async function readTail(store: ObjectStore, key: string, bytes: number): Promise<Uint8Array> {
  const obj = await store.read(tailKey(key));
  if (!obj || obj.size !== bytes) {
    await obj?.body.cancel();
    throw new RegistryError("NOT_FOUND", "upload data is missing; start the upload again", { protocolCode: "BLOB_UPLOAD_UNKNOWN" });
  }
  return new Uint8Array(await new Response(obj.body).arrayBuffer());
}
