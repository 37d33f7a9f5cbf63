// Errors in the wire format of the protocol the request was for, including errors thrown by
// middleware before any protocol router ran (authentication, rate limits, the request filter).
import type { Context } from "hono";
import { toRegistryError } from "../shared/errors";
import { formatOciError } from "./oci/errors";
import { pypiError } from "./pypi/errors";

export type Protocol = "npm" | "oci" | "pypi" | "admin" | "other";

export function protocolOf(path: string): Protocol {
  if (path === "/npm" || path.startsWith("/npm/")) return "npm";
  if (path === "/v2" || path.startsWith("/v2/")) return "oci";
  if (path === "/pypi" || path.startsWith("/pypi/")) return "pypi";
  if (path.startsWith("/_/")) return "admin";
  return "other";
}

/** JSON `{"error": ...}`: npm's and the admin API's format, and the fallback for unknown paths. */
export function jsonError(err: unknown, c: Context): Response {
  const e = toRegistryError(err);
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store", ...e.headers };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  // RFC 9110 section 15.5.2: a 401 must carry a challenge saying how to authenticate.
  if (e.status === 401 && !headers["www-authenticate"]) headers["www-authenticate"] = 'Bearer realm="pkgedge"';
  return c.body(JSON.stringify({ error: e.message }), e.status as 400, headers);
}

export function errorResponse(err: unknown, c: Context): Response {
  switch (c.get("protocol") as Protocol | undefined) {
    case "oci":
      return formatOciError(err, c);
    case "pypi":
      return pypiError(err, c);
    default:
      return jsonError(err, c);
  }
}
