// The request filter: runs before authentication and routing and refuses what no route should
// see — methods a protocol does not use, oversize URLs and header blocks, path traversal and
// encoded-slash tricks, and a Content-Length that is not a number. Body limits belong to their
// routes (workers/middleware/body-limit.ts, registered in each protocol's router).
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../../shared/config";
import { RegistryError } from "../../shared/errors";
import { rawPathOf } from "../../shared/http/url";
import type { Protocol } from "../errors";

// Methods each protocol's clients send. OCI needs PATCH for chunked uploads (end-5); npm POSTs
// only to its audit endpoint.
const METHODS: Record<Protocol, readonly string[]> = {
  npm: ["GET", "HEAD", "PUT", "DELETE", "POST"],
  oci: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  // pip reads; twine POSTs its upload form.
  pypi: ["GET", "HEAD", "POST"],
  admin: ["GET", "HEAD", "POST", "DELETE"],
  other: ["GET", "HEAD"],
};

// One npm path segment that is `@scope%2fname` (npm's own escaping of a scoped name): exactly
// one encoded slash after a non-empty scope. The name's characters are left to
// validate-npm-package-name, whose message says what is wrong with them.
const NPM_SCOPED_SEGMENT = /^@(?:(?!%2f).)+%2f(?:(?!%2f).)+$/i;
// `%25` is an escaped `%`: a second decoding could turn `%252f` into `/` or `%252e%252e` into
// `..`. No name in any protocol we serve contains `%`, so the whole sequence is refused.
const DOUBLE_ENCODED = /%25/i;
// Backslash (`%5c`) is a separator on some back ends; C0 controls, DEL and NUL end strings early.
const HOSTILE_ESCAPE = /%(?:5c|[01][0-9a-f]|7f)/i;
const LITERAL_DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Sum of the header block as it travels: `name: value\r\n` per field. */
export function headerBytes(headers: Headers): number {
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length + 4;
  return total;
}

/**
 * Why this (still percent-encoded) path is refused, or null when it is acceptable. The URL
 * parser has already resolved literal `.`/`..` segments and `%2e%2e`, and turned `\` into `/`;
 * what reaches us are their escaped and double-escaped forms.
 */
export function pathProblem(protocol: Protocol, rawPath: string): string | null {
  // Fast path: every refusal below needs an escape or a dot segment. Without a `%`, the parser
  // has already turned `\` into `/` and escaped controls; it also resolves literal dot segments,
  // which are still checked here (cheaply) for callers that hand over a path it never parsed.
  if (!rawPath.includes("%") && !LITERAL_DOT_SEGMENT.test(rawPath)) return null;
  if (DOUBLE_ENCODED.test(rawPath)) return "double percent-encoding (%25) in the path";
  if (HOSTILE_ESCAPE.test(rawPath)) return "an encoded backslash or control character in the path";
  for (const segment of rawPath.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return "malformed percent-encoding in the path";
    }
    if (decoded === "." || decoded === "..") return "a dot segment in the path";
    // Raw controls cannot survive URL parsing, but a decoded one can; the check above covers
    // escapes, this covers anything a caller managed to pass unescaped.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return "a backslash or control character in the path";
    if (/%2f/i.test(segment)) {
      // npm sends `@scope%2fname` as one segment; anywhere else an encoded slash would let a
      // name span path segments the router did not see.
      if (protocol !== "npm" || !NPM_SCOPED_SEGMENT.test(segment)) return "an encoded slash (%2F) in the path";
      if (decoded.split("/").some((part) => part === "." || part === ".." || part === "@.." || part === "@.")) return "a dot segment in a scoped name";
    }
  }
  return null;
}

function reject(code: "BAD_REQUEST" | "METHOD_NOT_ALLOWED" | "URI_TOO_LONG" | "HEADERS_TOO_LARGE", message: string, protocol: Protocol, headers?: Record<string, string>): RegistryError {
  // OCI clients print the spec's code: a bad path is a bad repository name.
  const protocolCode = protocol !== "oci" ? undefined : code === "BAD_REQUEST" ? "NAME_INVALID" : "UNSUPPORTED";
  return new RegistryError(code, message, { ...(protocolCode ? { protocolCode } : {}), ...(headers ? { headers } : {}) });
}

/** Throws the RegistryError a request deserves, or returns when it may proceed. */
export function checkRequest(c: Context, protocol: Protocol, config: Config): void {
  const request = c.req.raw;
  const method = request.method.toUpperCase();
  if (request.url.length > config.maxUrlLength) {
    throw reject("URI_TOO_LONG", `the URL is ${request.url.length} characters long; the limit is ${config.maxUrlLength}`, protocol);
  }
  const size = headerBytes(request.headers);
  if (size > config.maxHeaderBytes) {
    throw reject("HEADERS_TOO_LARGE", `the request headers take ${size} bytes; the limit is ${config.maxHeaderBytes}`, protocol);
  }
  const allowed = METHODS[protocol];
  if (!allowed.includes(method)) {
    // RFC 9110 section 15.5.6: a 405 names the methods the target does support.
    throw reject("METHOD_NOT_ALLOWED", `method ${method} is not allowed here`, protocol, { allow: allowed.join(", ") });
  }
  const rawPath = rawPathOf(request.url);
  const problem = pathProblem(protocol, rawPath);
  if (problem) throw reject("BAD_REQUEST", `refused: ${problem}`, protocol);

  const declared = request.headers.get("content-length");
  if (declared !== null && !/^\d{1,16}$/.test(declared.trim())) throw reject("BAD_REQUEST", "Content-Length must be a decimal number of bytes", protocol);
}

export function requestFilter(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function requestFilter(c, next) {
    checkRequest(c, c.get("protocol"), c.get("config"));
    await next();
  };
}
