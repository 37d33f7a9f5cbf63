// Per-request helpers shared by the OCI route modules: the validated repository name, the
// stores, and invalidation of what a write changed.
import type { Context } from "hono";
import { ObjectStore } from "../../shared/origin";
import { requireRepositoryAccess, type OciAction } from "./auth";
import { parseRepositoryName } from "./names";
import { RepositoryStore } from "./storage";

/** The route's repository, validated, once the caller may do `action` to it. */
export function authorizedRepository(c: Context, action: OciAction): string {
  const name = parseRepositoryName(c.req.param("name") ?? "");
  requireRepositoryAccess(c, name, action);
  return name;
}

export const objectStore = (c: Context) => new ObjectStore(c.env.BLOBS);
export const repositories = (c: Context) => new RepositoryStore(objectStore(c));

/** Forgets cache keys in every region's shield and in L1 (they are the same keys at both tiers). */
export function invalidate(c: Context, keys: string[]): Promise<void> {
  return keys.length ? c.get("tiers").invalidate(keys, keys) : Promise.resolve();
}
