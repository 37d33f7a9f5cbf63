// Per-request helpers shared by the OCI route modules: the validated repository name and the
// stores.
import type { Context } from "hono";
import { ObjectStore } from "../../shared/origin";
import { requireRepositoryAccess, type OciAction } from "./auth";
import { parseRepositoryName } from "./names";
import { RepositoryStore } from "./storage";

/**
 * The route's repository, validated, once the caller may do `action` to it. containerd, used as
 * a mirror, names the registry it means in `?ns=` (`ns=docker.io`): when OCI_UPSTREAMS has that
 * prefix, the request is for `<ns>/<name>`, as if the client had put the prefix in the path.
 */
export function authorizedRepository(c: Context, action: OciAction): string {
  const ns = c.req.query("ns");
  const raw = c.req.param("name") ?? "";
  const prefixed = ns && Object.hasOwn(c.get("config").upstream.ociPrefixes, ns) && !raw.startsWith(`${ns}/`) ? `${ns}/${raw}` : raw;
  const name = parseRepositoryName(prefixed);
  requireRepositoryAccess(c, name, action);
  return name;
}

export const objectStore = (c: Context) => new ObjectStore(c.env.BLOBS);
export const repositories = (c: Context) => new RepositoryStore(objectStore(c));

