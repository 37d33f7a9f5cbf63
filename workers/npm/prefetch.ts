// Predictive prefetch for npm: once a packument is served, warm in the background the shield
// copies an installer asks for next: the packuments of the dependencies of the version it
// resolves, and the tarballs those ranges resolve to, PREFETCH_DEPTH levels down.
import type { Context } from "hono";
import semver from "semver";
import { authorize } from "../../shared/auth/permissions";
import type { Served, Tiers } from "../../shared/tiers";
import { RecentSet, regionKey } from "../../shared/tiers/isolate-state";
import { PrefetchRun, afterAnswer, countPrefetch, shared } from "../../shared/tiers/prefetch";
import { assertPackageName } from "./names";
import { applyCooldown, type Cooldown } from "./cooldown";
import { cooldownFor } from "./live-versions";
import { packumentRequest, tarballRequestFor } from "./objects";
import { isLive, type Packument, type VersionManifest } from "./packument";

// Budget of one run (packuments and tarballs together) and its parallelism: enough for a
// 50-package tree two levels down, well under a Worker invocation's subrequest limit.
const MAX_TASKS_PER_RUN = 160;
const CONCURRENCY = 16;
// Tarballs come after every packument: installers resolve the whole tree before downloading.
const TARBALL_PRIORITY = 100;
// Documents bigger than this are not parsed in the background (CPU time is the request's).
const MAX_DOC_BYTES = 8 * 1024 * 1024;

// Per region (each has its own shields): packuments expanded lately, with the depth reached and
// the document's ETag, so an unchanged packument served again does not start the same run.
const expandedRoots = new RecentSet<{ depth: number; etag: string }>(2048, 30_000);
// Dependencies (name@spec) expanded lately and how many levels below them were covered.
const expandedDeps = new RecentSet<number>(8192, 30_000);
// Tarballs are immutable: once warmed they stay warm far longer than a packument does.
const warmedTarballs = new RecentSet<true>(8192, 10 * 60_000);

/**
 * Called as a packument is served: starts a background run unless prefetch is off or this
 * region expanded the same document to the same depth moments ago.
 */
export function prefetchDependencies(c: Context, name: string, served: Served & { found: true }): void {
  // An L1 hit is at most L1_METADATA_TTL old (a hot-tier copy is one of it), and the miss that
  // filled L1 started a run in this region then: the hot path skips even the check (a key, an
  // ETag rewrite, a lookup).
  if (served.state === "L1-HIT" || served.state === "HOT-HIT") return;
  const settings = c.get("config").tiers;
  if (!settings.prefetch || settings.prefetchDepth < 1 || settings.prefetchFanout < 1) return;
  const tiers = c.get("tiers");
  const rootKey = regionKey(tiers.region, name);
  const etag = plainEtag(served.meta.etag);
  const recent = expandedRoots.get(rootKey);
  if (recent && recent.etag === etag && recent.depth >= settings.prefetchDepth) return;
  expandedRoots.set(rootKey, { depth: settings.prefetchDepth, etag });
  // The caller was authorized for `name`; dependencies are warmed only where it could read them.
  const principal = c.get("principal");
  const anonymousRead = c.get("config").anonymousRead;
  const mayRead = (dep: string) => authorize(principal, "read", dep, anonymousRead) === "allow";
  // Upstream trees are followed too, with the cooldown's view of each document (a hidden version is never warmed).
  const run = new NpmPrefetch(tiers, mayRead, (dep) => cooldownFor(c, dep), settings.prefetchDepth, settings.prefetchFanout);
  // The rendering parsed the document already (on an L1 hit it did not: read it then).
  const doc = asPackument(served.document);
  c.executionCtx.waitUntil(afterAnswer(() => run.start(name, doc)).catch(() => expandedRoots.delete(rootKey)));
}

/** A rendering's ETag (`"<origin etag>-f"`, `"<origin etag>-f-gzip"`) and the stored one (`"<origin etag>"`) compare equal. */
function plainEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/"/g, "").replace(/-[fa](-gzip)?$/, "");
}

class NpmPrefetch {
  private readonly run = new PrefetchRun({ maxTasks: MAX_TASKS_PER_RUN, concurrency: CONCURRENCY });
  private readonly docs = new Map<string, Promise<Packument | null>>();

  constructor(
    private readonly tiers: Tiers,
    private readonly mayRead: (name: string) => boolean,
    private readonly cooldownOf: (name: string) => Cooldown | null,
    private readonly depth: number,
    private readonly fanout: number,
  ) {}

  async start(root: string, parsed: Packument | null): Promise<void> {
    const doc = parsed ?? (await this.document(root, false));
    const latest = doc?.["dist-tags"].latest;
    const manifest = latest ? doc.versions[latest] : undefined;
    if (!manifest) return;
    this.visitDependencies(manifest, this.depth - 1, 1);
    await this.run.done();
  }

  /** Queues the dependencies of one version: its packuments first, then (inside) its tarball. */
  private visitDependencies(manifest: VersionManifest, remaining: number, level: number): void {
    for (const dep of dependenciesOf(manifest, this.fanout)) {
      if (!this.mayRead(dep.name)) continue;
      const depKey = regionKey(this.tiers.region, `${dep.name}@${dep.spec}`);
      if ((expandedDeps.get(depKey) ?? -1) >= remaining) continue;
      this.run.add(`dep:${dep.name}@${dep.spec}`, level, async () => {
        const doc = await this.document(dep.name, true);
        const version = doc ? resolveSpec(doc, dep.spec) : null;
        if (!doc || !version) return;
        this.warmTarball(doc, dep.name, version, level);
        if (remaining > 0) this.visitDependencies(doc.versions[version]!, remaining - 1, level + 1);
        expandedDeps.set(depKey, remaining);
      });
    }
  }

  private warmTarball(doc: Packument, name: string, version: string, level: number): void {
    const req = tarballRequestFor(doc, name, version);
    const recentKey = regionKey(this.tiers.region, req.key);
    if (warmedTarballs.get(recentKey)) return;
    this.run.add(`tarball:${req.key}`, TARBALL_PRIORITY + level, async () => {
      const stored = await shared(`warm\n${recentKey}`, async () => {
        const ok = await this.tiers.warm(req);
        if (ok) countPrefetch(this.tiers.region, "tarball");
        return ok;
      });
      if (stored) warmedTarballs.set(recentKey, true);
    });
  }

  /** The stored packument, read through the tiers (so a dependency's lands in the shield). */
  private document(name: string, count: boolean): Promise<Packument | null> {
    let doc = this.docs.get(name);
    if (!doc) {
      doc = shared(`packument\n${regionKey(this.tiers.region, name)}`, async () => {
        const stored = await readPackument(this.tiers, name);
        const found = stored && applyCooldown(stored, this.cooldownOf(name));
        if (found && count) countPrefetch(this.tiers.region, "packument");
        return found;
      });
      this.docs.set(name, doc);
    }
    return doc;
  }
}

async function readPackument(tiers: Tiers, name: string): Promise<Packument | null> {
  const served = await tiers.get(packumentRequest(name));
  if (!served.found) return null;
  if (served.meta.size > MAX_DOC_BYTES) {
    if (served.body instanceof ReadableStream) await served.body.cancel();
    return null;
  }
  const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
  return asPackument(JSON.parse(new TextDecoder().decode(bytes)));
}

/** A live packument, or null for anything else (a tombstone, a document of another shape). */
function asPackument(value: unknown): Packument | null {
  const doc = value as Packument | null | undefined;
  return doc && typeof doc === "object" && doc.versions && doc["dist-tags"] && isLive(doc) ? doc : null;
}

export interface Dependency {
  name: string;
  spec: string;
}

/**
 * What an installer fetches for one version: `dependencies`, then `optionalDependencies`, then
 * peer dependencies not marked optional (npm 7+ and pnpm install those by default; yarn does
 * not, so they come last and are the first cut by the fan-out). Never devDependencies: they are
 * not installed for a dependency. Non-registry specs (git, file, URLs) are skipped; `npm:`
 * aliases resolve to their target.
 */
export function dependenciesOf(manifest: VersionManifest, fanout: number): Dependency[] {
  const peerMeta = (manifest.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean } | undefined>;
  const peers = Object.entries(record(manifest.peerDependencies)).filter(([n]) => !peerMeta[n]?.optional);
  const out: Dependency[] = [];
  const names = new Set<string>();
  for (const [alias, spec] of [...Object.entries(record(manifest.dependencies)), ...Object.entries(record(manifest.optionalDependencies)), ...peers]) {
    if (out.length >= fanout) break;
    if (names.has(alias)) continue;
    names.add(alias);
    const dep = registryDependency(alias, spec);
    if (dep) out.push(dep);
  }
  return out;
}

function record(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

const NON_REGISTRY = /^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:|file:|link:|workspace:|portal:|patch:|https?:|[a-z]+:\/\/)/i;
const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The registry package and range/tag a dependency entry names, or null when it is not one. */
export function registryDependency(alias: string, rawSpec: string): Dependency | null {
  let name = alias;
  let spec = rawSpec.trim();
  if (spec.startsWith("npm:")) {
    const target = spec.slice(4);
    const at = target.indexOf("@", 1);
    name = at > 0 ? target.slice(0, at) : target;
    spec = at > 0 ? target.slice(at + 1) : "latest";
  }
  if (NON_REGISTRY.test(spec) || spec.includes("/")) return null;
  if (semver.validRange(spec, { loose: true }) === null && !TAG.test(spec)) return null;
  try {
    assertPackageName(name);
  } catch {
    return null;
  }
  return { name, spec };
}

/**
 * The version an installer picks for `spec`, as npm-pick-manifest does: a dist-tag names its
 * version; for a range, `latest` wins when it satisfies, else the highest satisfying version,
 * preferring versions that are not deprecated.
 */
export function resolveSpec(doc: Packument, spec: string): string | null {
  const tags = doc["dist-tags"];
  const versions = Object.keys(doc.versions);
  const wanted = spec === "" || spec === "*" ? "latest" : spec;
  const tagged = tags[wanted];
  if (tagged !== undefined) return doc.versions[tagged] ? tagged : null;
  const range = semver.validRange(wanted, { loose: true });
  if (range === null) return null;
  const latest = tags.latest;
  if (latest && doc.versions[latest] && semver.satisfies(latest, range, { loose: true })) return latest;
  const live = versions.filter((v) => !doc.versions[v]!.deprecated);
  return semver.maxSatisfying(live, range, { loose: true }) ?? semver.maxSatisfying(versions, range, { loose: true });
}
