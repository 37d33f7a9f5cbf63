// The OCI Distribution API (spec 1.1) under /v2/, as docker, podman, skopeo, crane and oras use
// it. Endpoint ids (end-N) follow the spec's table; each handler lives with its concern.
import { Hono, type Context } from "hono";
import { RegistryError } from "../../shared/errors";
import { bodyLimit } from "../middleware/body-limit";
import { tokenEndpoint } from "./auth";
import { deleteBlob, getBlob } from "./blobs";
import { challenge, formatOciError, ociError } from "./errors";
import { catalog, listTags, referrers } from "./listing";
import { deleteManifest, getManifest, putManifest } from "./manifests";
import { appendChunk, cancelUpload, finishUpload, startUpload, uploadStatus } from "./uploads";

export const oci = new Hono<{ Bindings: Cloudflare.Env }>();
oci.onError(formatOciError);

oci.use(async function apiVersion(c, next) {
  await next();
  c.res.headers.set("docker-distribution-api-version", "registry/2.0");
});

const NAME = "/:name{.+}";
// Body limits, before any handler reads (the first that matches decides): blob uploads (end-4a,
// end-4b, end-5, end-6) stream into R2 multipart parts and bound themselves; a manifest takes up
// to OCI_MAX_MANIFEST_BYTES; every other route a small body at most.
oci.use(`${NAME}/blobs/uploads/`, bodyLimit(() => "streamed"));
oci.use(`${NAME}/blobs/uploads/:id`, bodyLimit(() => "streamed"));
oci.on("PUT", `${NAME}/manifests/:reference`, bodyLimit((config) => config.ociMaxManifestBytes));
oci.use(bodyLimit((config) => config.maxRequestBodyBytes));

// end-1: clients probe this first; a 401 with the challenge starts the token flow.
function base(c: Context): Response {
  const principal = c.get("principal");
  if (c.get("badCredentials") || principal.kind === "anonymous") {
    throw ociError("UNAUTHORIZED", "authentication required", { headers: { "www-authenticate": challenge(new URL(c.req.url).origin) } });
  }
  return c.json({});
}
oci.get("/", base);
oci.get("/token", tokenEndpoint);
oci.get("/_catalog", catalog);

oci.post(`${NAME}/blobs/uploads/`, startUpload);
oci.get(`${NAME}/blobs/uploads/:id`, uploadStatus);
oci.patch(`${NAME}/blobs/uploads/:id`, appendChunk);
oci.put(`${NAME}/blobs/uploads/:id`, finishUpload);
oci.delete(`${NAME}/blobs/uploads/:id`, cancelUpload);
oci.get(`${NAME}/blobs/:digest`, getBlob);
oci.delete(`${NAME}/blobs/:digest`, deleteBlob);
oci.get(`${NAME}/manifests/:reference`, getManifest);
oci.put(`${NAME}/manifests/:reference`, putManifest);
oci.delete(`${NAME}/manifests/:reference`, deleteManifest);
oci.get(`${NAME}/tags/list`, listTags);
oci.get(`${NAME}/referrers/:digest`, referrers);

// notFound only runs on the root app; end with a catch-all so the OCI envelope is kept.
oci.all("*", (c) => {
  const path = new URL(c.req.url).pathname;
  // Mounted at /v2, the sub-app's "/" matches only "/v2"; clients ask for "/v2/".
  if (path === "/v2/" && (c.req.method === "GET" || c.req.method === "HEAD")) return base(c);
  if (c.req.method === "GET" || c.req.method === "HEAD") throw ociError("NAME_UNKNOWN", `no OCI endpoint at ${path}`);
  throw new RegistryError("METHOD_NOT_ALLOWED", `${c.req.method} is not supported on ${path}`, { protocolCode: "UNSUPPORTED" });
});
