// Manifest pulls, pushes and deletes (end-3, end-7, end-9). Manifests by digest are immutable
// and cached forever; a tag is mutable metadata, revalidated and invalidated when it moves.
import type { Context } from "hono";
import { sha256Hex } from "../../shared/digest";
import { readBodyLimited } from "../../shared/http/body";
import { recordAudit } from "../audit";
import { cacheControl, cacheStateHeader, servedResponse } from "../responses";
import { isAnonymousPull } from "./auth";
import { authorizedRepository, repositories } from "./context";
import { ociError } from "./errors";
import { manifestCacheKey, manifestRemoval, manifestRequest, tagMoved, tagRemoval, tagRequest } from "./objects";
import { parseManifest, referrerDescriptor } from "./manifest";
import { parseReference } from "./names";
import { prefetchReferenced } from "./prefetch";

async function sha256(bytes: Uint8Array): Promise<string> {
  return `sha256:${await sha256Hex(bytes)}`;
}

export async function getManifest(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "pull");
  const ref = parseReference(c.req.param("reference") ?? "");
  const byDigest = ref.kind === "digest";
  const req = byDigest ? manifestRequest(name, ref.digest.digest) : tagRequest(name, ref.tag);
  const served = await c.get("tiers").get(req);
  if (!served.found) {
    if (!(await repositories(c).repositoryExists(name))) throw ociError("NAME_UNKNOWN", `repository ${name} not found`, { detail: { name }, headers: cacheStateHeader(served) });
    throw ociError("MANIFEST_UNKNOWN", `manifest ${byDigest ? ref.digest.digest : ref.tag} not found in ${name}`, { headers: cacheStateHeader(served) });
  }
  const digest = byDigest ? ref.digest.digest : served.meta.digest ?? "";
  if (c.req.method === "GET") prefetchReferenced(c, name, req, served);
  const config = c.get("config");
  return servedResponse(c, served, {
    "docker-content-digest": digest,
    etag: `"${digest}"`,
    "cache-control": cacheControl(isAnonymousPull(config, name), byDigest, config.tiers.l1MetadataTtl),
  });
}

export async function putManifest(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "push");
  const ref = parseReference(c.req.param("reference") ?? "");
  const bytes = await readBodyLimited(c.req.raw, c.get("config").ociMaxManifestBytes);
  const parsed = parseManifest(bytes, c.req.header("content-type"));
  const digest = await sha256(bytes);
  if (ref.kind === "digest" && ref.digest.digest !== digest) {
    throw ociError("DIGEST_INVALID", `manifest digest is ${digest}, not ${ref.digest.digest}`, { detail: { expected: ref.digest.digest, actual: digest } });
  }
  const repos = repositories(c);
  const [blobs, children] = await Promise.all([
    Promise.all(parsed.blobs.map(async (d) => ((await repos.blob(name, d)) ? null : d))),
    Promise.all(parsed.manifests.map(async (d) => ((await repos.hasManifest(name, d)) ? null : d))),
  ]);
  const missing = [...blobs, ...children].filter((d): d is string => d !== null);
  if (missing.length > 0) {
    throw ociError("MANIFEST_BLOB_UNKNOWN", `manifest references ${missing.length} unknown blob(s) or manifest(s) in ${name}: ${missing[0]}`, { detail: { digests: missing } });
  }
  const tag = ref.kind === "tag" ? ref.tag : undefined;
  await repos.putManifest(name, {
    digest,
    mediaType: parsed.mediaType,
    bytes,
    ...(parsed.subject ? { subject: parsed.subject, referrer: referrerDescriptor(parsed, digest, bytes.byteLength) } : {}),
  }, tag);
  // A pull by digest before this push may be remembered as not found; a tag moved.
  await c.get("tiers").forgetNotFound([manifestCacheKey(name, digest)]);
  if (tag) await c.get("tiers").invalidate(tagMoved(name, tag));
  recordAudit(c, { action: "oci.manifest.push", target: `${name}@${digest}`, detail: { ...(tag ? { tag } : {}), mediaType: parsed.mediaType } });
  return c.body(null, 201, {
    location: `/v2/${name}/manifests/${digest}`,
    "docker-content-digest": digest,
    ...(parsed.subject ? { "oci-subject": parsed.subject } : {}),
  });
}

export async function deleteManifest(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "delete");
  const ref = parseReference(c.req.param("reference") ?? "");
  const repos = repositories(c);
  if (ref.kind === "tag") {
    if (!(await repos.deleteTag(name, ref.tag))) throw ociError("MANIFEST_UNKNOWN", `tag ${ref.tag} not found in ${name}`);
    await c.get("tiers").invalidate(tagRemoval(name, ref.tag));
    recordAudit(c, { action: "oci.tag.delete", target: `${name}:${ref.tag}` });
    return c.body(null, 202);
  }
  const deleted = await repos.deleteManifest(name, ref.digest.digest);
  if (!deleted) throw ociError("MANIFEST_UNKNOWN", `manifest ${ref.digest.digest} not found in ${name}`);
  await c.get("tiers").invalidate(manifestRemoval(name, ref.digest.digest, deleted.tags));
  recordAudit(c, { action: "oci.manifest.delete", target: `${name}@${ref.digest.digest}`, detail: { tags: deleted.tags } });
  return c.body(null, 202);
}
