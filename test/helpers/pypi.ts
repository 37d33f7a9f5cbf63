// PyPI distributions and uploads for the workerd tests: wheels (zip archives, written here with
// stored entries), sdists (tar.gz through modern-tar), and the twine upload form.
import { env } from "cloudflare:workers";
import { packTar } from "modern-tar";
import { crc32 } from "../../workers/pypi/zip-reader";
import { worker, type Fetch } from "./worker";

const encoder = new TextEncoder();

export interface DistSpec {
  name: string;
  version: string;
  requiresPython?: string;
  requiresDist?: string[];
}

export function coreMetadata(spec: DistSpec): string {
  return [
    "Metadata-Version: 2.1",
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.requiresPython ? [`Requires-Python: ${spec.requiresPython}`] : []),
    ...(spec.requiresDist ?? []).map((d) => `Requires-Dist: ${d}`),
    "",
    "A test package.",
    "",
  ].join("\n");
}

const escapeName = (name: string) => name.replace(/[-_.]+/g, "_");
export const wheelName = (spec: DistSpec) => `${escapeName(spec.name)}-${spec.version}-py3-none-any.whl`;
export const sdistName = (spec: DistSpec) => `${escapeName(spec.name)}-${spec.version}.tar.gz`;

/** A zip archive of stored (uncompressed) entries. */
export function zip(entries: Array<[string, string | Uint8Array]>): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const data = typeof content === "string" ? encoder.encode(content) : content;
    const nameBytes = encoder.encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const dirSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, eocd]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A wheel whose METADATA says `metadata` (the spec's by default). */
export function wheel(spec: DistSpec, opts: { metadata?: string; distInfo?: string } = {}): Uint8Array {
  const distInfo = opts.distInfo ?? `${escapeName(spec.name)}-${spec.version}.dist-info`;
  const module = escapeName(spec.name).toLowerCase();
  return zip([
    [`${module}/__init__.py`, `NAME = ${JSON.stringify(spec.name)}\n`],
    [`${distInfo}/METADATA`, opts.metadata ?? coreMetadata(spec)],
    [`${distInfo}/WHEEL`, "Wheel-Version: 1.0\nGenerator: pkgedge-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"],
    [`${distInfo}/RECORD`, ""],
  ]);
}

export async function sdist(spec: DistSpec, opts: { metadata?: string } = {}): Promise<Uint8Array> {
  const top = sdistName(spec).slice(0, -".tar.gz".length);
  const files: Array<[string, Uint8Array]> = [
    [`${top}/PKG-INFO`, encoder.encode(opts.metadata ?? coreMetadata(spec))],
    [`${top}/setup.py`, encoder.encode("from setuptools import setup\nsetup()\n")],
  ];
  const tar = await packTar(files.map(([name, body]) => ({ header: { name, size: body.length, type: "file" as const }, body })));
  return new Uint8Array(await new Response(new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

export async function hexDigest(algorithm: "SHA-256", bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest(algorithm, bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface UploadOptions {
  filename?: string;
  /** Form fields replacing (or, with undefined, removing) what twine would send. */
  fields?: Record<string, string | undefined>;
  token?: string | null;
  fetch?: Fetch;
}

/** The form twine sends for one file (`twine upload`), with its digests computed from the bytes. */
export async function uploadForm(spec: DistSpec, file: Uint8Array, opts: UploadOptions = {}): Promise<FormData> {
  const filename = opts.filename ?? (file[0] === 0x1f ? sdistName(spec) : wheelName(spec));
  const fields: Record<string, string | undefined> = {
    ":action": "file_upload",
    protocol_version: "1",
    metadata_version: "2.1",
    name: spec.name,
    version: spec.version,
    filetype: filename.endsWith(".whl") ? "bdist_wheel" : "sdist",
    pyversion: filename.endsWith(".whl") ? "py3" : "source",
    requires_python: spec.requiresPython ?? "",
    sha256_digest: await hexDigest("SHA-256", file),
    ...opts.fields,
  };
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
  form.append("content", new File([file], filename, { type: "application/octet-stream" }));
  return form;
}

export const basicToken = (token: string) => ({ authorization: `Basic ${btoa(`__token__:${token}`)}` });

export async function upload(spec: DistSpec, file: Uint8Array, opts: UploadOptions = {}): Promise<Response> {
  const form = await uploadForm(spec, file, opts);
  const headers = opts.token ? basicToken(opts.token) : {};
  return (opts.fetch ?? worker)("/pypi/legacy/", { method: "POST", body: form, headers });
}

export const JSON_ACCEPT = "application/vnd.pypi.simple.v1+json";

export interface PageFile {
  filename: string;
  url: string;
  hashes: { sha256: string };
  "requires-python"?: string;
  "core-metadata": false | { sha256: string };
  yanked: boolean | string;
  size: number;
  "upload-time": string;
}

export interface ProjectPage {
  meta: { "api-version": string };
  name: string;
  files: PageFile[];
  versions: string[];
  "project-status": { status: string; reason?: string };
}

export async function projectJson(project: string, fetch: Fetch = worker, headers: Record<string, string> = {}): Promise<ProjectPage | null> {
  const res = await fetch(`/pypi/simple/${project}/`, { headers: { accept: JSON_ACCEPT, ...headers } });
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`project page ${project}: ${res.status} ${await res.text()}`);
  return res.json<ProjectPage>();
}

/** Every R2 key under a project (nothing stored means this is empty). */
export async function storedKeys(project: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `pypi/projects/${project}/` });
  const marker = await env.BLOBS.head(`pypi/index/${project}`);
  return [...listed.objects.map((o) => o.key), ...(marker ? [`pypi/index/${project}`] : [])];
}
