// Bytes as lowercase hex, and SHA-256 as hex: the one encoder for token hashes, OCI digests,
// npm shasums and revisions, grant keys and rate-limit shard names.
import { Buffer } from "node:buffer";

/** Lowercase hex of the bytes (Node's Buffer encoder, available under `nodejs_compat`). */
export function toHex(bytes: ArrayBuffer | ArrayBufferView): string {
  const view = ArrayBuffer.isView(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
  return view.toString("hex");
}

/** SHA-256 of a string (as UTF-8) or of bytes, as 64 lowercase hex characters. */
export async function sha256Hex(data: string | ArrayBuffer | ArrayBufferView): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}
