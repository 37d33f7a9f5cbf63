// `POST /pypi/legacy/`: the upload API as twine sends it (the multipart `file_upload` form).
// The file streams into R2 while sha256 and blake2b-256 run over it; then the digests, the file
// name, the archive and its own metadata are checked against the form, and only then does the
// project document (the commit point) list the file. Any refusal deletes what was written.
import { blake2b } from "@noble/hashes/blake2b";
import type { Context } from "hono";
import { toHex } from "../../shared/digest";
import { RegistryError, badRequest } from "../../shared/errors";
import { ObjectStore } from "../../shared/origin";
import { BlobWriter, newUpload } from "../../shared/origin/blob-writer";
import { requireAccess } from "../access";
import { assertMayPublishName } from "../upstream-guard";
import { recordAudit } from "../audit";
import { fileObject, indexObject, metadataObject, projectObject } from "./keys";
import { field, readSdistMetadata, readWheelMetadata, type CoreMetadata } from "./metadata";
import { MultipartReader, boundaryOf } from "./multipart";
import { assertProjectName, normalizeName, parseDistFile, sameVersion, type DistFile } from "./names";
import { projectRequest, uploadChange } from "./objects";
import { newProject, type FileEntry, type ProjectDoc } from "./project";

const MAX_FIELD_BYTES = 1024 * 1024;
const MAX_FIELDS_BYTES = 4 * 1024 * 1024;
// What a refused upload's unread rest may cost us so the client reads the answer, not a broken pipe.
const DRAIN_BYTES = 16 * 1024 * 1024;

type Fields = Map<string, string[]>;
const one = (fields: Fields, name: string) => fields.get(name)?.[0];

/** 400 "File already exists": twine's --skip-existing looks for these words. */
const alreadyExists = (filename: string) => badRequest(`File already exists ('${filename}'). A file name can be uploaded once; upload a new version.`);
const nameUsed = (filename: string) => badRequest(`This filename has already been used ('${filename}'), even though the file was deleted: a file name is never reused. Upload a new version.`);

/** Refuses an upload the document says cannot land: the name is taken or retired, or the project takes no uploads. */
function checkDocument(doc: ProjectDoc | null, filename: string): void {
  if (!doc) return;
  if (Object.hasOwn(doc.files, filename)) throw alreadyExists(filename);
  if (doc.retired.includes(filename)) throw nameUsed(filename);
  if (!doc.deleted && (doc.status === "archived" || doc.status === "quarantined")) {
    throw badRequest(`project ${doc.name} is ${doc.status} and takes no uploads`);
  }
}

/** The form's own claims about the file, checked before a byte of it is stored. */
function checkForm(fields: Fields, filename: string): DistFile {
  if (one(fields, ":action") !== "file_upload") throw badRequest(`unknown :action "${one(fields, ":action") ?? ""}": only file_upload is supported`);
  if ((one(fields, "protocol_version") ?? "1") !== "1") throw badRequest("unknown protocol_version: only 1 is supported");
  const name = one(fields, "name");
  const version = one(fields, "version");
  if (!name || !version) throw badRequest("the form needs name and version before the file");
  assertProjectName(name);
  const dist = parseDistFile(filename);
  if (!dist) throw badRequest(`Invalid distribution file name '${filename}': expected a wheel (name-version-python-abi-platform.whl) or an sdist (name-version.tar.gz)`);
  if (dist.project !== normalizeName(name)) throw badRequest(`Start filename for '${filename}' with the project name '${name}' (normalised: ${normalizeName(name)})`);
  if (!sameVersion(dist.version, version)) throw badRequest(`Version in filename '${filename}' should be '${version}'`);
  const filetype = one(fields, "filetype");
  if (filetype !== dist.type) throw badRequest(`filetype "${filetype ?? ""}" does not match '${filename}' (a ${dist.type})`);
  return dist;
}

/** The form's metadata against the file's own: name, version and Requires-Python must agree. */
function checkMetadata(fields: Fields, md: CoreMetadata, filename: string): void {
  const name = one(fields, "name")!;
  if (normalizeName(field(md, "name")!) !== normalizeName(name)) throw badRequest(`${filename}: the form names project "${name}", the file's metadata "${field(md, "name")}"`);
  if (!sameVersion(field(md, "version")!, one(fields, "version")!)) throw badRequest(`${filename}: the form says version "${one(fields, "version")}", the file's metadata "${field(md, "version")}"`);
  const formRp = (one(fields, "requires_python") ?? "").trim();
  const fileRp = (field(md, "requires-python") ?? "").trim();
  if (fields.has("requires_python") && formRp !== fileRp) throw badRequest(`${filename}: the form says Requires-Python "${formRp}", the file's metadata "${fileRp}"`);
}

export async function upload(c: Context): Promise<Response> {
  // 403 when the credentials are missing or wrong, before anything is parsed or stored.
  const refusal = c.get("badCredentials") ? "Invalid or non-existent authentication information."
    : c.get("principal").kind === "anonymous" ? "Invalid or non-existent authentication information: upload with username __token__ and a pkgedge token as the password."
    : null;
  if (refusal) {
    if (c.req.raw.body) await new MultipartReader(c.req.raw.body, "-").drain(DRAIN_BYTES);
    throw new RegistryError("FORBIDDEN", refusal);
  }
  const boundary = boundaryOf(c.req.header("content-type"));
  if (!boundary || !c.req.raw.body) throw badRequest("an upload is a multipart/form-data body");
  const store = new ObjectStore(c.env.BLOBS);
  const maxFile = c.get("config").pypiMaxUploadBytes;
  const form = new MultipartReader(c.req.raw.body, boundary);
  const fields: Fields = new Map();
  let fieldBytes = 0;
  let stored: { dist: DistFile; filename: string; project: string; uploadId: string; size: number; sha256: string; blake2: string } | null = null;
  const written: string[] = [];
  try {
    for (let part = await form.next(); part; part = await form.next()) {
      if (part.filename === undefined) {
        if (stored) throw badRequest("form fields must come before the file");
        const value = await form.text(MAX_FIELD_BYTES, part.name);
        fieldBytes += value.length;
        if (fieldBytes > MAX_FIELDS_BYTES) throw badRequest(`the form's fields exceed ${MAX_FIELDS_BYTES} bytes`);
        fields.set(part.name, [...(fields.get(part.name) ?? []), value]);
        continue;
      }
      if (part.name !== "content" || stored) throw badRequest(`unexpected file part "${part.name}": an upload carries one file, named content`);
      const filename = part.filename;
      const dist = checkForm(fields, filename);
      const project = dist.project;
      requireAccess(c, "publish", project);
      await assertMayPublishName(c, "pypi", project, projectRequest(project));
      checkDocument((await store.readJson<ProjectDoc>(projectObject(project)))?.doc ?? null, filename);
      const uploadId = crypto.randomUUID();
      const key = fileObject(project, uploadId, filename);
      const blake = blake2b.create({ dkLen: 32 });
      const writer = await BlobWriter.resume(store, newUpload(key));
      written.push(key);
      try {
        await writer.append(form.stream((chunk) => blake.update(chunk)), { persist: false, maxBytes: maxFile });
      } catch (err) {
        await writer.abort();
        throw err;
      }
      const sha256 = writer.digest().slice("sha256:".length);
      const result = await writer.finish(sha256, "application/octet-stream");
      if (!result.ok) throw new RegistryError("INTERNAL", "upload could not be stored");
      stored = { dist, filename, project, uploadId, size: result.size, sha256, blake2: toHex(blake.digest()) };
    }
    if (!stored) throw badRequest("the upload has no file (the form's content part)");
    const { dist, filename, project, uploadId, size, sha256, blake2 } = stored;
    if (size === 0) throw badRequest(`${filename} is empty`);
    const sentSha = one(fields, "sha256_digest")?.toLowerCase();
    const sentBlake = one(fields, "blake2_256_digest")?.toLowerCase();
    if (!sentSha && !sentBlake) throw badRequest("the form must carry sha256_digest or blake2_256_digest");
    if (sentSha && sentSha !== sha256) throw badRequest(`The digest supplied does not match a digest calculated from the uploaded file: sha256 ${sha256}, the form says ${sentSha}`);
    if (sentBlake && sentBlake !== blake2) throw badRequest(`The digest supplied does not match a digest calculated from the uploaded file: blake2_256 ${blake2}, the form says ${sentBlake}`);

    const key = fileObject(project, uploadId, filename);
    let md: CoreMetadata;
    let coreMetadataSha256: string | undefined;
    if (dist.type === "bdist_wheel") {
      const wheel = await readWheelMetadata(store, key, size, dist, filename);
      md = wheel.metadata;
      const mdKey = metadataObject(project, uploadId, filename);
      written.push(mdKey);
      await store.write(mdKey, wheel.metadataBytes, { contentType: "application/octet-stream", createOnly: true });
      coreMetadataSha256 = toHex(await crypto.subtle.digest("SHA-256", wheel.metadataBytes));
    } else {
      md = await readSdistMetadata(store, key, dist, filename, filename);
    }
    checkMetadata(fields, md, filename);

    const requiresPython = field(md, "requires-python")?.trim();
    const entry: FileEntry = {
      filename, version: field(md, "version")!, packagetype: dist.type, uploadId, size, sha256, blake2_256: blake2,
      ...(requiresPython ? { requiresPython } : {}),
      ...(coreMetadataSha256 ? { coreMetadataSha256 } : {}),
      uploadTime: new Date().toISOString().replace(/(\.\d{3})Z$/, "$1000Z"),
    };
    // The marker first: a project the document lists is always in /simple/.
    await store.write(indexObject(project), field(md, "name")!, { contentType: "text/plain", createOnly: true });
    await store.updateJson<ProjectDoc>(projectObject(project), (current) => {
      checkDocument(current, filename);
      const doc = !current || current.deleted ? { ...newProject(project, field(md, "name")!), retired: current?.retired ?? [] } : current;
      doc.files[filename] = entry;
      return doc;
    });
    written.length = 0;
    recordAudit(c, { action: "pypi.upload", target: project, detail: { filename, version: entry.version, sha256 } });
    await c.get("tiers").invalidate(uploadChange(project, [filename]));
    return c.text("OK\n", 200);
  } catch (err) {
    // Nothing stays behind a refusal: the file and its metadata go (the document never listed them).
    await form.drain(DRAIN_BYTES);
    if (written.length > 0) await store.delete(written).catch(() => {});
    throw err;
  }
}
