// The packument (the document npm GETs for a package): its stored shape, and the two forms
// served to clients, full JSON and the abbreviated "corgi" form for installers
// (Accept: application/vnd.npm.install-v1+json).

export const ABBREVIATED_TYPE = "application/vnd.npm.install-v1+json";

export interface Dist {
  integrity: string;
  shasum: string;
  tarball: string;
  fileCount?: number;
  unpackedSize?: number;
  [k: string]: unknown;
}

export interface VersionManifest {
  name: string;
  version: string;
  dist: Dist;
  deprecated?: string;
  [k: string]: unknown;
}

/** Publish times by version, plus npm's bookkeeping entries. */
export type PackumentTime = { created: string; modified: string; unpublished?: { time: string; versions: string[] } } & {
  [version: string]: string | { time: string; versions: string[] } | undefined;
};

export interface Packument {
  _id: string;
  name: string;
  _rev: string;
  description?: string;
  "dist-tags": Record<string, string>;
  versions: Record<string, VersionManifest>;
  /** Every version ever published keeps its entry here, which is what forbids reusing it. */
  time: PackumentTime;
  maintainers?: Array<{ name: string; email?: string }>;
  readme?: string;
  readmeFilename?: string;
  /** Present on a document mirrored from the upstream registry (workers/npm/upstream.ts); never served. */
  _upstream?: UpstreamSource;
  [k: string]: unknown;
}

export interface UpstreamSource {
  /** Each version's tarball URL at the upstream. */
  tarballs: Record<string, string>;
}

// Fields of a version manifest that installers need (npm's registry documents this list).
const ABBREVIATED_FIELDS = [
  "name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies",
  "bundleDependencies", "bundledDependencies", "peerDependencies", "peerDependenciesMeta", "bin",
  "directories", "engines", "os", "cpu", "libc", "_hasShrinkwrap", "hasInstallScript", "dist",
  "funding", "license", "acceptDependencies",
] as const;

/** A packument is "unpublished" when every version is gone; npm answers 404 for it. */
export function isLive(doc: Packument): boolean {
  return Object.keys(doc.versions).length > 0;
}

/**
 * Renders the stored document for a client reaching us at `origin`: tarball URLs are stored as
 * paths (`/npm/...`) so that the same bytes serve any host name the registry is reached on.
 */
export function renderPackument(doc: Packument, form: "full" | "abbreviated", origin: string): string {
  const absolute = (v: VersionManifest): VersionManifest =>
    ({ ...v, dist: { ...v.dist, tarball: v.dist.tarball.startsWith("/") ? origin + v.dist.tarball : v.dist.tarball } });
  if (form === "full") {
    const versions: Record<string, VersionManifest> = {};
    for (const [v, m] of Object.entries(doc.versions)) versions[v] = absolute(m);
    const { _upstream, ...served } = doc;
    return JSON.stringify({ ...served, versions });
  }
  const versions: Record<string, Record<string, unknown>> = {};
  for (const [v, m] of Object.entries(doc.versions)) {
    const out: Record<string, unknown> = {};
    const full = absolute(m) as Record<string, unknown>;
    for (const f of ABBREVIATED_FIELDS) if (full[f] !== undefined) out[f] = full[f];
    versions[v] = out;
  }
  const cooldown = doc["pkgedge-cooldown"];
  return JSON.stringify({ name: doc.name, modified: doc.time.modified, "dist-tags": doc["dist-tags"], versions, ...(cooldown ? { "pkgedge-cooldown": cooldown } : {}) });
}

/** npm's abbreviated form is asked for with this media type; anything else gets full JSON. */
export function wantsAbbreviated(accept: string | undefined): boolean {
  return !!accept && accept.includes(ABBREVIATED_TYPE);
}
