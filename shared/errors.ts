// The one error type of pkgedge. Code below the protocol adapters throws it; each protocol
// sub-app formats it in its own wire format (npm JSON, the OCI envelope).
import { log } from "./log";

export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "NOT_ACCEPTABLE"
  | "CONFLICT"
  | "TOO_LARGE"
  | "URI_TOO_LONG"
  | "HEADERS_TOO_LARGE"
  | "RANGE_NOT_SATISFIABLE"
  | "UNPROCESSABLE"
  | "INTEGRITY_MISMATCH"
  | "RATE_LIMITED"
  | "ORIGIN_UNAVAILABLE"
  | "INTERNAL";

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  // RFC 9110 section 15.5.7: PEP 691 content negotiation that finds no format the client takes.
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  TOO_LARGE: 413,
  // RFC 9110 section 15.5.15 and RFC 6585 section 5: what the request filter answers.
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  RANGE_NOT_SATISFIABLE: 416,
  UNPROCESSABLE: 422,
  INTEGRITY_MISMATCH: 422,
  RATE_LIMITED: 429,
  ORIGIN_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface RegistryErrorOptions {
  detail?: unknown;
  retryAfter?: number;
  cause?: unknown;
  /** The code in the protocol's own vocabulary when it says more (OCI's BLOB_UNKNOWN, say). */
  protocolCode?: string;
  /** Response headers the error needs (RateLimit fields, an auth challenge). */
  headers?: Record<string, string>;
}

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  readonly retryAfter?: number;
  readonly protocolCode?: string;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "RegistryError";
    this.code = code;
    this.status = STATUS[code];
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
    this.protocolCode = options.protocolCode;
    this.headers = options.headers;
  }
}

export const badRequest = (message: string, detail?: unknown) =>
  new RegistryError("BAD_REQUEST", message, { detail });
export const notFound = (message = "not found", options?: RegistryErrorOptions) => new RegistryError("NOT_FOUND", message, options);
export const forbidden = (message: string) => new RegistryError("FORBIDDEN", message);
export const unauthorized = (message = "authentication required") =>
  new RegistryError("UNAUTHORIZED", message);
export const conflict = (message: string) => new RegistryError("CONFLICT", message);

/** Normalises anything thrown into a RegistryError; unknown errors become a 500 without internals. */
export function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  // Errors can lose their prototype when they cross a Durable Object RPC boundary.
  if (err instanceof Error && err.name === "RegistryError" && "code" in err) {
    const e = err as Error & { code: ErrorCode } & RegistryErrorOptions;
    if (e.code in STATUS) {
      return new RegistryError(e.code, e.message, { detail: e.detail, retryAfter: e.retryAfter, protocolCode: e.protocolCode, headers: e.headers });
    }
  }
  log.error("unexpected error", { error: err });
  return new RegistryError("INTERNAL", "internal error");
}
