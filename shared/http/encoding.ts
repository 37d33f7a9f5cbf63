// Content codings of stored renderings (RFC 9110 section 8.4): which of ours a client accepts,
// making them, and the ETag of each. Only gzip: the runtime's CompressionStream has no brotli
// (workerd accepts gzip, deflate and deflate-raw), and gzip is what every package client
// (npm, pnpm, yarn, pip) accepts. Under workerd a Worker sees every request as accepting
// "br, gzip" whatever the client sent, and the runtime re-codes the response for the client: a
// stored gzip body goes to gzip clients as is (no compression per request, which the runtime
// otherwise does for them), and is decoded by the runtime for the rare client that refuses it.
export type Encoding = "gzip";

/** The codings we store, best first. */
export const ENCODINGS: readonly Encoding[] = ["gzip"];

/** The codings of ours an Accept-Encoding header accepts (a q-value of 0 refuses one). */
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

/** `bytes` in one coding (made once per L1 fill, after the response). */
export async function encode(bytes: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
  const coded = new Blob([bytes]).stream().pipeThrough(new CompressionStream(encoding));
  return new Uint8Array(await new Response(coded).arrayBuffer());
}
