// The release-age cooldown (MIN_RELEASE_AGE pypi:<age>) on an upstream project: files uploaded
// after the cutoff, or whose upload time the upstream does not give (a PEP 503 HTML page has
// none), are not listed and refuse to download. Hosted projects are never hidden.
import type { FileEntry, ProjectDoc } from "./project";

export function uploadedTooRecently(entry: FileEntry, cutoff: number): boolean {
  const uploaded = Date.parse(entry.uploadTime);
  return Number.isNaN(uploaded) || uploaded > cutoff;
}

/** The document without the files the cooldown hides (the same document when none are). */
export function applyPypiCooldown(doc: ProjectDoc, cutoff: number | null): ProjectDoc {
  if (cutoff === null || !doc._upstream) return doc;
  const files = Object.fromEntries(Object.entries(doc.files).filter(([, f]) => !uploadedTooRecently(f, cutoff)));
  return Object.keys(files).length === Object.keys(doc.files).length ? doc : { ...doc, files };
}
