// PyPI's error answers: plain text for the upload API (twine prints the status line and the
// body; it matches "File already exists" for --skip-existing), a small HTML status page for the
// Simple API (what pip shows). The reason phrase carries the message too, as PyPI's does,
// for clients that print only the status line (HTTP/2 has none; the body still says it).
import type { Context } from "hono";
import { toRegistryError } from "../../shared/errors";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const REASONS: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large", 414: "URI Too Long", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
};

/** The upload API: PyPI answers 403 to a missing, bad or insufficient token alike, never a challenge. */
export const isUploadRequest = (c: Context) => c.req.method === "POST";

export function pypiError(err: unknown, c: Context): Response {
  const e = toRegistryError(err);
  const upload = isUploadRequest(c);
  const status = upload && e.status === 401 ? 403 : e.status;
  const headers: Record<string, string> = { "cache-control": "no-store", ...e.headers };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  // pip retries with the credentials it knows (netrc, keyring, the index URL) after a Basic challenge.
  if (status === 401) headers["www-authenticate"] = 'Basic realm="pkgedge"';
  // A reason phrase must be printable ASCII on one line.
  const phrase = e.message.replace(/[^\x20-\x7e]/g, "?").slice(0, 300);
  const reason = status >= 500 ? REASONS[status] ?? "Error" : phrase || REASONS[status] || "Error";
  let body: string;
  if (upload || c.req.method === "HEAD") {
    headers["content-type"] = "text/plain; charset=utf-8";
    body = `${status} ${REASONS[status] ?? "Error"}\n\n${e.message}\n`;
  } else {
    headers["content-type"] = "text/html; charset=utf-8";
    const title = `${status} ${REASONS[status] ?? "Error"}`;
    body = `<!DOCTYPE html>\n<html>\n  <head><title>${title}</title></head>\n  <body>\n    <h1>${title}</h1>\n    <p>${escapeHtml(e.message)}</p>\n  </body>\n</html>\n`;
  }
  return new Response(c.req.method === "HEAD" ? null : body, { status, statusText: reason, headers });
}
