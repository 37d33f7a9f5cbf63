// The npm registry API under /npm/, as npm 10/11, pnpm and yarn use it.
import { Hono, type Context } from "hono";
import { RegistryError, badRequest, notFound } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { acceptedEncodings } from "../../shared/http/encoding";
import { originOf } from "../../shared/http/url";
import { log } from "../../shared/log";
import { isAdmin, principalName } from "../../shared/auth/permissions";
import { ObjectStore } from "../../shared/origin";
import { requireAccess, isPublicRead } from "../access";
import { recordAudit } from "../audit";
import { bodyLimit } from "../middleware/body-limit";
import { cacheControl, cacheStateHeader, servedResponse } from "../responses";
import { npmError } from "./errors";
import { describeAge } from "../../shared/upstream/policy";
import { assertMayPublishName } from "../upstream-guard";
import { cooldownFor, forgetLiveVersions, isLiveVersion, rememberLiveVersions } from "./live-versions";
import { packumentObject, tarballObject } from "./keys";
import { packumentChange, packumentRendering, packumentRequest, tarballRemoval, tarballRequest, upstreamTarballRequest } from "./objects";
import { assertPackageName, versionFromTarball } from "./names";
import { ABBREVIATED_TYPE, isLive, renderPackument, wantsAbbreviated, type Packument } from "./packument";
import { publish, removeDistTag, setDistTag, unpublishPackage, updateMetadata, type Actor, type PublishBody } from "./publish";
import { prefetchDependencies } from "./prefetch";
import { login } from "./login";
import { reindex, search } from "./search";
import { tokens } from "./tokens";

export const npm = new Hono<{ Bindings: Cloudflare.Env }>();
npm.onError(npmError);
// Body limits, before any handler reads (the first that matches decides): a publish carries the
// base64 tarball; every other route a small JSON body at most.
npm.on("PUT", ["/:scope{@[^/]+}/:name/-rev/:rev", "/:name/-rev/:rev", "/:scope{@[^/]+}/:name", "/:name"], bodyLimit((config) => config.maxPublishBytes));
npm.use(bodyLimit((config) => config.maxRequestBodyBytes));

const store = (c: Context) => new ObjectStore(c.env.BLOBS);
const publisherOf = (c: Context): Actor => {
  const p = c.get("principal");
  return { name: principalName(p), admin: isAdmin(p) };
};

/** The name from either route shape: `/@scope/name` or `/@scope%2fname` (npm sends the latter). */
function nameFrom(c: Context): string {
  const scope = c.req.param("scope");
  const name = scope ? `${scope}/${c.req.param("name")}` : c.req.param("name");
  if (!name) throw badRequest("missing package name");
  return name;
}

/** The route's package name, validated, once the caller may do `scope` to it. */
function authorizedName(c: Context, scope: "read" | "publish"): string {
  const name = nameFrom(c);
  assertPackageName(name);
  requireAccess(c, scope, name);
  return name;
}

async function servePackument(c: Context, name: string): Promise<Response> {
  const form = wantsAbbreviated(c.req.header("accept")) ? "abbreviated" : "full";
  const origin = originOf(c.req.url);
  if (c.req.query("write") === "true") {
    // npm reads with ?write=true before a read-modify-write (deprecate, unpublish): it must see
    // the origin's current revision, not a cached one, or its PUT would conflict.
    const doc = await readPackument(c, name);
    return c.body(renderPackument(doc, form, origin), 200, {
      "content-type": form === "full" ? "application/json" : ABBREVIATED_TYPE,
      "cache-control": "no-store",
      "x-pkgedge-cache": "BYPASS",
    });
  }
  const served = await c.get("tiers").render(packumentRequest(name), packumentRendering(form, origin, cooldownFor(c, name)), acceptedEncodings(c.req.header("accept-encoding")));
  if (!served.found) throw notFound(`package ${name} not found`, { headers: cacheStateHeader(served) });
  if (served.document) rememberLiveVersions(name, served.document as Packument);
  prefetchDependencies(c, name, served);
  return servedResponse(c, served, {
    "cache-control": cacheControl(isPublicRead(c), false, c.get("config").tiers.l1MetadataTtl),
    vary: "accept, accept-encoding, authorization",
  });
}

async function serveTarball(c: Context, name: string, file: string): Promise<Response> {
  const version = versionFromTarball(name, file);
  if (!version) throw notFound(`tarball ${name}/-/${file} not found`);
  const published = await isLiveVersion(c, name, version);
  if (published.tooYoung) {
    const policy = c.get("config").upstream.minReleaseAgeMs.npm!;
    throw new RegistryError("FORBIDDEN", `${name}@${version} was published upstream less than ${describeAge(policy)} ago (or without a publish time): this registry's MIN_RELEASE_AGE policy (npm:${describeAge(policy)}) refuses it until then`);
  }
  if (!published.live) throw notFound(`tarball ${name}/-/${file} not found`, { headers: cacheStateHeader(published) });
  const served = await c.get("tiers").get(published.upstream ? upstreamTarballRequest(name, file, version) : tarballRequest(name, file));
  if (!served.found) throw notFound(`tarball ${name}/-/${file} not found`, { headers: cacheStateHeader(served) });
  return servedResponse(c, served, {
    "content-type": "application/octet-stream",
    "cache-control": cacheControl(isPublicRead(c), true, 0),
  });
}

/**
 * After any write: the change travels to every shield and every rendering at L1, and the search
 * index learns the package's new state after the response (search is not read-your-writes; a
 * failure there is logged; the write stands). The index reads the packument again rather than
 * taking this write's: a concurrent write may have committed after it.
 */
async function invalidatePackument(c: Context, name: string, versions: { removedVersions?: string[]; addedVersions?: string[] } = {}): Promise<void> {
  forgetLiveVersions(name);
  c.executionCtx.waitUntil(store(c).readJson<Packument>(packumentObject(name))
    .then((stored) => reindex(c.env, stored?.doc ?? null, name))
    .catch((err) => log.error("search index not updated", { name, error: err instanceof Error ? err.message : "unknown" })));
  await c.get("tiers").invalidate(packumentChange(name, versions));
}

async function readPackument(c: Context, name: string): Promise<Packument> {
  const stored = await store(c).readJson<Packument>(packumentObject(name));
  if (!stored || !isLive(stored.doc)) throw notFound(`package ${name} not found`);
  return stored.doc;
}

// ---- service endpoints ----
npm.get("/-/ping", (c) => c.json({}));
npm.get("/-/v1/search", (c) => {
  requireAccess(c, "read", null);
  return search(c);
});
npm.get("/-/whoami", (c) => {
  requireAccess(c, "read", null);
  const p = c.get("principal");
  if (p.kind === "anonymous") throw new RegistryError("UNAUTHORIZED", "not logged in: set an _authToken for this registry");
  return c.json({ username: principalName(p) });
});
npm.route("/", login);
npm.route("/-/npm/v1/tokens", tokens);
// npm owner and npm access: pkgedge has no user accounts or teams, only tokens with name patterns.
const NO_ACCOUNTS = "pkgedge has no user accounts, owners or teams: who may read or publish a package is set per token (npm run pkgedge -- token create --packages '@acme/*')";
for (const path of ["/-/user/:user", "/-/user/:user/package", "/-/package/:name/collaborators", "/-/package/:scope{@[^/]+}/:name/collaborators", "/-/package/:name/access", "/-/package/:scope{@[^/]+}/:name/access", "/-/team/*", "/-/org/*"]) {
  npm.all(path, () => {
    throw new RegistryError("NOT_FOUND", NO_ACCOUNTS);
  });
}
npm.get("/-/npm/v1/user", () => {
  throw new RegistryError("NOT_FOUND", "pkgedge has no user profiles: a token is the identity (npm whoami prints its name; npm token list shows your tokens)");
});
npm.post("/-/npm/v1/security/*", () => {
  throw new RegistryError("NOT_FOUND", "pkgedge serves no security advisories and does not forward npm audit to an upstream (it would send your dependency list, private names included): run npm audit with --registry set to a registry that serves them, or install with --no-audit");
});

// ---- dist-tags ----
npm.get("/-/package/:name/dist-tags", async (c) => {
  const name = authorizedName(c, "read");
  return c.json((await readPackument(c, name))["dist-tags"]);
});
npm.put("/-/package/:name/dist-tags/:tag", async (c) => {
  const name = authorizedName(c, "publish");
  const version = await readJsonLimited<unknown>(c.req.raw, 4096);
  if (typeof version !== "string") throw badRequest("dist-tag body must be a JSON string naming a version");
  const tags = await setDistTag(store(c), name, c.req.param("tag"), version);
  recordAudit(c, { action: "npm.dist-tag.add", target: name, detail: { tag: c.req.param("tag"), version } });
  await invalidatePackument(c, name);
  return c.json({ ok: true, "dist-tags": tags }, 201);
});
npm.delete("/-/package/:name/dist-tags/:tag", async (c) => {
  const name = authorizedName(c, "publish");
  const tags = await removeDistTag(store(c), name, c.req.param("tag"));
  recordAudit(c, { action: "npm.dist-tag.rm", target: name, detail: { tag: c.req.param("tag") } });
  await invalidatePackument(c, name);
  return c.json({ ok: true, "dist-tags": tags });
});

// ---- tarballs ----
npm.get("/:scope{@[^/]+}/:name/-/:file", (c) => serveTarball(c, authorizedName(c, "read"), c.req.param("file")));
npm.get("/:name/-/:file", (c) => serveTarball(c, authorizedName(c, "read"), c.req.param("file")));
// npm unpublish deletes the tarball after removing the version from the packument.
const deleteTarball = async (c: Context) => {
  const name = authorizedName(c, "publish");
  const file = c.req.param("file")!;
  const version = versionFromTarball(name, file);
  if (!version) throw notFound(`tarball ${file} not found`);
  const stored = await store(c).readJson<Packument>(packumentObject(name));
  if (stored?.doc.versions[version]) throw new RegistryError("CONFLICT", `${name}@${version} is still published; unpublish the version first`);
  await store(c).delete(tarballObject(name, file));
  recordAudit(c, { action: "npm.tarball.delete", target: name, detail: { file } });
  await c.get("tiers").invalidate(tarballRemoval(name, file));
  return c.json({ ok: true });
};
npm.delete("/:scope{@[^/]+}/:name/-/:file/-rev/:rev", deleteTarball);
npm.delete("/:name/-/:file/-rev/:rev", deleteTarball);

// ---- packuments and versions ----
const getPackument = (c: Context) => servePackument(c, authorizedName(c, "read"));
npm.get("/:scope{@[^/]+}/:name", getPackument);
npm.get("/:name", getPackument);
const getVersion = async (c: Context) => {
  const name = authorizedName(c, "read");
  const doc = await readPackument(c, name);
  const wanted = c.req.param("version")!;
  // An exact version wins over a tag; names are client-chosen, so only own keys count.
  const version = Object.hasOwn(doc.versions, wanted) ? wanted : Object.hasOwn(doc["dist-tags"], wanted) ? doc["dist-tags"][wanted]! : wanted;
  const manifest = Object.hasOwn(doc.versions, version) ? doc.versions[version] : undefined;
  if (!manifest) throw notFound(`version ${name}@${wanted} not found`);
  const origin = new URL(c.req.url).origin;
  return c.json({ ...manifest, dist: { ...manifest.dist, tarball: origin + manifest.dist.tarball } });
};
npm.get("/:scope{@[^/]+}/:name/:version", getVersion);
npm.get("/:name/:version", getVersion);

const putPackument = async (c: Context) => {
  const name = authorizedName(c, "publish");
  const body = await readJsonLimited<PublishBody>(c.req.raw, c.get("config").maxPublishBytes);
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("publish body must be a JSON object");
  if (body.name !== undefined && body.name !== name) throw badRequest(`body names package "${String(body.name)}" but the URL names "${name}"`);
  const revParam = c.req.param("rev");
  if (revParam !== undefined) body._rev = revParam;
  const hasTarballs = body._attachments && Object.keys(body._attachments).length > 0;
  // npm star PUTs the packument with only its `users` changed.
  if (!hasTarballs && "users" in body && body.versions === undefined) throw badRequest("pkgedge does not keep stars (npm star); nothing was changed");
  if (hasTarballs) {
    await assertMayPublishName(c, "npm", name, packumentRequest(name));
    const doc = await publish(store(c), name, body, publisherOf(c));
    recordAudit(c, { action: "npm.publish", target: name, detail: { versions: Object.keys(body.versions ?? {}), rev: doc._rev } });
    await invalidatePackument(c, name, { addedVersions: Object.keys(body.versions ?? {}) });
    return c.json({ ok: true, id: name, rev: doc._rev }, 201);
  }
  const { doc, removed, tagChanges } = await updateMetadata(store(c), name, body, publisherOf(c), c.get("config").unpublishWindowHours);
  recordAudit(c, { action: removed.length > 0 ? "npm.unpublish.version" : "npm.metadata.update", target: name, detail: { removed, rev: doc._rev } });
  for (const { tag, version } of tagChanges) recordAudit(c, { action: "npm.dist-tag.add", target: name, detail: { tag, version, via: "metadata" } });
  await invalidatePackument(c, name, { removedVersions: removed });
  return c.json({ ok: true, id: name, rev: doc._rev }, 200);
};
npm.put("/:scope{@[^/]+}/:name/-rev/:rev", putPackument);
npm.put("/:name/-rev/:rev", putPackument);
npm.put("/:scope{@[^/]+}/:name", putPackument);
npm.put("/:name", putPackument);

const deletePackage = async (c: Context) => {
  const name = authorizedName(c, "publish");
  const removed = await unpublishPackage(store(c), name, c.req.param("rev") ?? null, publisherOf(c), c.get("config").unpublishWindowHours);
  recordAudit(c, { action: "npm.unpublish", target: name, detail: { removed } });
  await invalidatePackument(c, name, { removedVersions: removed });
  return c.json({ ok: true });
};
npm.delete("/:scope{@[^/]+}/:name/-rev/:rev", deletePackage);
npm.delete("/:name/-rev/:rev", deletePackage);

// notFound only runs on the root app; end with a catch-all so our format is kept.
npm.all("*", (c) => {
  throw new RegistryError(c.req.method === "GET" || c.req.method === "HEAD" ? "NOT_FOUND" : "METHOD_NOT_ALLOWED", `no npm endpoint for ${c.req.method} ${new URL(c.req.url).pathname}`);
});
