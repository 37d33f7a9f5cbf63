// The Simple API pages rendered from the project document: PEP 503 HTML and PEP 691 JSON, with
// hashes, requires-python (PEP 503), yanks (PEP 592), core metadata (PEP 658/714), versions,
// size and upload time (PEP 700) and the project status (PEP 792).
import { listedFiles, type FileEntry, type ProjectDoc } from "./project";

/** PEP 792 brings the Simple API to 1.4. */
export const API_VERSION = "1.4";

export const fileUrl = (project: string, filename: string) => `/pypi/files/${project}/${encodeURIComponent(filename)}`;
export const projectUrl = (project: string) => `/pypi/simple/${project}/`;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

/** Versions with at least one listed file, in order of first upload (PEP 700 asks for no order). */
function versionsOf(files: FileEntry[]): string[] {
  return [...new Set(files.map((f) => f.version))];
}

export function renderProjectJson(doc: ProjectDoc): string {
  const files = listedFiles(doc);
  return JSON.stringify({
    meta: { "api-version": API_VERSION },
    name: doc.name,
    files: files.map((f) => ({
      filename: f.filename,
      url: fileUrl(doc.name, f.filename),
      hashes: { sha256: f.sha256 },
      ...(f.requiresPython ? { "requires-python": f.requiresPython } : {}),
      // PEP 714: only the new key; pip 23.0 fails on the old `dist-info-metadata` in JSON.
      "core-metadata": f.coreMetadataSha256 ? { sha256: f.coreMetadataSha256 } : false,
      yanked: f.yanked === undefined ? false : f.yanked === "" ? true : f.yanked,
      // An upstream page may give neither (PEP 503 HTML): left out rather than guessed.
      ...(f.size >= 0 ? { size: f.size } : {}),
      ...(f.uploadTime ? { "upload-time": f.uploadTime } : {}),
    })),
    versions: versionsOf(files),
    "project-status": { status: doc.status, ...(doc.statusReason ? { reason: doc.statusReason } : {}) },
  });
}

export function renderProjectHtml(doc: ProjectDoc): string {
  const links = listedFiles(doc).map((f) => {
    const attrs = [`href="${escape(fileUrl(doc.name, f.filename))}#sha256=${f.sha256}"`];
    if (f.requiresPython) attrs.push(`data-requires-python="${escape(f.requiresPython)}"`);
    // PEP 714: both attributes in HTML, for installers that know only the PEP 658 one.
    if (f.coreMetadataSha256) attrs.push(`data-dist-info-metadata="sha256=${f.coreMetadataSha256}"`, `data-core-metadata="sha256=${f.coreMetadataSha256}"`);
    if (f.yanked !== undefined) attrs.push(`data-yanked="${escape(f.yanked)}"`);
    return `    <a ${attrs.join(" ")}>${escape(f.filename)}</a><br />`;
  });
  const status = [`    <meta name="pypi:project-status" content="${doc.status}">`];
  if (doc.statusReason) status.push(`    <meta name="pypi:project-status-reason" content="${escape(doc.statusReason)}">`);
  return [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    `    <meta name="pypi:repository-version" content="${API_VERSION}">`,
    ...status,
    `    <title>Links for ${escape(doc.name)}</title>`,
    "  </head>",
    "  <body>",
    `    <h1>Links for ${escape(doc.name)}</h1>`,
    ...links,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}

export interface ListedProject {
  name: string;
}

export function renderIndexJson(projects: ListedProject[]): string {
  return JSON.stringify({ meta: { "api-version": API_VERSION }, projects: projects.map((p) => ({ name: p.name })) });
}

export function renderIndexHtml(projects: ListedProject[]): string {
  return [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    `    <meta name="pypi:repository-version" content="${API_VERSION}">`,
    "    <title>Simple index</title>",
    "  </head>",
    "  <body>",
    ...projects.map((p) => `    <a href="${escape(projectUrl(p.name))}">${escape(p.name)}</a><br />`),
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}
