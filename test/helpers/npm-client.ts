// A small npm client for tests: the requests npm 10/11 (libnpmpublish, npm-registry-fetch) send,
// against any Fetch (the real entry point, or the app with other wrangler vars).
import semver from "semver";
import { baseName } from "../../workers/npm/names";
import type { Packument } from "../../workers/npm/packument";
import { publishBody, type BodyOptions } from "./npm-body";
import { worker, type Fetch } from "./worker";

/** `@scope/name` as npm puts it in a URL path: one segment, `@scope%2Fname`. */
export function escapedName(name: string): string {
  return encodeURIComponent(name).replace(/^%40/, "@");
}

/** The tarball path the registry hands out in `dist.tarball` (the scope's slash stays). */
export function tarballPath(name: string, version: string): string {
  return `/npm/${name}/-/${baseName(name)}-${version}.tgz`;
}

export class NpmClient {
  constructor(readonly fetch: Fetch = worker, readonly token?: string) {}

  /** The same registry with another token (or none). */
  as(token: string | undefined): NpmClient {
    return new NpmClient(this.fetch, token);
  }

  /** The same token through another way of reaching the Worker. */
  withFetch(fetch: Fetch): NpmClient {
    return new NpmClient(fetch, this.token);
  }

  request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token && !headers.has("authorization")) headers.set("authorization", `Bearer ${this.token}`);
    return this.fetch(path, { ...init, headers });
  }

  /** `npm publish`: PUT /npm/<name> with a libnpmpublish body. */
  async publish(name: string, version: string, options?: BodyOptions): Promise<Response> {
    return this.putPackument(name, await publishBody(name, version, options));
  }

  /** PUT of a packument body (an object, or raw text sent as is), optionally at a revision. */
  putPackument(name: string, body: unknown, rev?: string): Promise<Response> {
    const path = `/npm/${escapedName(name)}${rev === undefined ? "" : `/-rev/${encodeURIComponent(rev)}`}`;
    return this.request(path, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  getPackument(name: string, accept = "application/json"): Promise<Response> {
    return this.request(`/npm/${escapedName(name)}`, { headers: { accept } });
  }

  /** The full packument as npm reads it before a write (`?write=true`); throws unless 200. */
  async packument(name: string): Promise<Packument> {
    const res = await this.request(`/npm/${escapedName(name)}?write=true`);
    if (res.status !== 200) throw new Error(`GET packument of ${name}: ${res.status} ${await res.text()}`);
    return res.json<Packument>();
  }

  getTarball(name: string, version: string): Promise<Response> {
    return this.request(tarballPath(name, version));
  }

  getDistTags(name: string): Promise<Response> {
    return this.request(`/npm/-/package/${escapedName(name)}/dist-tags`);
  }

  /** `npm dist-tag add name@version tag`: the body is the version as a JSON string. */
  setDistTag(name: string, tag: string, version: string): Promise<Response> {
    return this.request(`/npm/-/package/${escapedName(name)}/dist-tags/${encodeURIComponent(tag)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(version),
    });
  }

  deleteDistTag(name: string, tag: string): Promise<Response> {
    return this.request(`/npm/-/package/${escapedName(name)}/dist-tags/${encodeURIComponent(tag)}`, { method: "DELETE" });
  }

  /** `npm unpublish name --force`: DELETE /npm/<name>/-rev/<rev>. */
  deletePackage(name: string, rev: string): Promise<Response> {
    return this.request(`/npm/${escapedName(name)}/-rev/${encodeURIComponent(rev)}`, { method: "DELETE" });
  }

  /**
   * `npm unpublish name@version`, step by step as libnpmpublish's unpublish.js does it: read the
   * packument, drop the version and the tags pointing at it, PUT it back at the revision read,
   * read the new revision, then DELETE the tarball. Returns both write responses (no tarball
   * DELETE when the PUT was refused, as npm stops there too).
   */
  async unpublishVersion(name: string, version: string): Promise<{ update: Response; tarball: Response | null }> {
    const doc = await this.packument(name);
    const { [version]: _gone, ...versions } = doc.versions;
    const tags = Object.fromEntries(Object.entries(doc["dist-tags"]).filter(([, v]) => v !== version));
    if (!tags.latest) tags.latest = semver.rsort(Object.keys(versions))[0]!;
    const update = await this.putPackument(name, { ...doc, versions, "dist-tags": tags }, doc._rev);
    if (update.status !== 200) return { update, tarball: null };
    const { _rev } = await this.packument(name);
    const tarball = await this.request(`${tarballPath(name, version)}/-rev/${encodeURIComponent(_rev)}`, { method: "DELETE" });
    return { update, tarball };
  }
}
