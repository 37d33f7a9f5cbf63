// Parsers for what OCI clients put in URLs and headers: repository names, digests, references
// and Content-Range. Each rejects with the distribution spec's own error code.
import { ociError } from "./errors";

// distribution-spec "Pulling manifests": <name> grammar, path components joined by "/".
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// Only sha256 is accepted: it is what every client computes, and R2 can verify it on write.
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Many clients cap host + "/" + name at 255 characters; the name alone can be no longer.
const MAX_NAME = 255;

export interface Digest {
  algorithm: "sha256";
  hex: string;
  /** `sha256:<hex>` */
  digest: string;
}

export type Reference = { kind: "tag"; tag: string } | { kind: "digest"; digest: Digest };

export function parseRepositoryName(name: string): string {
  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw ociError("NAME_INVALID", `invalid repository name "${name.slice(0, MAX_NAME)}"`);
  }
  return name;
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function parseDigest(value: string | undefined | null): Digest {
  if (!value || !DIGEST.test(value)) {
    throw ociError("DIGEST_INVALID", `invalid digest "${String(value ?? "").slice(0, 140)}": pkgedge accepts sha256:<64 lowercase hex>`);
  }
  return { algorithm: "sha256", hex: value.slice(7), digest: value };
}

export function parseReference(value: string): Reference {
  if (value.includes(":")) return { kind: "digest", digest: parseDigest(value) };
  if (!TAG.test(value)) throw ociError("MANIFEST_INVALID", `invalid tag "${value.slice(0, 140)}"`);
  return { kind: "tag", tag: value };
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** `Content-Range: <start>-<end>` of a chunk upload (end-5): inclusive offsets, no unit. */
export function parseContentRange(header: string): { start: number; end: number } {
  const m = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || start > end) {
    throw ociError("BLOB_UPLOAD_INVALID", `invalid Content-Range "${header.slice(0, 100)}": expected <start>-<end>`, { status: "RANGE_NOT_SATISFIABLE" });
  }
  return { start, end };
}
