// Resolves who is calling from the Authorization header (Bearer, or Basic with the token as the
// password, as twine and docker send it). It never rejects: routes decide with requireAccess().
import type { MiddlewareHandler } from "hono";
import { looksLikeGrant, verifyGrant } from "../../shared/auth/grants";
import { PresentedSecret, verifyToken, verifyTokenId } from "../../shared/auth/tokens";
import { TokenStore } from "../../shared/origin";

/**
 * The secret in an Authorization header: null when there is none (or another scheme), false
 * when a Bearer or Basic header is malformed (extra parts, bad base64, no password), which is
 * refused as bad credentials rather than quietly treated as anonymous.
 */
export function credentialsFrom(header: string | null | undefined): string | null | false {
  if (!header) return null;
  const parts = header.trim().split(/\s+/);
  const [scheme, value] = parts;
  const known = scheme !== undefined && /^(bearer|basic)$/i.test(scheme);
  if (!known) return null;
  if (parts.length !== 2 || !value) return false;
  if (/^bearer$/i.test(scheme!)) return value;
  try {
    const decoded = atob(value);
    const colon = decoded.indexOf(":");
    return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : false;
  } catch {
    return false;
  }
}

export function authenticate(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function authenticate(c, next) {
    c.set("principal", { kind: "anonymous" });
    c.set("badCredentials", false);
    const secret = credentialsFrom(c.req.header("authorization"));
    if (secret === false) c.set("badCredentials", true);
    if (secret) {
      const admin = c.env.PKGEDGE_ADMIN_TOKEN;
      // One SHA-256 per request: compared with the admin secret's (hashed once per isolate), and
      // the key a token is looked up by.
      const presented = await PresentedSecret.of(secret);
      if (admin && (await presented.equals(admin))) {
        c.set("principal", { kind: "admin" });
      } else if (looksLikeGrant(secret)) {
        // Grants are the OCI token flow's credential: npm and the admin API take pkgedge tokens
        // only. A grant minted from a token lives no longer than that token (revoked or expired).
        const grant = c.get("protocol") === "oci" ? await verifyGrant(c.env, secret) : null;
        const live = grant && (grant.tokenId === undefined ||
          (await verifyTokenId(new TokenStore(c.env.TOKENS), grant.tokenId, c.get("config").tokenCacheSeconds)) !== null);
        if (grant && live) c.set("principal", { kind: "grant", grant });
        else c.set("badCredentials", true);
      } else {
        const record = await verifyToken(new TokenStore(c.env.TOKENS), presented, c.get("config").tokenCacheSeconds);
        if (record) c.set("principal", { kind: "token", token: record });
        else c.set("badCredentials", true);
      }
    }
    await next();
  };
}
