// Everything npm caches, named once: the tier requests of packuments and tarballs, the rendering
// of a packument for one client, the purge tags, and the change a write makes. Routes, prefetch
// and tests build them here and nowhere else.
import type { Change, TierRequest, Variant } from "../../shared/tiers";
import { packumentObject, tarballObject } from "./keys";
import { tarballFile } from "./names";
import { ABBREVIATED_TYPE, isLive, renderPackument, type Packument } from "./packument";

export type PackumentForm = "full" | "abbreviated";

export const packumentCacheKey = (name: string) => `npm:packument:${name}`;
export const tarballCacheKey = (name: string, file: string) => `npm:tarball:${name}/${file}`;

/** Purge tags of a package: its name, and its scope for scoped names. */
export function purgeTags(name: string): string[] {
  return name.startsWith("@") ? [`npm:${name}`, `npm:${name.split("/")[0]}`] : [`npm:${name}`];
}

/** The stored packument: mutable metadata, revalidated and invalidated on every write. */
export function packumentRequest(name: string): TierRequest {
  return { key: packumentCacheKey(name), originKey: packumentObject(name), kind: "metadata", immutable: false, tags: purgeTags(name) };
}

/** A version's tarball: immutable once published. */
export function tarballRequest(name: string, file: string): TierRequest {
  return { key: tarballCacheKey(name, file), originKey: tarballObject(name, file), kind: "blob", immutable: true, tags: purgeTags(name) };
}

const renderingSuffix = (form: PackumentForm, origin: string) => `${form}|${origin}`;

/** The L1 key of one rendering (for tests that look into L1). */
export const packumentVariantKey = (name: string, form: PackumentForm, origin: string) =>
  `${packumentCacheKey(name)}|${renderingSuffix(form, origin)}`;

/**
 * The packument as one client sees it: full or abbreviated, with tarball URLs on the host it
 * reached us at. An unpublished package (its tombstone has no versions) is not found. The parsed
 * document rides along for prefetch.
 */
export function packumentRendering(form: PackumentForm, origin: string): Variant {
  const encoder = new TextEncoder();
  return {
    suffix: renderingSuffix(form, origin),
    compress: true,
    render: (bytes, meta) => {
      const doc = JSON.parse(new TextDecoder().decode(bytes)) as Packument;
      if (!isLive(doc)) return null;
      const out = encoder.encode(renderPackument(doc, form, origin));
      // Each form has its own ETag: a 304 for one must never validate the other.
      const etag = `"${meta.etag.replace(/"/g, "")}-${form === "full" ? "f" : "a"}"`;
      return { bytes: out, meta: { size: out.byteLength, etag, contentType: form === "full" ? "application/json" : ABBREVIATED_TYPE }, document: doc };
    },
  };
}

/**
 * The change a write to a package makes: its packument (with every rendering of it), the
 * tarballs of versions it removed (cached as immutable, they would outlive an unpublish) and of
 * versions it added (a request before the publish may be remembered as not found).
 */
export function packumentChange(name: string, { removedVersions = [], addedVersions = [] }: { removedVersions?: string[]; addedVersions?: string[] } = {}): Change {
  const tarballs = [...removedVersions, ...addedVersions].map((v) => tarballCacheKey(name, tarballFile(name, v)));
  return { keys: [packumentCacheKey(name), ...tarballs], removal: removedVersions.length > 0 };
}

/** The change of deleting one tarball file. */
export function tarballRemoval(name: string, file: string): Change {
  return { keys: [tarballCacheKey(name, file)], removal: true };
}
