// Everything npm caches, named once: the tier requests of packuments and tarballs, the rendering
// of a packument for one client, the purge tags, and the change a write makes. Routes, prefetch
// and tests build them here and nowhere else.
import type { Change, TierRequest, Variant } from "../../shared/tiers";
import type { UpstreamRef } from "../../shared/upstream/types";
import { applyCooldown, type Cooldown } from "./cooldown";
import { packumentObject, tarballObject, upstreamPackumentObject, upstreamTarballObject } from "./keys";
import { tarballFile } from "./names";
import { ABBREVIATED_TYPE, isLive, renderPackument, type Packument } from "./packument";

export type PackumentForm = "full" | "abbreviated";

export const packumentCacheKey = (name: string) => `npm:packument:${name}`;
export const tarballCacheKey = (name: string, file: string) => `npm:tarball:${name}/${file}`;
export const upstreamTarballCacheKey = (name: string, file: string) => `npm:upstream-tarball:${name}/${file}`;

/** Purge tags of a package: its name, and its scope for scoped names. */
export function purgeTags(name: string): string[] {
  return name.startsWith("@") ? [`npm:${name}`, `npm:${name.split("/")[0]}`] : [`npm:${name}`];
}

/** Where the upstream registry's packument of `name` is mirrored (when NPM_UPSTREAM is set). */
export function upstreamPackumentRef(name: string): UpstreamRef {
  return { protocol: "npm", name, originKey: upstreamPackumentObject(name), key: packumentCacheKey(name), object: { type: "npm-packument" }, immutable: false };
}

/**
 * The packument: mutable metadata, revalidated and invalidated on every write. The hosted
 * document wins; only a name with none here falls back to the upstream's (when one is set).
 */
export function packumentRequest(name: string): TierRequest {
  return { key: packumentCacheKey(name), originKey: packumentObject(name), kind: "metadata", immutable: false, tags: purgeTags(name), upstream: upstreamPackumentRef(name) };
}

/** A hosted version's tarball: immutable once published. */
export function tarballRequest(name: string, file: string): TierRequest {
  return { key: tarballCacheKey(name, file), originKey: tarballObject(name, file), kind: "blob", immutable: true, tags: purgeTags(name) };
}

/**
 * A tarball of a package served from the upstream (its packument says so): its own key, so the
 * bytes of an upstream version and of a hosted one never share a cache entry.
 */
export function upstreamTarballRequest(name: string, file: string, version: string): TierRequest {
  const key = upstreamTarballCacheKey(name, file);
  const originKey = upstreamTarballObject(name, file);
  return {
    key, originKey, kind: "blob", immutable: true, tags: purgeTags(name),
    upstream: { protocol: "npm", name, originKey, key, object: { type: "npm-tarball", version, file }, immutable: true },
  };
}

/** The tarball request for a version of a packument as served (hosted or upstream). */
export function tarballRequestFor(doc: Packument, name: string, version: string): TierRequest {
  const file = tarballFile(name, version);
  return doc._upstream ? upstreamTarballRequest(name, file, version) : tarballRequest(name, file);
}

const renderingSuffix = (form: PackumentForm, origin: string) => `${form}|${origin}`;

/** The L1 key of one rendering (for tests that look into L1). */
export const packumentVariantKey = (name: string, form: PackumentForm, origin: string) =>
  `${packumentCacheKey(name)}|${renderingSuffix(form, origin)}`;

/**
 * The packument as one client sees it: full or abbreviated, with tarball URLs on the host it
 * reached us at, and an upstream document without the versions the release-age cooldown hides.
 * An unpublished package (its tombstone has no versions) is not found. The document as served
 * rides along for prefetch.
 */
export function packumentRendering(form: PackumentForm, origin: string, cooldown: Cooldown | null = null): Variant {
  const encoder = new TextEncoder();
  return {
    suffix: renderingSuffix(form, origin),
    compress: true,
    render: (bytes, meta) => {
      const stored = JSON.parse(new TextDecoder().decode(bytes)) as Packument;
      if (!isLive(stored)) return null;
      const doc = applyCooldown(stored, cooldown);
      const out = encoder.encode(renderPackument(doc, form, origin));
      // Each form has its own ETag: a 304 for one must never validate the other.
      // What the cooldown hides changes as versions age: a 304 must not keep a client on an older rendering.
      const hidden = (doc["pkgedge-cooldown"] as { hiddenVersions?: string[] } | undefined)?.hiddenVersions?.length;
      const etag = `"${meta.etag.replace(/"/g, "")}-${form === "full" ? "f" : "a"}${hidden ? `-h${hidden}` : ""}"`;
      const contentType = form === "full" ? "application/json" : ABBREVIATED_TYPE;
      return { bytes: out, meta: { size: out.byteLength, etag, contentType, ...(meta.upstream ? { upstream: meta.upstream } : {}) }, document: doc };
    },
  };
}

/**
 * The change a write to a package makes: its packument (with every rendering of it), the
 * tarballs of versions it removed (cached as immutable, they would outlive an unpublish) and of
 * versions it added (a request before the publish may be remembered as not found).
 */
export function packumentChange(name: string, { removedVersions = [], addedVersions = [] }: { removedVersions?: string[]; addedVersions?: string[] } = {}): Change {
  const tarball = (v: string) => tarballCacheKey(name, tarballFile(name, v));
  return { keys: [packumentCacheKey(name), ...removedVersions.map(tarball)], appeared: addedVersions.map(tarball), removal: removedVersions.length > 0 };
}

/** The change of deleting one tarball file. */
export function tarballRemoval(name: string, file: string): Change {
  return { keys: [tarballCacheKey(name, file)], removal: true };
}
