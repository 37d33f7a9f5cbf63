// Everything PyPI caches, named once: the tier requests of project documents, files and core
// metadata, the renderings of a project page (HTML or JSON), the purge tags, and the change a
// write makes. Routes, tests (and the upstream, later) build them here and nowhere else.
import type { Change, TierRequest, Variant } from "../../shared/tiers";
import type { UpstreamRef } from "../../shared/upstream/types";
import { applyPypiCooldown } from "./cooldown";
import { fileObject, metadataObject, projectObject, upstreamFileObject, upstreamProjectObject } from "./keys";
import type { PageFormat } from "./negotiation";
import { UPSTREAM_UPLOAD, type FileEntry, type ProjectDoc } from "./project";
import { renderProjectHtml, renderProjectJson } from "./simple-page";

export const projectCacheKey = (project: string) => `pypi:project:${project}`;
export const fileCacheKey = (project: string, filename: string) => `pypi:file:${project}/${filename}`;
export const metadataCacheKey = (project: string, filename: string) => `pypi:file:${project}/${filename}.metadata`;
// An upstream file has its own key: were the project hosted here later, a file of the same name
// (with other bytes) must never be answered from the upstream copy's cache entry.
export const upstreamFileCacheKey = (project: string, filename: string) => `pypi:upstream-file:${project}/${filename}`;
export const upstreamMetadataCacheKey = (project: string, filename: string) => `pypi:upstream-file:${project}/${filename}.metadata`;

/** Purge tag of a project (`/_/purge` with tags: ["pypi:requests"]). */
export const purgeTags = (project: string) => [`pypi:${project}`];

/** Where PYPI_UPSTREAM's page of `project` is mirrored. */
export function upstreamProjectRef(project: string): UpstreamRef {
  return { protocol: "pypi", name: project, originKey: upstreamProjectObject(project), key: projectCacheKey(project), object: { type: "pypi-project" }, immutable: false };
}

/**
 * The project document: mutable metadata, revalidated and invalidated on every write. The hosted
 * document wins; only a project with none here falls back to the upstream's (when one is set).
 */
export function projectRequest(project: string): TierRequest {
  return { key: projectCacheKey(project), originKey: projectObject(project), kind: "metadata", immutable: false, tags: purgeTags(project), upstream: upstreamProjectRef(project) };
}

/** An upstream file or its core metadata, mirrored on first request. */
function upstreamFileRequest(project: string, entry: FileEntry, metadata: boolean): TierRequest {
  const key = metadata ? upstreamMetadataCacheKey(project, entry.filename) : upstreamFileCacheKey(project, entry.filename);
  const originKey = `${upstreamFileObject(project, entry.filename)}${metadata ? ".metadata" : ""}`;
  return {
    key, originKey, kind: metadata ? "metadata" : "blob", immutable: true, tags: purgeTags(project),
    upstream: { protocol: "pypi", name: project, originKey, key, object: { type: "pypi-file", filename: entry.filename, metadata }, immutable: true },
  };
}

/**
 * An uploaded file: immutable, since a file name is never reused. The origin key names the
 * upload that wrote it, so it is built from the document's entry.
 */
export function fileRequest(project: string, entry: FileEntry): TierRequest {
  if (entry.uploadId === UPSTREAM_UPLOAD) return upstreamFileRequest(project, entry, false);
  return { key: fileCacheKey(project, entry.filename), originKey: fileObject(project, entry.uploadId, entry.filename), kind: "blob", immutable: true, tags: purgeTags(project) };
}

/** A wheel's METADATA (PEP 658): immutable with its wheel. */
export function metadataRequest(project: string, entry: FileEntry): TierRequest {
  if (entry.uploadId === UPSTREAM_UPLOAD) return upstreamFileRequest(project, entry, true);
  return { key: metadataCacheKey(project, entry.filename), originKey: metadataObject(project, entry.uploadId, entry.filename), kind: "metadata", immutable: true, tags: purgeTags(project) };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function parse(bytes: Uint8Array): ProjectDoc | null {
  const doc = JSON.parse(decoder.decode(bytes)) as ProjectDoc;
  return doc.deleted ? null : doc;
}

export const HTML_TYPE = "text/html";

/**
 * The project page in one format (the suffix names it, so HTML and JSON never share an L1 entry
 * and the Cache API need not honour `Vary`). Content-Type is set by the route from what the
 * client asked for (`text/html` or the PEP 691 type); a deleted project is not found.
 */
export function projectPage(format: PageFormat, cooldownCutoff: number | null = null): Variant {
  return {
    suffix: format,
    // Pages of large projects are big (HTML and JSON alike): a gzip copy is kept beside each.
    compress: true,
    render: (bytes, meta) => {
      const stored = parse(bytes);
      if (!stored) return null;
      // An upstream project without the files the release-age cooldown hides.
      const doc = applyPypiCooldown(stored, cooldownCutoff);
      const hidden = Object.keys(stored.files).length - Object.keys(doc.files).length;
      const out = encoder.encode(format === "json" ? renderProjectJson(doc) : renderProjectHtml(doc));
      // Each format has its own ETag: a 304 for one must never validate the other (nor a page
      // from before a hidden file came of age).
      const etag = `"${meta.etag.replace(/"/g, "")}-${format === "json" ? "j" : "h"}${hidden ? `-h${hidden}` : ""}"`;
      const contentType = format === "json" ? "application/vnd.pypi.simple.v1+json" : HTML_TYPE;
      return { bytes: out, meta: { size: out.byteLength, etag, contentType, ...(meta.upstream ? { upstream: meta.upstream } : {}) }, document: doc };
    },
  };
}

/** The document itself, parsed (what the file routes check a file against: the commit point). */
export function projectDocument(): Variant {
  return {
    suffix: "doc",
    render: (bytes, meta) => {
      const doc = parse(bytes);
      return doc ? { bytes, meta, document: doc } : null;
    },
  };
}

/** An upload added files: the document changes, and remembered not-founds of the files go. */
export function uploadChange(project: string, filenames: string[]): Change {
  return { keys: [projectCacheKey(project)], appeared: filenames.flatMap((f) => [fileCacheKey(project, f), metadataCacheKey(project, f)]) };
}

/** A yank, unyank or status change: only the document changes. Quarantine hides files: a removal. */
export function documentChange(project: string, { removal = false } = {}): Change {
  return { keys: [projectCacheKey(project)], removal };
}

/** Files deleted (one, a version's, a whole project's): removed in every region at once. */
export function filesRemoval(project: string, filenames: string[]): Change {
  return { keys: [projectCacheKey(project), ...filenames.flatMap((f) => [fileCacheKey(project, f), metadataCacheKey(project, f)])], removal: true };
}
