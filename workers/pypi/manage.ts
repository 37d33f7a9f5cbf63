// Changes to a published project after upload: yank and unyank (PEP 592), the project status
// (PEP 792), and deletes of a file, a version or the whole project. Each is one compare-and-swap
// of the project document; deleted files' names are retired for good, and their bytes are
// deleted only once the document no longer lists them.
import { badRequest, notFound } from "../../shared/errors";
import type { ObjectStore } from "../../shared/origin";
import { fileObject, indexObject, metadataObject, projectObject } from "./keys";
import { sameVersion } from "./names";
import type { FileEntry, ProjectDoc, ProjectStatus } from "./project";

/** Which files an operation is about: one file by name, or every file of a version. */
export type Selection = { filename: string } | { version: string };

function select(doc: ProjectDoc, sel: Selection): FileEntry[] {
  const files = Object.values(doc.files);
  const picked = "filename" in sel ? files.filter((f) => f.filename === sel.filename) : files.filter((f) => sameVersion(f.version, sel.version));
  if (picked.length === 0) throw notFound("filename" in sel ? `no file ${sel.filename} in project ${doc.name}` : `no version ${sel.version} in project ${doc.name}`);
  return picked;
}

async function update(store: ObjectStore, project: string, mutate: (doc: ProjectDoc) => void): Promise<ProjectDoc> {
  const stored = await store.updateJson<ProjectDoc>(projectObject(project), (doc) => {
    if (!doc || doc.deleted) throw notFound(`project ${project} not found`);
    mutate(doc);
    return doc;
  });
  return stored!.doc;
}

/** Yanks (reason given) or unyanks (null) the selected files; answers the files changed. */
export async function setYanked(store: ObjectStore, project: string, sel: Selection, reason: string | null): Promise<string[]> {
  let changed: string[] = [];
  await update(store, project, (doc) => {
    changed = select(doc, sel).map((f) => {
      if (reason === null) delete f.yanked;
      else f.yanked = reason;
      return f.filename;
    });
  });
  return changed;
}

export async function setStatus(store: ObjectStore, project: string, status: ProjectStatus, reason: string | undefined): Promise<ProjectDoc> {
  return update(store, project, (doc) => {
    doc.status = status;
    if (reason) doc.statusReason = reason;
    else delete doc.statusReason;
  });
}

/** Deletes the selected files, or every file with `null`: retired names, then the bytes. */
export async function deleteFiles(store: ObjectStore, project: string, sel: Selection | null): Promise<FileEntry[]> {
  let removed: FileEntry[] = [];
  await update(store, project, (doc) => {
    removed = sel ? select(doc, sel) : Object.values(doc.files);
    for (const f of removed) {
      delete doc.files[f.filename];
      if (!doc.retired.includes(f.filename)) doc.retired.push(f.filename);
    }
    // A deleted project keeps its document, with no files, so its file names stay retired.
    if (!sel) {
      doc.deleted = true;
      doc.status = "active";
      delete doc.statusReason;
    }
  });
  if (!sel) await store.delete(indexObject(project));
  if (removed.length > 0) await store.delete(removed.flatMap((f) => [fileObject(project, f.uploadId, f.filename), metadataObject(project, f.uploadId, f.filename)]));
  return removed;
}

export function parseSelection(body: Record<string, unknown>): Selection {
  if (typeof body.filename === "string" && body.filename) return { filename: body.filename };
  if (typeof body.version === "string" && body.version) return { version: body.version };
  throw badRequest('name a "version" or a "filename"');
}

export function assertReason(reason: unknown): string | undefined {
  if (reason === undefined || reason === null) return undefined;
  if (typeof reason !== "string" || reason.length > 1000) throw badRequest("reason must be a string of at most 1000 characters");
  return reason;
}

