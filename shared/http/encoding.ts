// Content codings of stored renderings (RFC 9110 section 8.4): which of ours a client accepts,
// making them, and the ETag of each. The runtime's CompressionStream has no brotli (workerd
// accepts only gzip and deflate), so both come from node:zlib under nodejs_compat.
import { brotliCompress, constants, gzip } from "node:zlib";

export type Encoding = "br" | "gzip";

/** The codings we store, best first: brotli is ~15% smaller than gzip on packument JSON. */
export const ENCODINGS: readonly Encoding[] = ["br", "gzip"];

/**
 * The codings of ours an Accept-Encoding header accepts, in our order of preference (a client's
 * q-values only rule one out when 0: both codings are cheap for every client to decode).
 */
export function acceptedEncodings(header: string | undefined | null): Encoding[] {
  if (!header) return [];
  const q = new Map<string, number>();
  for (const part of header.toLowerCase().split(",")) {
    const [coding, ...params] = part.trim().split(";");
    if (!coding) continue;
    const qv = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    q.set(coding.trim(), qv === undefined ? 1 : Number(qv));
  }
  const wildcard = q.get("*");
  return ENCODINGS.filter((e) => (q.get(e) ?? wildcard ?? 0) > 0);
}

/** The representation's own ETag: a strong validator names one coding's bytes (RFC 9110 section 8.8.3). */
export function encodedEtag(etag: string, encoding: Encoding): string {
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${encoding}"` : `${etag}-${encoding}`;
}

// Brotli quality 5 compresses a 5.6 MB packument in tens of ms; 11 (the default) takes seconds.
const BROTLI_QUALITY = 5;

/** `bytes` in one coding (made once per L1 fill, off the response path). */
export function encode(bytes: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Uint8Array) => (err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)));
    if (encoding === "gzip") gzip(bytes, done);
    else brotliCompress(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }, done);
  });
}
