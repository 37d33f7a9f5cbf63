// PyPI pull-through: what an UpstreamMirror does for PyPI objects of a project not hosted here.
// A project page is fetched from PYPI_UPSTREAM (PEP 691 JSON when offered, else PEP 503 HTML;
// conditionally, with the upstream's ETag) and stored as a project document like a hosted one,
// its files' upstream URLs kept aside. Files without a sha256 are left out (they cannot be
// verified). Compared with the copy it replaces: files the upstream removed are deleted here
// too, from the origin and every region's tiers, and audited as `upstream.removed`; yanks and
// a quarantine (PEP 792) travel with the document, a quarantine as a removal everywhere. Files
// and core metadata stream into the origin verified against their sha256, and are kept for good.
import { log } from "../../shared/log";
import { AuditStore } from "../../shared/origin/audit-store";
import { invalidateEverywhere } from "../../shared/tiers/invalidation";
import { UpstreamFailure, upstreamFetch } from "../../shared/upstream/http";
import { releaseCutoff } from "../../shared/upstream/policy";
import { fetchMirroredDocument, replaceMirroredDocument } from "../../shared/upstream/mirrored-document";
import type { MirrorContext, RefreshOutcome } from "../../shared/upstream/types";
import { storeVerifiedCopy } from "../../shared/upstream/verified-copy";
import { fromHex } from "../../shared/upstream/verified-stream";
import { mirroredDocumentHaving } from "../../durable-objects/upstream-mirror";
import { uploadedTooRecently } from "./cooldown";
import { upstreamFileObject, upstreamProjectObject } from "./keys";
import { parseDistFile } from "./names";
import { projectCacheKey, upstreamFileCacheKey, upstreamMetadataCacheKey, upstreamProjectRef } from "./objects";
import { STATUSES, UPSTREAM_UPLOAD, newProject, type FileEntry, type ProjectDoc, type ProjectStatus } from "./project";
import { UPSTREAM_ACCEPT, readUpstreamPage } from "./upstream-page";

function registry(ctx: MirrorContext) {
  const pypi = ctx.config.upstream.pypi;
  if (!pypi) throw new UpstreamFailure("no PyPI upstream is configured");
  return pypi;
}

export async function mirrorProject(ctx: MirrorContext): Promise<RefreshOutcome> {
  const project = ctx.ref.name;
  const url = `${registry(ctx).url}/${project}/`;
  const fetched = await fetchMirroredDocument<ProjectDoc>(ctx, url, new Headers({ accept: UPSTREAM_ACCEPT, "user-agent": "pkgedge-mirror" }));
  if ("kind" in fetched) return fetched;
  const { res, previous } = fetched;
  const copyKey = upstreamProjectObject(project);
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    if (previous) await takeDown(ctx, previous, Object.keys(previous.files), true);
    return { kind: "missing" };
  }
  const doc = storedProject(project, await readUpstreamPage(res, res.url || url));
  const removed = previous ? Object.keys(previous.files).filter((f) => !Object.hasOwn(doc.files, f)) : [];
  await replaceMirroredDocument(ctx, copyKey, previous, doc, {
    removed: removed.length,
    takeDown: () => takeDown(ctx, previous!, removed, false),
    // A quarantine hides every file: applied everywhere at once, like any removal.
    change: () => ({ keys: [projectCacheKey(project)], removal: doc.status === "quarantined" && previous!.status !== "quarantined" }),
  });
  return { kind: "stored", ...(res.headers.get("etag") ? { etag: res.headers.get("etag")! } : {}) };
}

/** Files the upstream no longer lists: gone from the origin, every region, and audited. */
async function takeDown(ctx: MirrorContext, previous: ProjectDoc, filenames: string[], wholeProject: boolean): Promise<void> {
  const project = previous.name;
  if (filenames.length > 0) await ctx.store.delete(filenames.flatMap((f) => [upstreamFileObject(project, f), `${upstreamFileObject(project, f)}.metadata`]));
  await invalidateEverywhere(ctx.env, ctx.config, {
    keys: [projectCacheKey(project), ...filenames.flatMap((f) => [upstreamFileCacheKey(project, f), upstreamMetadataCacheKey(project, f)])], removal: true,
  }, "upstream");
  await new AuditStore(ctx.env.BLOBS).append({
    id: crypto.randomUUID(), at: new Date().toISOString(), action: "upstream.removed", target: project,
    actor: "upstream", actorKind: "upstream", region: "upstream",
    detail: { protocol: "pypi", files: filenames, wholeProject },
  }).catch((err) => log.error("audit entry not written", { action: "upstream.removed", project, error: err }));
  if (wholeProject) await ctx.store.delete(upstreamProjectObject(project));
}

/**
 * The upstream page as a project document. Only files named for this project by the wheel or
 * sdist grammar, with a sha256, are kept; a size or upload time the page does not give stays
 * unknown (-1, "") rather than guessed, and an unknown upload time fails the cooldown.
 */
export function storedProject(project: string, page: Awaited<ReturnType<typeof readUpstreamPage>>): ProjectDoc {
  const doc = newProject(project, page.name ?? project);
  const status = STATUSES.find((s) => s === page.status);
  if (status) doc.status = status as ProjectStatus;
  if (page.statusReason) doc.statusReason = page.statusReason;
  const urls: Record<string, string> = {};
  for (const f of page.files) {
    const dist = parseDistFile(f.filename);
    if (!dist || dist.project !== project || !f.sha256 || Object.hasOwn(doc.files, f.filename)) continue;
    const entry: FileEntry = {
      filename: f.filename, version: dist.version, packagetype: dist.type, uploadId: UPSTREAM_UPLOAD,
      size: f.size ?? -1, sha256: f.sha256, blake2_256: "", uploadTime: f.uploadTime ?? "",
      ...(f.requiresPython ? { requiresPython: f.requiresPython } : {}),
      ...(f.coreMetadataSha256 ? { coreMetadataSha256: f.coreMetadataSha256 } : {}),
      ...(f.yanked !== undefined ? { yanked: f.yanked } : {}),
    };
    doc.files[f.filename] = entry;
    urls[f.filename] = f.url;
  }
  return { ...doc, _upstream: { files: urls } };
}

export async function mirrorFile(ctx: MirrorContext, object: { filename: string; metadata: boolean }): Promise<RefreshOutcome> {
  if (await ctx.store.exists(ctx.ref.originKey)) return { kind: "stored" };
  // A direct download (a pinned requirement) may come before its project page: mirror that first.
  const doc = await mirroredDocumentHaving<ProjectDoc>(ctx, upstreamProjectRef(ctx.ref.name), (d) => Object.hasOwn(d.files, object.filename));
  const entry = doc && Object.hasOwn(doc.files, object.filename) ? doc.files[object.filename]! : null;
  const source = doc?._upstream?.files[object.filename];
  if (!doc || !entry || !source || doc.status === "quarantined") return { kind: "missing" };
  const cutoff = releaseCutoff(ctx.config, "pypi", ctx.ref.name);
  if (cutoff !== null && uploadedTooRecently(entry, cutoff)) return { kind: "missing" };
  const sha256 = object.metadata ? entry.coreMetadataSha256 : entry.sha256;
  if (!sha256) return { kind: "missing" };
  const url = object.metadata ? `${source}.metadata` : source;
  const res = await upstreamFetch(url, { headers: { "user-agent": "pkgedge-mirror" } }, { protocol: "pypi", kind: object.metadata ? "metadata" : "blob", timeoutMs: ctx.config.upstream.timeoutMs, calls: ctx.calls });
  return storeVerifiedCopy(ctx, res, { algorithm: "SHA-256", bytes: fromHex(sha256) }, `${object.metadata ? "core metadata of " : ""}${object.filename} (sha256)`);
}
