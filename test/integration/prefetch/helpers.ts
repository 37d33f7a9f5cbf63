// Shared by the prefetch tests: a published dependency tree, reads in one region, and the
// counters that show what prefetch did (edge prefetch counts, shield origin reads).
import type { Fetch } from "../../helpers/worker";
import { publishBody } from "../../helpers/npm-body";
import { NpmClient, escapedName, tarballPath } from "../../helpers/npm-client";
import { createToken } from "../../helpers/tokens";
import { metric } from "../../helpers/metrics";

export { metric };

export const ABBREVIATED = "application/vnd.npm.install-v1+json";

/** Origin reads (metadata and blobs) made by `region`'s shields. */
export async function originReads(region: string): Promise<number> {
  return metric("pkgedge_origin_fetches_total", { region });
}

export async function prefetched(region: string, kind: string): Promise<number> {
  return metric("pkgedge_prefetch_total", { region, kind });
}

export async function npmPublisher(fetch: Fetch): Promise<NpmClient> {
  const { token } = await createToken({ scopes: ["publish"] });
  return new NpmClient(fetch, token);
}

/** Publishes `name@version` with these manifest fields (dependencies and the like). */
export async function publishVersion(npm: NpmClient, name: string, version: string, fields: Record<string, unknown> = {}): Promise<void> {
  const body = await publishBody(name, version, { fields });
  const res = await npm.putPackument(name, body);
  if (res.status !== 201) throw new Error(`publish ${name}@${version}: ${res.status} ${await res.text()}`);
}

/** The x-pkgedge-cache state of a packument read in `region` (abbreviated, as installers ask). */
export async function packumentState(fetch: Fetch, name: string, region: string, headers: Record<string, string> = {}): Promise<string | null> {
  const res = await fetch(`/npm/${escapedName(name)}`, { headers: { accept: ABBREVIATED, "x-pkgedge-region": region, ...headers } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${name} in ${region}: ${res.status}`);
  return res.headers.get("x-pkgedge-cache");
}

export async function tarballState(fetch: Fetch, name: string, version: string, region: string, headers: Record<string, string> = {}): Promise<string | null> {
  const res = await fetch(tarballPath(name, version), { headers: { "x-pkgedge-region": region, ...headers } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${name}@${version} tarball in ${region}: ${res.status}`);
  return res.headers.get("x-pkgedge-cache");
}

export interface Tree {
  a: string;
  b: string;
  c: string;
  dev: string;
}

/**
 * a@1.0.0 -> b@^1 -> c@~2, with versions that make resolution matter: b's latest is 2.0.0 (which
 * needs c@^3) so ^1 must pick 1.4.0; c's latest is 3.0.0, so ~2 must pick 2.2.0.
 */
export async function publishTree(npm: NpmClient, prefix: string): Promise<Tree> {
  const tree = { a: `${prefix}-a`, b: `${prefix}-b`, c: `${prefix}-c`, dev: `${prefix}-dev` };
  await publishVersion(npm, tree.dev, "1.0.0");
  for (const v of ["2.0.0", "2.1.0", "2.2.0", "3.0.0"]) await publishVersion(npm, tree.c, v);
  await publishVersion(npm, tree.b, "1.0.0", { dependencies: { [tree.c]: "~2.0" } });
  await publishVersion(npm, tree.b, "1.4.0", { dependencies: { [tree.c]: "~2" } });
  await publishVersion(npm, tree.b, "2.0.0", { dependencies: { [tree.c]: "^3" } });
  await publishVersion(npm, tree.a, "1.0.0", {
    dependencies: { [tree.b]: "^1" },
    // Never installed for a dependency: must not be prefetched.
    devDependencies: { [tree.dev]: "^1" },
  });
  return tree;
}
