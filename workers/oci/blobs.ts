// Blob pulls and deletes (end-2, end-10): immutable bytes by digest, streamed through the tiers.
import type { Context } from "hono";
import { recordAudit } from "../audit";
import { cacheControl, cacheStateHeader, servedResponse } from "../responses";
import { isAnonymousPull } from "./auth";
import { authorizedRepository, repositories } from "./context";
import { ociError } from "./errors";
import { blobRemoval, blobRequest } from "./objects";
import { parseDigest } from "./names";

export async function getBlob(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "pull");
  const { digest } = parseDigest(c.req.param("digest"));
  const served = await c.get("tiers").get(blobRequest(name, digest));
  if (!served.found) throw ociError("BLOB_UNKNOWN", `blob ${digest} is not in ${name}`, { detail: { digest }, headers: cacheStateHeader(served) });
  return servedResponse(c, served, {
    "content-type": "application/octet-stream",
    "docker-content-digest": digest,
    etag: `"${digest}"`,
    "cache-control": cacheControl(isAnonymousPull(c.get("config"), name), true, 0),
  }, { ranges: true });
}

export async function deleteBlob(c: Context): Promise<Response> {
  const name = authorizedRepository(c, "delete");
  const { digest } = parseDigest(c.req.param("digest"));
  if (!(await repositories(c).deleteBlob(name, digest))) throw ociError("BLOB_UNKNOWN", `blob ${digest} is not in ${name}`, { detail: { digest } });
  await c.get("tiers").invalidate(blobRemoval(name, digest));
  recordAudit(c, { action: "oci.blob.delete", target: `${name}@${digest}` });
  return c.body(null, 202);
}
