// Token secrets: generation, hashing and verification with a bounded in-isolate cache.
import { sha256Hex } from "../digest";
import { TokenStore, type TokenRecord } from "../origin";

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const TOKEN_PREFIX = "pke_";
const TOKEN_RE = /^pke_[A-Za-z0-9]{32,}$/;

/** `pke_` + 40 base62 characters from the CSPRNG (~238 bits), rejection-sampled so none is biased. */
export function generateToken(length = 40): string {
  let out = TOKEN_PREFIX;
  while (out.length < TOKEN_PREFIX.length + length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 248 && out.length < TOKEN_PREFIX.length + length) out += BASE62[b % 62];
    }
  }
  return out;
}

export function looksLikeToken(secret: string): boolean {
  return TOKEN_RE.test(secret);
}

/** Constant-time equality for secrets of any length (hashing first equalises the lengths). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s))));
  return crypto.subtle.timingSafeEqual(ha!, hb!);
}

interface CachedVerification {
  record: TokenRecord;
  until: number;
}

// Per isolate. Bounded in size and time: a revoked token keeps working here for at most
// TOKEN_CACHE_SECONDS, plus KV's own edge cache (cacheTtl) and propagation; see README.
const verified = new Map<string, CachedVerification>();
const MAX_CACHED = 10_000;

/** Finds the live record for a secret, or null for unknown, revoked or expired tokens. */
export async function verifyToken(store: TokenStore, secret: string, cacheSeconds: number): Promise<TokenRecord | null> {
  if (!looksLikeToken(secret)) return null;
  const hash = await sha256Hex(secret);
  const now = Date.now();
  const hit = verified.get(hash);
  let record: TokenRecord | null;
  if (hit && hit.until > now) {
    record = hit.record;
  } else {
    // KV's minimum edge cacheTtl is 30 s; with caching off (0) we always read through.
    record = await store.findByHash(hash, cacheSeconds > 0 ? Math.max(30, cacheSeconds) : undefined);
    if (record && cacheSeconds > 0) {
      if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
      verified.set(hash, { record, until: now + cacheSeconds * 1000 });
    } else {
      verified.delete(hash);
    }
  }
  if (record?.expiresAt && Date.parse(record.expiresAt) <= now) return null;
  return record;
}

// Grants name the token they were minted from; whether that token is still live is cached per
// isolate under the same bound as a secret's verification, so a grant dies with its token.
const liveIds = new Map<string, CachedVerification>();

/** The live record of the token with this id, or null once it is revoked or expired. */
export async function verifyTokenId(store: TokenStore, id: string, cacheSeconds: number): Promise<TokenRecord | null> {
  const now = Date.now();
  const hit = liveIds.get(id);
  let record: TokenRecord | null;
  if (hit && hit.until > now) {
    record = hit.record;
  } else {
    record = await store.findById(id, cacheSeconds > 0 ? Math.max(30, cacheSeconds) : undefined);
    if (record && cacheSeconds > 0) {
      if (liveIds.size >= MAX_CACHED) liveIds.delete(liveIds.keys().next().value!);
      liveIds.set(id, { record, until: now + cacheSeconds * 1000 });
    } else {
      liveIds.delete(id);
    }
  }
  if (record?.expiresAt && Date.parse(record.expiresAt) <= now) return null;
  return record;
}

/** Drops a token from this isolate's caches (called on revocation), by secret hash and by id. */
export function forgetToken(hash: string, id?: string): void {
  verified.delete(hash);
  if (id !== undefined) liveIds.delete(id);
}

/** What a new token may do: everything of its record but the id and creation time. */
export type TokenFields = Omit<TokenRecord, "id" | "createdAt">;

/** Mints a token: the secret is returned once and only its hash is stored. */
export async function issueToken(store: TokenStore, fields: TokenFields): Promise<{ record: TokenRecord; token: string }> {
  const token = generateToken();
  const record: TokenRecord = { id: crypto.randomUUID(), createdAt: new Date().toISOString(), ...fields };
  await store.put(await sha256Hex(token), record);
  return { record, token };
}

/** Revokes a token by id (at once in this isolate); false when there is no such token. */
export async function revokeToken(store: TokenStore, id: string): Promise<boolean> {
  const hash = await store.revoke(id);
  if (hash) forgetToken(hash, id);
  return hash !== null;
}
