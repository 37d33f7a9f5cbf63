// Short-lived signed grants: what the OCI token endpoint hands out (docker's token auth flow).
// A grant names the repositories and actions it allows and carries a snapshot of the issuing
// token's scopes, so a request holding one needs no KV lookup. Signed with HMAC-SHA256 (hono's
// JWT helpers over WebCrypto) under a key derived from the deployment's secret.
import { sign, verify } from "hono/jwt";
import { toHex } from "../digest";
import { RegistryError } from "../errors";
import type { Scope } from "../origin";

export type Action = "pull" | "push" | "delete" | "*";

export interface Grant {
  /** Who it was issued to (token name, "admin" or "anonymous"). */
  subject: string;
  /** The pkgedge token it was issued for, when there was one (audit trail). */
  tokenId?: string;
  scopes: Scope[];
  packages?: string[];
  /** Repository name -> allowed actions. */
  access: Record<string, Action[]>;
  expiresAt: number;
}

const ISSUER = "pkgedge";
const keys = new Map<string, Promise<string>>();

/** The signing key: PKGEDGE_SIGNING_KEY when set, else derived (HKDF) from the admin secret. */
function signingKey(env: Cloudflare.Env): Promise<string> {
  const secret = env.PKGEDGE_SIGNING_KEY || env.PKGEDGE_ADMIN_TOKEN;
  if (!secret) throw new RegistryError("ORIGIN_UNAVAILABLE", "token signing is not configured: set PKGEDGE_ADMIN_TOKEN or PKGEDGE_SIGNING_KEY");
  let key = keys.get(secret);
  if (!key) {
    key = deriveKey(secret);
    keys.set(secret, key);
  }
  return key;
}

async function deriveKey(secret: string): Promise<string> {
  const enc = new TextEncoder();
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc.encode("pkgedge"), info: enc.encode("grant-signing-v1") }, base, 256);
  return toHex(bits);
}

export async function issueGrant(env: Cloudflare.Env, grant: Omit<Grant, "expiresAt">, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const token = await sign({
    iss: ISSUER,
    aud: ISSUER,
    sub: grant.subject,
    iat,
    exp,
    ...(grant.tokenId ? { tid: grant.tokenId } : {}),
    scp: grant.scopes,
    ...(grant.packages ? { pkg: grant.packages } : {}),
    access: Object.entries(grant.access).map(([name, actions]) => ({ type: "repository", name, actions })),
  }, await signingKey(env), "HS256");
  return { token, expiresAt: exp * 1000 };
}

export function looksLikeGrant(secret: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(secret);
}

/** The grant a token carries, or null when it is forged, altered or expired. */
export async function verifyGrant(env: Cloudflare.Env, token: string): Promise<Grant | null> {
  try {
    const claims = await verify(token, await signingKey(env), { alg: "HS256", iss: ISSUER, aud: ISSUER });
    // Null prototype: a repository may be called `constructor` or `__proto__`.
    const access: Record<string, Action[]> = Object.create(null);
    for (const entry of (claims.access as Array<{ name: string; actions: Action[] }> | undefined) ?? []) access[entry.name] = entry.actions;
    return {
      subject: String(claims.sub),
      ...(claims.tid ? { tokenId: String(claims.tid) } : {}),
      scopes: (claims.scp as Scope[] | undefined) ?? [],
      ...(claims.pkg ? { packages: claims.pkg as string[] } : {}),
      access,
      expiresAt: Number(claims.exp) * 1000,
    };
  } catch {
    return null;
  }
}
