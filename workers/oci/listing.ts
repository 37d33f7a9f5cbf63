// Listings: tags (end-8a/8b), the catalog, and referrers (end-12a/12b). Read straight from the
// origin: they are small, rarely asked for, and must reflect pushes at once.
import type { Context } from "hono";
import { canList } from "./auth";
import { authorizedRepository, repositories } from "./context";
import { ociError } from "./errors";
import { OCI_INDEX } from "./manifest";
import { isTag, parseDigest, parseRepositoryName } from "./names";

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

/** `n` from the query: a page size, or the default when absent or not a number. */
function pageSize(c: Context): number {
  const n = Number(c.req.query("n"));
  return Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_PAGE) : DEFAULT_PAGE;
}

/** RFC 8288 Link to the next page, as the distribution spec asks for paginated listings. */
function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export async function listTags(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "pull");
  const n = pageSize(c);
  const last = c.req.query("last");
  const repos = repositories(c);
  if (!(await repos.repositoryExists(name))) throw ociError("NAME_UNKNOWN", `repository ${name} not found`, { detail: { name } });
  const { tags, more } = n === 0 ? { tags: [], more: false } : await repos.listTags(name, n, last && isTag(last) ? last : undefined);
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (more && tags.length > 0) headers.link = nextLink(`/v2/${name}/tags/list`, n, tags[tags.length - 1]!);
  return c.json({ name, tags }, 200, headers);
}

export async function catalog(c: Context): Promise<Response> {
  const n = pageSize(c);
  const lastParam = c.req.query("last");
  const last = lastParam ? parseRepositoryName(lastParam) : undefined;
  const { names, more } = n === 0 ? { names: [], more: false } : await repositories(c).listRepositories(n, last, (name) => canList(c, name));
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (more && names.length > 0) headers.link = nextLink("/v2/_catalog", n, names[names.length - 1]!);
  return c.json({ repositories: names }, 200, headers);
}

export async function referrers(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "pull");
  const { digest } = parseDigest(c.req.param("digest"));
  const artifactType = c.req.query("artifactType");
  let manifests = await repositories(c).referrers(name, digest);
  const headers: Record<string, string> = { "content-type": OCI_INDEX, "cache-control": "no-store" };
  if (artifactType !== undefined) {
    manifests = manifests.filter((m) => m.artifactType === artifactType);
    headers["oci-filters-applied"] = "artifactType";
  }
  manifests.sort((a, b) => a.digest.localeCompare(b.digest));
  return c.body(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), 200, headers);
}
