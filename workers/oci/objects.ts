// Everything OCI caches, named once: the tier requests of blobs, manifests by digest and tags,
// the purge tags, and the changes pushes and deletes make. Routes, prefetch and tests build them
// here and nowhere else. Blobs and manifests by digest are immutable; a tag is mutable metadata.
import type { Change, TierRequest } from "../../shared/tiers";
import type { UpstreamObject, UpstreamRef } from "../../shared/upstream/types";
import { manifestObject, repoBlobObject, tagObject, upstreamBlobObject, upstreamManifestObject, upstreamTagObject } from "./keys";

export const blobCacheKey = (name: string, digest: string) => `oci:blob:${name}@${digest}`;
export const manifestCacheKey = (name: string, digest: string) => `oci:manifest:${name}@${digest}`;
export const tagCacheKey = (name: string, tag: string) => `oci:tag:${name}:${tag}`;

/** Purge tag of a repository (`/_/purge` with tags: ["oci:team/app"]). */
export const purgeTags = (name: string) => [`oci:${name}`];

/** Where a repository not hosted here is pulled through from (when OCI_UPSTREAM(S) say so). */
function upstream(name: string, key: string, originKey: string, object: UpstreamObject, immutable: boolean): UpstreamRef {
  return { protocol: "oci", name, originKey, key, object, immutable };
}

export function blobRequest(name: string, digest: string): TierRequest {
  const key = blobCacheKey(name, digest);
  return {
    key, originKey: repoBlobObject(name, digest), kind: "blob", immutable: true, tags: purgeTags(name),
    upstream: upstream(name, key, upstreamBlobObject(name, digest), { type: "oci-blob", digest }, true),
  };
}

export function manifestRequest(name: string, digest: string): TierRequest {
  const key = manifestCacheKey(name, digest);
  return {
    key, originKey: manifestObject(name, digest), kind: "metadata", immutable: true, tags: purgeTags(name),
    upstream: upstream(name, key, upstreamManifestObject(name, digest), { type: "oci-manifest", reference: digest }, true),
  };
}

export function tagRequest(name: string, tag: string): TierRequest {
  const key = tagCacheKey(name, tag);
  return {
    key, originKey: tagObject(name, tag), kind: "metadata", immutable: false, tags: purgeTags(name),
    upstream: upstream(name, key, upstreamTagObject(name, tag), { type: "oci-manifest", reference: tag }, false),
  };
}

/** A tag moved (pushed again): revalidated everywhere, through the queue. */
export const tagMoved = (name: string, tag: string): Change => ({ keys: [tagCacheKey(name, tag)] });

/** A tag deleted: removed in every region at once. */
export const tagRemoval = (name: string, tag: string): Change => ({ keys: [tagCacheKey(name, tag)], removal: true });

/** A manifest deleted by digest, with the tags that pointed at it. */
export const manifestRemoval = (name: string, digest: string, tags: string[]): Change =>
  ({ keys: [manifestCacheKey(name, digest), ...tags.map((t) => tagCacheKey(name, t))], removal: true });

/** A blob deleted from a repository. */
export const blobRemoval = (name: string, digest: string): Change => ({ keys: [blobCacheKey(name, digest)], removal: true });
