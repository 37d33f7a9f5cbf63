// Token secrets: generation, hashing and verification with a bounded in-isolate cache.
import { sha256Hex, toHex } from "../digest";
import { TokenStore, type TokenRecord } from "../origin";
import { RecentSet } from "../tiers/isolate-state";

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

/**
 * The SHA-256 of a presented secret, computed once per request: it is both what the admin
 * secret is compared against and (as hex) the key a token is looked up by.
 */
export class PresentedSecret {
  private constructor(readonly secret: string, readonly digest: ArrayBuffer) {}

  static async of(secret: string): Promise<PresentedSecret> {
    return new PresentedSecret(secret, await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  }

  /** Constant-time comparison with a configured secret, whose digest is kept per isolate. */
  async equals(configured: string): Promise<boolean> {
    return crypto.subtle.timingSafeEqual(this.digest, await configuredDigest(configured));
  }

  get hex(): string {
    return toHex(this.digest);
  }
}

// The admin and metrics secrets do not change while an isolate lives (a new secret is a new
// deployment), so each is hashed once; at most a few are ever configured.
const configured = new Map<string, Promise<ArrayBuffer>>();

function configuredDigest(secret: string): Promise<ArrayBuffer> {
  let digest = configured.get(secret);
  if (!digest) {
    if (configured.size >= 8) configured.clear();
    digest = crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
    configured.set(secret, digest);
  }
  return digest;
}

// Per isolate, bounded at 10,000 entries each (oldest forgotten first) and in time: a revoked
// token keeps working here for at most TOKEN_CACHE_SECONDS, plus KV's own edge cache (cacheTtl)
// and propagation; see README. Verified secrets are keyed by their hash; grants name the token
// they were minted from, and whether that token is still live is cached by id under the same
// bound, so a grant dies with its token.
const verified = new RecentSet<TokenRecord>(10_000, 0);
const liveIds = new RecentSet<TokenRecord>(10_000, 0);

/** A live record from `cache`, or from `load` (then cached for `cacheSeconds`); null once expired. */
async function lookupLive(cache: RecentSet<TokenRecord>, key: string, cacheSeconds: number,
  load: (cacheTtl: number | undefined) => Promise<TokenRecord | null>): Promise<TokenRecord | null> {
  const now = Date.now();
  let record = cache.get(key, now) ?? null;
  if (!record) {
    // KV's minimum edge cacheTtl is 30 s; with caching off (0) we always read through.
    record = await load(cacheSeconds > 0 ? Math.max(30, cacheSeconds) : undefined);
    if (record && cacheSeconds > 0) cache.set(key, record, now, cacheSeconds * 1000);
    else cache.delete(key);
  }
  if (record?.expiresAt && Date.parse(record.expiresAt) <= now) return null;
  return record;
}

/**
 * Finds the live record for a secret, or null for unknown, revoked or expired tokens. Takes the
 * request's PresentedSecret when the caller has one, so the secret is hashed only once.
 */
export async function verifyToken(store: TokenStore, secret: string | PresentedSecret, cacheSeconds: number): Promise<TokenRecord | null> {
  const plain = typeof secret === "string" ? secret : secret.secret;
  if (!looksLikeToken(plain)) return null;
  const hash = typeof secret === "string" ? await sha256Hex(secret) : secret.hex;
  return lookupLive(verified, hash, cacheSeconds, (ttl) => store.findByHash(hash, ttl));
}

/** The live record of the token with this id, or null once it is revoked or expired. */
export async function verifyTokenId(store: TokenStore, id: string, cacheSeconds: number): Promise<TokenRecord | null> {
  return lookupLive(liveIds, id, cacheSeconds, (ttl) => store.findById(id, ttl));
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
