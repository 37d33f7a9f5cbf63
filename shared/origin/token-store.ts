// Token records in KV, keyed by the SHA-256 of the secret: the secret itself is never stored.
// The only module that touches the TOKENS namespace.

export type Scope = "read" | "publish" | "admin";

export interface TokenRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** Name patterns (`@acme/*`, `left-pad`) the token is limited to; absent means every name. */
  packages?: string[];
  createdAt: string;
  expiresAt?: string;
  /** The token that created this one (`npm login`, `npm token create`): it may list and revoke it. */
  parent?: string;
}

const byHash = (hash: string) => `token:${hash}`;
const byId = (id: string) => `token-id:${id}`;

export class TokenStore {
  constructor(private readonly kv: KVNamespace) {}

  async put(hash: string, record: TokenRecord): Promise<void> {
    const expiration = record.expiresAt ? Math.floor(Date.parse(record.expiresAt) / 1000) + 60 : undefined;
    const options = expiration ? { expiration } : {};
    // Write the id index first: a token is only usable once its hash record exists.
    await this.kv.put(byId(record.id), JSON.stringify({ ...record, hash }), options);
    await this.kv.put(byHash(hash), JSON.stringify(record), options);
  }

  /** Looks a token up by hash; `cacheTtl` lets KV keep it at the edge (bounded revocation lag). */
  async findByHash(hash: string, cacheTtl?: number): Promise<TokenRecord | null> {
    return this.kv.get<TokenRecord>(byHash(hash), { type: "json", ...(cacheTtl ? { cacheTtl } : {}) });
  }

  /** Looks a token up by id (how a grant finds the token it was minted from). */
  async findById(id: string, cacheTtl?: number): Promise<TokenRecord | null> {
    const entry = await this.kv.get<TokenRecord & { hash: string }>(byId(id), { type: "json", ...(cacheTtl ? { cacheTtl } : {}) });
    if (!entry) return null;
    const { hash: _hash, ...record } = entry;
    return record;
  }

  async list(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list({ prefix: "token-id:", cursor });
      const records = await Promise.all(page.keys.map((k) => this.kv.get<TokenRecord & { hash: string }>(k.name, "json")));
      for (const r of records) {
        if (!r) continue;
        const { hash: _hash, ...record } = r;
        out.push(record);
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return out;
  }

  /** Deletes a token; returns the hash it had so callers can drop cached verifications. */
  async revoke(id: string): Promise<string | null> {
    const entry = await this.kv.get<{ hash: string }>(byId(id), "json");
    if (!entry) return null;
    await this.kv.delete(byHash(entry.hash));
    await this.kv.delete(byId(id));
    return entry.hash;
  }
}
