// The PyPI protocol under /pypi/: the Simple API (PEP 503/691/658/714/700/592/792) for pip, uv
// and friends, file downloads, and the upload API twine speaks (/pypi/legacy/).
import { Hono, type Context } from "hono";
import { authorize } from "../../shared/auth/permissions";
import { RegistryError, notFound } from "../../shared/errors";
import { ObjectStore } from "../../shared/origin";
import { isPublicRead, requireAccess } from "../access";
import { bodyLimit } from "../middleware/body-limit";
import { cacheControl, cacheStateHeader, servedResponse } from "../responses";
import { pypiError } from "./errors";
import { INDEX_PREFIX } from "./keys";
import { isValidProjectName, normalizeName } from "./names";
import { negotiate, type Negotiated } from "./negotiation";
import { acceptedEncodings } from "../../shared/http/encoding";
import { describeAge, releaseCutoff } from "../../shared/upstream/policy";
import { uploadedTooRecently } from "./cooldown";
import { fileRequest, metadataRequest, projectDocument, projectPage, projectRequest, upstreamProjectRef } from "./objects";
import { recheckedUpstreamDocument } from "../upstream-recheck";
import { servedFile, type ProjectDoc } from "./project";
import { prefetchProject } from "./prefetch";
import { projectUrl, renderIndexHtml, renderIndexJson } from "./simple-page";
import { upload } from "./upload";

export const pypi = new Hono<{ Bindings: Cloudflare.Env }>();
pypi.onError(pypiError);

// An upload's body is the form plus the file; the file's own bound is enforced as it streams.
pypi.on("POST", ["/legacy/", "/legacy"], bodyLimit((config) => config.pypiMaxUploadBytes + config.maxRequestBodyBytes));
pypi.use(bodyLimit((config) => config.maxRequestBodyBytes));

// twine posts to the URL it was given, with or without the slash; a redirect would fail it.
pypi.post("/legacy/", upload);
pypi.post("/legacy", upload);

const SIMPLE_HEADERS = { vary: "Accept, Accept-Encoding, Authorization" };

/** The negotiated format, or 406 naming what we serve. */
function formatOf(c: Context): Negotiated {
  const chosen = negotiate(c.req.header("accept"), c.req.query("format"));
  if (!chosen) throw new RegistryError("NOT_ACCEPTABLE", "no acceptable format: this index serves application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html and text/html", { headers: SIMPLE_HEADERS });
  return chosen;
}

const MAX_LISTED = 10_000;

pypi.get("/simple", (c) => c.redirect(`/pypi/simple/${new URL(c.req.url).search}`, 301));
pypi.get("/simple/", async (c) => {
  requireAccess(c, "read", null);
  const format = formatOf(c);
  const { keys } = await new ObjectStore(c.env.BLOBS).list(INDEX_PREFIX, { limit: MAX_LISTED });
  const principal = c.get("principal");
  const anonymousRead = c.get("config").anonymousRead;
  // A caller sees only the projects it may read.
  const projects = keys.map((k) => ({ name: k.slice(INDEX_PREFIX.length) })).filter((p) => authorize(principal, "read", p.name, anonymousRead) === "allow");
  const body = format.format === "json" ? renderIndexJson(projects) : renderIndexHtml(projects);
  return c.body(c.req.method === "HEAD" ? "" : body, 200, { "content-type": format.contentType, "cache-control": "no-store", ...SIMPLE_HEADERS });
});

/** PEP 503: a project's URL uses its normalised name; any other spelling is redirected there. */
function redirectToNormalised(c: Context, project: string): Response {
  if (!isValidProjectName(project)) throw notFound(`project ${project} not found`);
  return c.redirect(`${projectUrl(normalizeName(project))}${new URL(c.req.url).search}`, 301);
}

pypi.get("/simple/:project/", async (c) => {
  const raw = c.req.param("project");
  if (!isValidProjectName(raw) || normalizeName(raw) !== raw) return redirectToNormalised(c, raw);
  requireAccess(c, "read", raw);
  const format = formatOf(c);
  const served = await c.get("tiers").render(projectRequest(raw), projectPage(format.format, releaseCutoff(c.get("config"), "pypi", raw)),
    acceptedEncodings(c.req.header("accept-encoding")));
  if (!served.found) throw notFound(`project ${raw} not found`, { headers: { ...cacheStateHeader(served), ...SIMPLE_HEADERS } });
  prefetchProject(c, raw, served);
  return servedResponse(c, served, {
    "content-type": format.contentType,
    "cache-control": cacheControl(isPublicRead(c), false, c.get("config").tiers.l1MetadataTtl),
    ...SIMPLE_HEADERS,
  });
});
pypi.get("/simple/:project", (c) => redirectToNormalised(c, c.req.param("project")));

/** The project document through the tiers: whether a file is listed (the commit point). */
async function documentOf(c: Context, project: string): Promise<ProjectDoc | null> {
  const served = await c.get("tiers").render(projectRequest(project), projectDocument());
  if (!served.found) return null;
  if (served.document) return served.document as ProjectDoc;
  const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as ProjectDoc;
  return doc.deleted ? null : doc;
}

pypi.get("/files/:project/:file", async (c) => {
  const project = c.req.param("project");
  const file = c.req.param("file");
  if (!isValidProjectName(project) || normalizeName(project) !== project) throw notFound(`file ${file} not found`);
  requireAccess(c, "read", project);
  const wantsMetadata = file.endsWith(".metadata");
  const filename = wantsMetadata ? file.slice(0, -".metadata".length) : file;
  let doc = await documentOf(c, project);
  if (doc?._upstream && !servedFile(doc, filename)) {
    // A lock newer than the tiers' copy of the page (workers/upstream-recheck.ts).
    const newer = await recheckedUpstreamDocument<ProjectDoc>(c, upstreamProjectRef(project), (d) => Object.hasOwn(d.files, filename));
    if (newer?._upstream && !newer.deleted) doc = newer;
  }
  const entry = doc ? servedFile(doc, filename) : null;
  if (!entry || (wantsMetadata && !entry.coreMetadataSha256)) throw notFound(`file ${file} not found`);
  const cutoff = doc?._upstream ? releaseCutoff(c.get("config"), "pypi", project) : null;
  if (cutoff !== null && uploadedTooRecently(entry, cutoff)) {
    const age = describeAge(c.get("config").upstream.minReleaseAgeMs.pypi!);
    throw new RegistryError("FORBIDDEN", `${filename} was uploaded upstream less than ${age} ago (or without an upload time): this index's MIN_RELEASE_AGE policy (pypi:${age}) refuses it until then`);
  }
  const served = await c.get("tiers").get(wantsMetadata ? metadataRequest(project, entry) : fileRequest(project, entry));
  if (!served.found) throw notFound(`file ${file} not found`, { headers: cacheStateHeader(served) });
  return servedResponse(c, served, {
    "content-type": "application/octet-stream",
    "cache-control": cacheControl(isPublicRead(c), true, 0),
  }, { ranges: true });
});

// notFound only runs on the root app; end with a catch-all so our format is kept.
pypi.all("*", (c) => {
  throw new RegistryError(c.req.method === "GET" || c.req.method === "HEAD" ? "NOT_FOUND" : "METHOD_NOT_ALLOWED", `no PyPI endpoint for ${c.req.method} ${new URL(c.req.url).pathname}`);
});
