// The OCI error envelope (distribution-spec "Error Codes"): {"errors":[{code,message,detail}]},
// using only the spec's codes. Clients (docker, skopeo) print `code: message`.
import type { Context } from "hono";
import { RegistryError, toRegistryError, type ErrorCode } from "../../shared/errors";

export type OciCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS";

// The generic code that carries each OCI code's HTTP status.
const GENERIC: Record<OciCode, ErrorCode> = {
  BLOB_UNKNOWN: "NOT_FOUND",
  BLOB_UPLOAD_INVALID: "BAD_REQUEST",
  BLOB_UPLOAD_UNKNOWN: "NOT_FOUND",
  DIGEST_INVALID: "BAD_REQUEST",
  MANIFEST_BLOB_UNKNOWN: "BAD_REQUEST",
  MANIFEST_INVALID: "BAD_REQUEST",
  MANIFEST_UNKNOWN: "NOT_FOUND",
  NAME_INVALID: "BAD_REQUEST",
  NAME_UNKNOWN: "NOT_FOUND",
  SIZE_INVALID: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  DENIED: "FORBIDDEN",
  UNSUPPORTED: "METHOD_NOT_ALLOWED",
  TOOMANYREQUESTS: "RATE_LIMITED",
};

// Errors raised below the adapter speak the generic vocabulary; this is their OCI reading.
// The spec has no code for server-side failures, so 5xx answers say UNSUPPORTED with a message.
const FROM_GENERIC: Record<ErrorCode, OciCode> = {
  BAD_REQUEST: "UNSUPPORTED",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "DENIED",
  NOT_FOUND: "NAME_UNKNOWN",
  METHOD_NOT_ALLOWED: "UNSUPPORTED",
  NOT_ACCEPTABLE: "UNSUPPORTED",
  CONFLICT: "DENIED",
  TOO_LARGE: "SIZE_INVALID",
  URI_TOO_LONG: "UNSUPPORTED",
  HEADERS_TOO_LARGE: "UNSUPPORTED",
  RANGE_NOT_SATISFIABLE: "BLOB_UPLOAD_INVALID",
  UNPROCESSABLE: "MANIFEST_INVALID",
  INTEGRITY_MISMATCH: "DIGEST_INVALID",
  RATE_LIMITED: "TOOMANYREQUESTS",
  ORIGIN_UNAVAILABLE: "UNSUPPORTED",
  INTERNAL: "UNSUPPORTED",
};

export function ociError(code: OciCode, message: string, opts: { detail?: unknown; status?: ErrorCode; headers?: Record<string, string> } = {}): RegistryError {
  return new RegistryError(opts.status ?? GENERIC[code], message, { protocolCode: code, detail: opts.detail, headers: opts.headers });
}

/** The realm clients are sent to for a bearer token (see the token endpoint in ./auth.ts). */
export function challenge(origin: string, scope?: string): string {
  return `Bearer realm="${origin}/v2/token",service="pkgedge"${scope ? `,scope="${scope}"` : ""}`;
}

export function formatOciError(err: unknown, c: Context): Response {
  const e = toRegistryError(err);
  const code = (e.protocolCode as OciCode | undefined) ?? FROM_GENERIC[e.code];
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "docker-distribution-api-version": "registry/2.0",
    ...e.headers,
  };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  if (e.status === 401 && !headers["www-authenticate"]) headers["www-authenticate"] = challenge(new URL(c.req.url).origin);
  const body = { errors: [{ code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) }] };
  // HEAD answers carry no body (RFC 9110 section 9.3.2); the status and headers still tell.
  if (c.req.method === "HEAD") return c.body(null, e.status as 400, headers);
  return c.body(JSON.stringify(body), e.status as 400, headers);
}
