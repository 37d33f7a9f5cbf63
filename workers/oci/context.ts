// Per-request helpers shared by the OCI route modules: the validated repository name and the
// stores.
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

