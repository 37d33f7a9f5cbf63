// The one place routes ask "may this caller do this to this name?": 401 or 403 otherwise.
import type { Context } from "hono";
import { authorize } from "../shared/auth/permissions";
import { RegistryError } from "../shared/errors";
import type { Scope } from "../shared/origin";

export function requireAccess(c: Context, scope: Scope, name: string | null): void {
  if (c.get("badCredentials")) throw new RegistryError("UNAUTHORIZED", "invalid, expired or revoked token");
  const decision = authorize(c.get("principal"), scope, name, c.get("config").anonymousRead);
  if (decision === "unauthenticated") {
    throw new RegistryError("UNAUTHORIZED", scope === "read" ? "authentication required to read" : `authentication required to ${scope}`);
  }
  if (decision === "forbidden") {
    throw new RegistryError("FORBIDDEN", name ? `token may not ${scope} ${name}` : `token lacks the ${scope} scope`);
  }
}

/** True when the caller could read this without any token (decides public vs private caching). */
export function isPublicRead(c: Context): boolean {
  return c.get("config").anonymousRead;
}
