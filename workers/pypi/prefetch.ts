// Predictive prefetch for PyPI: once a project page is served, warm in the background what an
// installer asks for next, in the region that served it: the newest release's file (a
// pure-Python wheel if there is one, else the sdist) and its core metadata, then, through that
// metadata's Requires-Dist, the dependencies' project documents, PREFETCH_DEPTH levels down.
// Metadata files and documents first, files last: pip resolves before it downloads.
import type { Context } from "hono";
import { authorize } from "../../shared/auth/permissions";
import type { Served, Tiers } from "../../shared/tiers";
import { RecentSet, regionKey } from "../../shared/tiers/isolate-state";
import { PrefetchRun, countPrefetch, shared } from "../../shared/tiers/prefetch";
import { parseCoreMetadata } from "./metadata";
import { isValidProjectName, normalizeName } from "./names";
import { fileRequest, metadataRequest, projectDocument, projectRequest } from "./objects";
import { listedFiles, type FileEntry, type ProjectDoc } from "./project";

const MAX_TASKS_PER_RUN = 160;
const CONCURRENCY = 16;
const FILE_PRIORITY = 100;
const MAX_METADATA_BYTES = 1024 * 1024;

// Per region: project documents expanded lately (with their ETag), so a page served again
// unchanged does not start the same run.
const expandedRoots = new RecentSet<string>(2048, 30_000);

/**
 * The file an installer of the newest release most likely fetches: not yanked (PEP 592: skipped
 * unless pinned), newest upload first; a wheel any Python can install before the sdist. Wheels
 * for particular platforms are left alone: which one a client needs is its own business.
 */
export function likelyFile(doc: ProjectDoc): FileEntry | null {
  const live = listedFiles(doc).filter((f) => f.yanked === undefined);
  if (live.length === 0) return null;
  const newest = live[live.length - 1]!.version;
  const release = live.filter((f) => f.version === newest);
  return release.find((f) => /-(py3|py2\.py3)-none-any\.whl$/.test(f.filename)) ?? release.find((f) => f.packagetype === "sdist") ?? null;
}

/** Project names a core metadata file's Requires-Dist lines name, extras-only ones left out. */
export function requiredProjects(metadata: Uint8Array): string[] {
  const md = parseCoreMetadata(metadata, "metadata");
  const out = new Set<string>();
  for (const line of md.get("requires-dist") ?? []) {
    const [spec, marker] = line.split(";");
    if (marker && /\bextra\s*==/.test(marker)) continue;
    const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec ?? "")?.[1];
    if (name && isValidProjectName(name)) out.add(normalizeName(name));
  }
  return [...out];
}

export function prefetchProject(c: Context, project: string, served: Served & { found: true }): void {
  const settings = c.get("config").tiers;
  if (!settings.prefetch || settings.prefetchDepth < 1 || settings.prefetchFanout < 1) return;
  const tiers = c.get("tiers");
  const rootKey = regionKey(tiers.region, project);
  const etag = served.meta.etag.replace(/"/g, "").replace(/-[hj]$/, "");
  if (expandedRoots.get(rootKey) === etag) return;
  expandedRoots.set(rootKey, etag);
  const principal = c.get("principal");
  const anonymousRead = c.get("config").anonymousRead;
  const mayRead = (name: string) => authorize(principal, "read", name, anonymousRead) === "allow";
  const run = new PypiPrefetch(tiers, mayRead, settings.prefetchFanout);
  c.executionCtx.waitUntil(run.start(project, (served.document as ProjectDoc | undefined) ?? null, settings.prefetchDepth).catch(() => expandedRoots.delete(rootKey)));
}

class PypiPrefetch {
  private readonly run = new PrefetchRun({ maxTasks: MAX_TASKS_PER_RUN, concurrency: CONCURRENCY });

  constructor(private readonly tiers: Tiers, private readonly mayRead: (name: string) => boolean, private readonly fanout: number) {}

  async start(project: string, doc: ProjectDoc | null, depth: number): Promise<void> {
    const root = doc ?? (await this.document(project));
    if (root) this.visitRelease(project, root, depth);
    await this.run.done();
  }

  private async document(project: string): Promise<ProjectDoc | null> {
    const served = await this.tiers.render(projectRequest(project), projectDocument());
    if (!served.found) return null;
    if (served.document) return served.document as ProjectDoc;
    const doc = JSON.parse(new TextDecoder().decode(await bytesOf(served.body))) as ProjectDoc;
    return doc.deleted ? null : doc;
  }

  /** Warms one project's likely file (last) and its metadata, whose dependencies come next. */
  private visitRelease(project: string, doc: ProjectDoc, remaining: number): void {
    const file = likelyFile(doc);
    if (!file) return;
    const region = this.tiers.region;
    this.run.add(`file:${project}/${file.filename}`, FILE_PRIORITY, () =>
      shared(regionKey(region, `pypi-file:${project}/${file.filename}`), async () => {
        if (await this.tiers.warm(fileRequest(project, file))) countPrefetch(region, "file");
      }));
    if (!file.coreMetadataSha256 || remaining < 1) return;
    this.run.add(`metadata:${project}/${file.filename}`, 0, async () => {
      const served = await this.tiers.get(metadataRequest(project, file));
      if (!served.found || served.meta.size > MAX_METADATA_BYTES) return;
      countPrefetch(region, "metadata");
      const deps = requiredProjects(await bytesOf(served.body)).filter(this.mayRead).slice(0, this.fanout);
      for (const dep of deps) {
        this.run.add(`project:${dep}`, 0, async () => {
          const depDoc = await shared(regionKey(region, `pypi-project:${dep}`), () => this.document(dep));
          if (!depDoc) return;
          countPrefetch(region, "project");
          this.visitRelease(dep, depDoc, remaining - 1);
        });
      }
    });
  }
}

async function bytesOf(body: ReadableStream<Uint8Array> | Uint8Array): Promise<Uint8Array> {
  return body instanceof Uint8Array ? body : new Uint8Array(await new Response(body).arrayBuffer());
}
