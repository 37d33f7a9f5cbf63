// pkgedge tokens for tests, created and revoked through the admin API as an operator would.
import type { Scope } from "../../shared/origin";
import { worker, type Fetch } from "./worker";

/** The admin secret vitest.config.ts binds as PKGEDGE_ADMIN_TOKEN. */
export const ADMIN_SECRET = "test-admin-secret";

export interface TokenSpec {
  name?: string;
  scopes: Scope[];
  packages?: string[];
  /** Seconds until the token expires. */
  expiresIn?: number;
}

export interface CreatedToken {
  id: string;
  token: string;
}

export const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

/** POST /_/tokens with the admin secret; throws unless the token was created. */
export async function createToken(spec: TokenSpec, fetch: Fetch = worker): Promise<CreatedToken> {
  const res = await fetch("/_/tokens", {
    method: "POST",
    headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" },
    body: JSON.stringify({ name: "test", ...spec }),
  });
  if (res.status !== 201) throw new Error(`creating a token failed: ${res.status} ${await res.text()}`);
  return res.json<CreatedToken>();
}

/** DELETE /_/tokens/:id with the admin secret; throws unless the token was revoked. */
export async function revokeToken(id: string, fetch: Fetch = worker): Promise<void> {
  const res = await fetch(`/_/tokens/${id}`, { method: "DELETE", headers: bearer(ADMIN_SECRET) });
  if (res.status !== 200) throw new Error(`revoking token ${id} failed: ${res.status} ${await res.text()}`);
}
