// /_/pypi/projects/<project>/...: yank and unyank (PEP 592), project status (PEP 792) and
// deletes, as the admin API (JSON) and the CLI (`pkgedge pypi ...`) use them. A token with
// publish rights on the project may yank, set it active/archived/deprecated and delete; only an
// admin quarantines a project or lifts a quarantine. Every change is audited and invalidated in
// every region (deletes and quarantines at once everywhere, as removals).
import { Hono, type Context } from "hono";
import { isAdmin } from "../../shared/auth/permissions";
import { RegistryError, badRequest, notFound } from "../../shared/errors";
import { readJsonLimited } from "../../shared/http/body";
import { ObjectStore } from "../../shared/origin";
import { requireAccess } from "../access";
import { recordAudit } from "../audit";
import { projectObject } from "./keys";
import { assertReason, deleteFiles, parseSelection, setStatus, setYanked } from "./manage";
import { isValidProjectName, normalizeName } from "./names";
import { documentChange, filesRemoval } from "./objects";
import { STATUSES, type ProjectDoc, type ProjectStatus } from "./project";

export const pypiAdmin = new Hono<{ Bindings: Cloudflare.Env }>();

const store = (c: Context) => new ObjectStore(c.env.BLOBS);

/** The route's project, normalised, once the caller may publish to it. */
function projectOf(c: Context): string {
  const raw = c.req.param("project")!;
  if (!isValidProjectName(raw)) throw badRequest(`"${raw}" is not a valid project name`);
  const project = normalizeName(raw);
  requireAccess(c, "publish", project);
  return project;
}

async function bodyOf(c: Context): Promise<Record<string, unknown>> {
  const body = await readJsonLimited<unknown>(c.req.raw, 64 * 1024);
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the body must be a JSON object");
  return body as Record<string, unknown>;
}

pypiAdmin.get("/projects/:project", async (c) => {
  const project = projectOf(c);
  const stored = await store(c).readJson<ProjectDoc>(projectObject(project));
  if (!stored || stored.doc.deleted) throw notFound(`project ${project} not found`);
  return c.json(stored.doc);
});

for (const action of ["yank", "unyank"] as const) {
  pypiAdmin.post(`/projects/:project/${action}`, async (c) => {
    const project = projectOf(c);
    const body = await bodyOf(c);
    const sel = parseSelection(body);
    const reason = action === "yank" ? assertReason(body.reason) ?? "" : null;
    const files = await setYanked(store(c), project, sel, reason);
    recordAudit(c, { action: `pypi.${action}`, target: project, detail: { ...sel, files, ...(reason ? { reason } : {}) } });
    await c.get("tiers").invalidate(documentChange(project));
    return c.json({ ok: true, project, files });
  });
}

pypiAdmin.post("/projects/:project/status", async (c) => {
  const project = projectOf(c);
  const body = await bodyOf(c);
  const status = body.status as ProjectStatus;
  if (!STATUSES.includes(status)) throw badRequest(`status must be one of ${STATUSES.join(", ")}`);
  const reason = assertReason(body.reason);
  const before = (await store(c).readJson<ProjectDoc>(projectObject(project)))?.doc;
  if (!before || before.deleted) throw notFound(`project ${project} not found`);
  // Quarantine is the response to malware: only an admin sets it or lifts it.
  if ((status === "quarantined" || before.status === "quarantined") && !isAdmin(c.get("principal"))) {
    throw new RegistryError("FORBIDDEN", "only an admin may quarantine a project or lift a quarantine");
  }
  const doc = await setStatus(store(c), project, status, reason);
  recordAudit(c, { action: "pypi.status", target: project, detail: { status, from: before.status, ...(reason ? { reason } : {}) } });
  await c.get("tiers").invalidate(documentChange(project, { removal: status === "quarantined" }));
  return c.json({ ok: true, project, status: doc.status, ...(doc.statusReason ? { reason: doc.statusReason } : {}) });
});

const remove = (kind: "project" | "version" | "file") => async (c: Context) => {
  const project = projectOf(c);
  const sel = kind === "project" ? null : kind === "version" ? { version: c.req.param("version")! } : { filename: c.req.param("filename")! };
  const removed = await deleteFiles(store(c), project, sel);
  const files = removed.map((f) => f.filename);
  recordAudit(c, { action: `pypi.delete.${kind}`, target: project, detail: { ...(sel ?? {}), files } });
  await c.get("tiers").invalidate(filesRemoval(project, files));
  return c.json({ ok: true, project, deleted: files });
};
pypiAdmin.delete("/projects/:project", remove("project"));
pypiAdmin.delete("/projects/:project/versions/:version", remove("version"));
pypiAdmin.delete("/projects/:project/files/:filename", remove("file"));
