// The npm registry API under /npm/, as npm 10/11, pnpm and yarn use it.
import { Hono, type Context } from "hono";
import { RegistryError, badRequest, notFound } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { isAdmin, principalName } from "../../shared/auth/permissions";
import { ObjectStore } from "../../shared/origin";
import { requireAccess, isPublicRead } from "../access";
import { recordAudit } from "../audit";
import { cacheControl, servedResponse } from "../responses";
import { npmError } from "./errors";
import { packumentCacheKey, packumentObject, packumentVariantKey, tarballCacheKey, tarballObject } from "./keys";
import { assertPackageName, tarballFile, versionFromTarball } from "./names";
import { ABBREVIATED_TYPE, isLive, renderPackument, wantsAbbreviated, type Packument } from "./packument";
import { publish, removeDistTag, setDistTag, unpublishPackage, updateMetadata, type Actor, type PublishBody } from "./publish";
import { prefetchDependencies } from "./prefetch";

export const npm = new Hono<{ Bindings: Cloudflare.Env }>();
npm.onError(npmError);

const encoder = new TextEncoder();
// Hosts this isolate has rendered packuments for: invalidation drops each host's rendering.
const renderedOrigins = new Set<string>();

const store = (c: Context) => new ObjectStore(c.env.BLOBS);
const actorOf = (c: Context): Actor => {
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
  const origin = new URL(c.req.url).origin;
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
  if (renderedOrigins.size < 32) renderedOrigins.add(origin);
  const served = await c.get("tiers").get(
    { key: packumentCacheKey(name), originKey: packumentObject(name), kind: "metadata", immutable: false, tags: purgeTags(name) },
    {
      key: packumentVariantKey(name, form, origin),
      render: (bytes, meta) => {
        const doc = JSON.parse(new TextDecoder().decode(bytes)) as Packument;
        // An unpublished package keeps a tombstone at the origin; clients see 404.
        const out = isLive(doc) ? encoder.encode(renderPackument(doc, form, origin)) : encoder.encode("");
        const etag = `"${meta.etag.replace(/"/g, "")}-${form === "full" ? "f" : "a"}"`;
        return { bytes: out, meta: { size: out.byteLength, etag, contentType: form === "full" ? "application/json" : ABBREVIATED_TYPE } };
      },
    },
  );
  if (!served.found || served.meta?.size === 0) throw notFound(`package ${name} not found`);
  prefetchDependencies(c, name, served);
  return servedResponse(c, served, {
    "cache-control": cacheControl(isPublicRead(c), false, c.get("config").l1MetadataTtl),
    vary: "accept, authorization",
  });
}

async function serveTarball(c: Context, name: string, file: string): Promise<Response> {
  if (!versionFromTarball(name, file)) throw notFound(`tarball ${file} not found`);
  const served = await c.get("tiers").get({ key: tarballCacheKey(name, file), originKey: tarballObject(name, file), kind: "blob", immutable: true, tags: purgeTags(name) });
  if (!served.found) throw notFound(`tarball ${name}/-/${file} not found`);
  return servedResponse(c, served, {
    "content-type": "application/octet-stream",
    "cache-control": cacheControl(isPublicRead(c), true, 0),
  });
}

/** Purge tags of a package: its name, and its scope for scoped names. */
function purgeTags(name: string): string[] {
  return name.startsWith("@") ? [`npm:${name}`, `npm:${name.split("/")[0]}`] : [`npm:${name}`];
}

/**
 * After any write: forget the packument in every shield and every rendering at L1, and the
 * tarballs of versions the write removed (cached as immutable, they would outlive an unpublish).
 */
async function invalidatePackument(c: Context, name: string, removedVersions: string[] = [], addedFiles: string[] = []): Promise<void> {
  // Removed versions' tarballs are cached as immutable; added ones may be remembered as 404s.
  const tarballs = [...removedVersions.map((v) => tarballFile(name, v)), ...addedFiles].map((f) => tarballCacheKey(name, f));
  const l1Keys = [...renderedOrigins].flatMap((o) => [packumentVariantKey(name, "full", o), packumentVariantKey(name, "abbreviated", o)]);
  // The stored document's own L1 copy is what prefetch reads (and may remember as not found).
  await c.get("tiers").publish({
    keys: [packumentCacheKey(name), ...tarballs],
    l1Keys: [packumentCacheKey(name), ...l1Keys, ...tarballs],
    removal: removedVersions.length > 0,
  });
}

async function readPackument(c: Context, name: string): Promise<Packument> {
  const stored = await store(c).readJson<Packument>(packumentObject(name));
  if (!stored || !isLive(stored.doc)) throw notFound(`package ${name} not found`);
  return stored.doc;
}

// ---- service endpoints ----
npm.get("/-/ping", (c) => c.json({}));
npm.get("/-/whoami", (c) => {
  requireAccess(c, "read", null);
  const p = c.get("principal");
  if (p.kind === "anonymous") throw new RegistryError("UNAUTHORIZED", "not logged in: set an _authToken for this registry");
  return c.json({ username: principalName(p) });
});
npm.put("/-/user/:user", () => {
  throw new RegistryError("UNAUTHORIZED", "pkgedge does not support npm login; create a token with `npm run pkgedge -- token create` and set _authToken");
});
npm.post("/-/npm/v1/security/*", () => {
  throw new RegistryError("NOT_FOUND", "pkgedge does not serve security advisories; run npm install with --no-audit");
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
  await c.get("tiers").publish({ keys: [tarballCacheKey(name, file)], removal: true });
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
  if (hasTarballs) {
    const doc = await publish(store(c), name, body, actorOf(c));
    recordAudit(c, { action: "npm.publish", target: name, detail: { versions: Object.keys(body.versions ?? {}), rev: doc._rev } });
    await invalidatePackument(c, name, [], Object.keys(body.versions ?? {}).map((v) => tarballFile(name, v)));
    return c.json({ ok: true, id: name, rev: doc._rev }, 201);
  }
  const { doc, removed, tagChanges } = await updateMetadata(store(c), name, body, actorOf(c), c.get("config").unpublishWindowHours);
  recordAudit(c, { action: removed.length > 0 ? "npm.unpublish.version" : "npm.metadata.update", target: name, detail: { removed, rev: doc._rev } });
  for (const { tag, version } of tagChanges) recordAudit(c, { action: "npm.dist-tag.add", target: name, detail: { tag, version, via: "metadata" } });
  await invalidatePackument(c, name, removed);
  return c.json({ ok: true, id: name, rev: doc._rev }, 200);
};
npm.put("/:scope{@[^/]+}/:name/-rev/:rev", putPackument);
npm.put("/:name/-rev/:rev", putPackument);
npm.put("/:scope{@[^/]+}/:name", putPackument);
npm.put("/:name", putPackument);

const deletePackage = async (c: Context) => {
  const name = authorizedName(c, "publish");
  const removed = await unpublishPackage(store(c), name, c.req.param("rev") ?? null, actorOf(c), c.get("config").unpublishWindowHours);
  recordAudit(c, { action: "npm.unpublish", target: name, detail: { removed } });
  await invalidatePackument(c, name, removed);
  return c.json({ ok: true });
};
npm.delete("/:scope{@[^/]+}/:name/-rev/:rev", deletePackage);
npm.delete("/:name/-rev/:rev", deletePackage);

// notFound only runs on the root app; end with a catch-all so our format is kept.
npm.all("*", (c) => {
  throw new RegistryError(c.req.method === "GET" || c.req.method === "HEAD" ? "NOT_FOUND" : "METHOD_NOT_ALLOWED", `no npm endpoint for ${c.req.method} ${new URL(c.req.url).pathname}`);
});
