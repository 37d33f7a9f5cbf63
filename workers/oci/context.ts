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

/**
 * A change to these cache keys: applied in this region now, in every other via the queue (or,
 * for a removal, in every region now).
 */
export function invalidate(c: Context, keys: string[], opts: { removal?: boolean } = {}): Promise<void> {
  return keys.length ? c.get("tiers").publish({ keys, ...opts }) : Promise.resolve();
}

/** Purge tag of a repository (`/_/purge` with tags: ["oci:team/app"]). */
export const purgeTags = (name: string) => [`oci:${name}`];
