// Building responses from what the tiers served: shared by every protocol.
import type { Context } from "hono";
import type { Served } from "../shared/tiers";

type Found = Served & { found: true };

export const CACHE_HEADER = "x-pkgedge-cache";
/** On content mirrored from an upstream registry: `fresh`, or `stale` while the upstream fails (stale-if-error). */
export const UPSTREAM_HEADER = "x-pkgedge-upstream";
const YEAR = 365 * 24 * 3600;

/**
 * The cache header of a not-found the tiers answered (`NEGATIVE` from a remembered one, `MISS`
 * when the origin was asked), for the error that carries it: a 404 says where it came from too.
 */
export function cacheStateHeader(served: Pick<Served, "state">): Record<string, string> {
  return { [CACHE_HEADER]: served.state };
}

/**
 * Client-facing caching: public content may be kept by shared caches; content that needed a
 * token is `private` so no shared cache between us and the client can hand it to someone else.
 */
export function cacheControl(isPublic: boolean, immutable: boolean, maxAge: number): string {
  const scope = isPublic ? "public" : "private";
  return immutable ? `${scope}, max-age=${YEAR}, immutable` : `${scope}, max-age=${maxAge}, must-revalidate`;
}

/**
 * 200 with the served body (or none for HEAD), 304 when the client's ETag still matches, and
 * with `ranges` a 206 for a single `Range: bytes=` request (RFC 9110 section 14). A coded
 * rendering (served.encoding) goes out with its Content-Encoding, its bytes as stored.
 */
export function servedResponse(c: Context, served: Found, headers: Record<string, string>, opts: { ranges?: boolean } = {}): Response {
  const meta = served.meta;
  const all: Record<string, string> = {
    "content-type": meta.contentType,
    etag: meta.etag,
    [CACHE_HEADER]: served.state,
    ...(meta.upstream ? { [UPSTREAM_HEADER]: meta.upstream } : {}),
    ...headers,
  };
  const inm = c.req.header("if-none-match");
  if (inm && all.etag && inm.split(/\s*,\s*/).includes(all.etag)) {
    cancel(served.body);
    return c.body(null, 304, all);
  }
  if (served.encoding) all["content-encoding"] = served.encoding;
  if (opts.ranges) all["accept-ranges"] = "bytes";
  const range = opts.ranges ? parseRange(c.req.header("range"), meta.size) : null;
  if (range === "unsatisfiable") {
    cancel(served.body);
    return c.body(null, 416, { ...all, "content-range": `bytes */${meta.size}` });
  }
  all["content-length"] = String(range ? range.length : meta.size);
  if (range) all["content-range"] = `bytes ${range.start}-${range.start + range.length - 1}/${meta.size}`;
  const status = range ? 206 : 200;
  if (c.req.method === "HEAD") {
    cancel(served.body);
    return c.body(null, status, all);
  }
  let body = served.body;
  if (range) {
    // A stream that is also filling L1 (a tee) must be read to its end: cancelling our branch
    // would cut the cache write short. An L1 hit's own stream can simply be cancelled.
    const drain = (rest: Promise<void>) => c.executionCtx.waitUntil(rest);
    body = body instanceof Uint8Array
      ? body.subarray(range.start, range.start + range.length)
      : slice(body, range.start, range.length, served.state === "L1-HIT" ? null : drain);
  }
  if (body instanceof ReadableStream && (served.state !== "L1-HIT" || range)) {
    // Streams relayed from the shield have no known length; a FixedLengthStream makes the
    // runtime send Content-Length instead of chunked encoding. Cache API bodies already carry
    // their length, and skipping the extra pipe serves 1 MB L1 hits ~20% faster.
    const fixed = new FixedLengthStream(range ? range.length : meta.size);
    c.executionCtx.waitUntil(body.pipeTo(fixed.writable).catch(() => {}));
    body = fixed.readable as ReadableStream<Uint8Array>;
  }
  // The runtime compresses any body sent with a Content-Encoding itself unless told these bytes
  // are coded already (`encodeBody: "manual"`); only our own coded renderings carry one.
  if (served.encoding) return new Response(body as BodyInit, { status, headers: all, encodeBody: "manual" });
  return c.body(body as ReadableStream, status, all);
}

/**
 * One `bytes=` range (first-last, first-, or -suffix). Anything else, including multiple
 * ranges, is ignored and answered in full, which RFC 9110 allows.
 */
export function parseRange(header: string | undefined, size: number): { start: number; length: number } | "unsatisfiable" | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { start: size - length, length };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || last < start) return "unsatisfiable";
  return { start, length: last - start + 1 };
}

/**
 * Bytes [start, start + length) of a stream. The rest of the source is cancelled, or, with
 * `drain`, read and dropped in the background.
 */
function slice(source: ReadableStream<Uint8Array>, start: number, length: number,
  drain: ((rest: Promise<void>) => void) | null): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let skip = start;
  let left = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        let chunk = value;
        if (skip > 0) {
          if (chunk.byteLength <= skip) {
            skip -= chunk.byteLength;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        if (chunk.byteLength >= left) {
          controller.enqueue(chunk.subarray(0, left));
          controller.close();
          if (drain) drain((async () => { while (!(await reader.read()).done); })().catch(() => {}));
          else await reader.cancel();
          return;
        }
        left -= chunk.byteLength;
        controller.enqueue(chunk);
        return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function cancel(body: Found["body"]): void {
  if (body instanceof ReadableStream) void body.cancel().catch(() => {});
}
