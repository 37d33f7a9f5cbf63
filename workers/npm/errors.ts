// npm clients print the `error` field of a JSON body; 429s also carry Retry-After.
import type { Context } from "hono";
import { toRegistryError } from "../../shared/errors";

export function npmError(err: unknown, c: Context): Response {
  const e = toRegistryError(err);
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store", ...e.headers };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  if (e.status === 401 && !headers["www-authenticate"]) headers["www-authenticate"] = 'Bearer realm="pkgedge"';
  return c.body(JSON.stringify({ error: e.message }), e.status as 400, headers);
}
