// Resolves who is calling from the Authorization header (Bearer, or Basic with the token as the
// password, as twine and docker send it). It never rejects: routes decide with requireAccess().
import type { MiddlewareHandler } from "hono";
import { looksLikeGrant, verifyGrant } from "../../shared/auth/grants";
import { secretsEqual, verifyToken } from "../../shared/auth/tokens";
import { TokenStore } from "../../shared/origin";

export function credentialsFrom(header: string | null | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    try {
      const decoded = atob(value.trim());
      const colon = decoded.indexOf(":");
      return colon >= 0 ? decoded.slice(colon + 1) : null;
    } catch {
      return null;
    }
  }
  return null;
}

export function authenticate(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function authenticate(c, next) {
    c.set("principal", { kind: "anonymous" });
    c.set("badCredentials", false);
    const secret = credentialsFrom(c.req.header("authorization"));
    if (secret) {
      const admin = c.env.PKGEDGE_ADMIN_TOKEN;
      if (admin && (await secretsEqual(secret, admin))) {
        c.set("principal", { kind: "admin" });
      } else if (looksLikeGrant(secret)) {
        const grant = await verifyGrant(c.env, secret);
        if (grant) c.set("principal", { kind: "grant", grant });
        else c.set("badCredentials", true);
      } else {
        const record = await verifyToken(new TokenStore(c.env.TOKENS), secret, c.get("config").tokenCacheSeconds);
        if (record) c.set("principal", { kind: "token", token: record });
        else c.set("badCredentials", true);
      }
    }
    await next();
  };
}
