// The project document: one JSON object per project in R2, holding everything the Simple API
// says about its files. Uploads, yanks, status changes and deletes are compare-and-swap
// updates of it (ObjectStore.updateJson), so the document is the commit point.

/** PEP 792 project status markers. */
export type ProjectStatus = "active" | "archived" | "deprecated" | "quarantined";
export const STATUSES: readonly ProjectStatus[] = ["active", "archived", "deprecated", "quarantined"];

/** The upload id of every file mirrored from the upstream (hosted files name their upload). */
export const UPSTREAM_UPLOAD = "upstream";

export interface FileEntry {
  filename: string;
  version: string;
  packagetype: "bdist_wheel" | "sdist";
  /** The upload that wrote it: names its R2 objects (keys.ts). */
  uploadId: string;
  /** Bytes; -1 for an upstream file whose page did not say. */
  size: number;
  sha256: string;
  blake2_256: string;
  /** `Requires-Python` from the file's own metadata. */
  requiresPython?: string;
  /** sha256 of the wheel's METADATA, served at `<file>.metadata` (PEP 658/714). */
  coreMetadataSha256?: string;
  /** PEP 700 `upload-time`: ISO 8601 with a `Z`. */
  uploadTime: string;
  /** PEP 592: absent when not yanked, else the reason ("" for none given). */
  yanked?: string;
}

export interface ProjectDoc {
  /** Normalised name (the key), and the name as its first upload spelled it. */
  name: string;
  displayName: string;
  status: ProjectStatus;
  statusReason?: string;
  files: Record<string, FileEntry>;
  /** File names once uploaded and since deleted: never accepted again. */
  retired: string[];
  /** A deleted project keeps its document (for `retired`) with no files. */
  deleted?: boolean;
  /** Present on a document mirrored from PYPI_UPSTREAM: each file's upstream URL. Never served. */
  _upstream?: { files: Record<string, string> };
}

export function newProject(name: string, displayName: string): ProjectDoc {
  return { name, displayName, status: "active", files: Object.create(null) as Record<string, FileEntry>, retired: [] };
}

/** The files a page lists: none for a quarantined project (PEP 792). */
export function listedFiles(doc: ProjectDoc): FileEntry[] {
  if (doc.status === "quarantined") return [];
  return Object.values(doc.files).sort((a, b) => a.uploadTime.localeCompare(b.uploadTime) || a.filename.localeCompare(b.filename));
}

/** A file that may be served: listed in the document, and its project not quarantined. */
export function servedFile(doc: ProjectDoc, filename: string): FileEntry | null {
  if (doc.deleted || doc.status === "quarantined") return null;
  return Object.hasOwn(doc.files, filename) ? doc.files[filename]! : null;
}
