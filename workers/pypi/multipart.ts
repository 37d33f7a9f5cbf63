// A streaming multipart/form-data reader (RFC 7578, RFC 2046 section 5.1): parts come one at a
// time and a part's body streams out as it arrives, so an uploaded file never sits in memory
// whole. Memory holds one network chunk plus a delimiter's length.
import { Buffer } from "node:buffer";
import { badRequest } from "../../shared/errors";

const MAX_PART_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

export interface PartHeaders {
  name: string;
  filename?: string;
  contentType?: string;
}

/** The boundary of a `multipart/form-data` Content-Type, or null for any other type. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^\s*multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2])! : null;
}

/** `name="x"; filename="y"` of a Content-Disposition value (quoted strings with `\` escapes). */
function dispositionParams(value: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const re = /;\s*([a-z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/gi;
  for (let m = re.exec(value); m; m = re.exec(value)) out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
  return out;
}

export class MultipartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly delimiter: Buffer;
  // The body starts with `--boundary`: a leading CRLF makes the first delimiter look like the rest.
  private buffer: Buffer = Buffer.from("\r\n");
  private ended = false;
  private finished = false;

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.reader = body.getReader();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      return false;
    }
    this.buffer = this.buffer.byteLength === 0 ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.concat([this.buffer, value]);
    return true;
  }

  /** The next part's headers (its body is then read with `body()`), or null after the last. */
  async next(): Promise<PartHeaders | null> {
    if (this.finished) return null;
    // Skip to the delimiter: a preamble, or whatever of the previous body the caller left unread.
    for (;;) {
      const at = this.buffer.indexOf(this.delimiter);
      if (at >= 0) {
        this.buffer = this.buffer.subarray(at + this.delimiter.byteLength);
        break;
      }
      this.buffer = this.buffer.subarray(Math.max(0, this.buffer.byteLength - this.delimiter.byteLength + 1));
      if (!(await this.fill())) throw badRequest("the multipart body is truncated (no closing boundary)");
    }
    while (this.buffer.byteLength < 2) if (!(await this.fill())) throw badRequest("the multipart body is truncated");
    if (this.buffer[0] === 0x2d && this.buffer[1] === 0x2d) {
      this.finished = true;
      await this.reader.cancel().catch(() => {});
      return null;
    }
    let end = this.buffer.indexOf(CRLF2);
    while (end < 0) {
      if (this.buffer.byteLength > MAX_PART_HEADER_BYTES) throw badRequest("a multipart part's headers are too large");
      if (!(await this.fill())) throw badRequest("the multipart body is truncated in a part's headers");
      end = this.buffer.indexOf(CRLF2);
    }
    // After the delimiter: optional whitespace, CRLF, then the header lines.
    const lines = this.buffer.subarray(0, end).toString("utf8").split("\r\n").slice(1);
    this.buffer = this.buffer.subarray(end + 4);
    let disposition: Record<string, string> | null = null;
    let contentType: string | undefined;
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw badRequest("a multipart part has a malformed header line");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-disposition") {
        if (!/^form-data\s*(;|$)/i.test(value)) throw badRequest("a multipart part is not form-data");
        disposition = dispositionParams(value);
      } else if (name === "content-type") contentType = value;
    }
    if (!disposition?.name) throw badRequest("a multipart part has no Content-Disposition name");
    return { name: disposition.name, ...(disposition.filename !== undefined ? { filename: disposition.filename } : {}), ...(contentType ? { contentType } : {}) };
  }

  /** The current part's next bytes, or null at its end. */
  async chunk(): Promise<Uint8Array | null> {
    for (;;) {
      const at = this.buffer.indexOf(this.delimiter);
      if (at === 0) return null;
      if (at > 0) {
        const out = this.buffer.subarray(0, at);
        this.buffer = this.buffer.subarray(at);
        return new Uint8Array(out);
      }
      // Everything but a possible start of the delimiter can go.
      const safe = this.buffer.byteLength - this.delimiter.byteLength + 1;
      if (safe > 0) {
        const out = this.buffer.subarray(0, safe);
        this.buffer = Buffer.from(this.buffer.subarray(safe));
        return new Uint8Array(out);
      }
      if (!(await this.fill())) throw badRequest("the multipart body is truncated inside a part");
    }
  }

  /** The current part's body as a stream (for a file). */
  stream(onChunk?: (chunk: Uint8Array) => void): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const next = await this.chunk();
        if (next === null) return controller.close();
        onChunk?.(next);
        controller.enqueue(next);
      },
    }, { highWaterMark: 0 });
  }

  /** The current part's body as text, at most `limit` bytes. */
  async text(limit: number, what: string): Promise<string> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let next = await this.chunk(); next !== null; next = await this.chunk()) {
      total += next.byteLength;
      if (total > limit) throw badRequest(`the form field ${what} is larger than ${limit} bytes`);
      chunks.push(next);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }

  /**
   * Reads and drops the rest of the body, up to `limit` bytes (then cancels): a client still
   * sending when the answer comes (Node's fetch, requests with a large file) would otherwise
   * see a broken pipe instead of the refusal.
   */
  async drain(limit: number): Promise<void> {
    let read = 0;
    while (!this.ended && read <= limit) {
      try {
        const { done, value } = await this.reader.read();
        if (done) return;
        read += value.byteLength;
      } catch {
        return;
      }
    }
    await this.cancel();
  }
}
