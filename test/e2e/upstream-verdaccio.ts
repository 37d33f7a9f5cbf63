// A real Verdaccio (from the npm registry) on loopback as the upstream npm registry of the
// pull-through tests: packages seeded straight into its storage (real npm tarballs, publish
// times chosen by the test), every request it serves counted from its own HTTP log.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../scripts/lib/dev-server.mjs";
import { createVerdaccioUser, ensureVerdaccio, seedVerdaccioStorage, startVerdaccio } from "../../scripts/lib/bench/verdaccio.mjs";
import { digestsOf, tarballBytes } from "../helpers/npm-body";

export interface SeedVersion {
  version: string;
  dependencies?: Record<string, string>;
  /** ISO publish time; null: the upstream gives none; default: a moment ago. */
  time?: string | null;
  /** The upstream's packument claims an integrity its tarball does not have. */
  corrupt?: boolean;
}

export interface SeedPackage {
  name: string;
  versions: SeedVersion[];
}

export interface UpstreamVerdaccio {
  url: string;
  /** An API token of a Verdaccio user (for npm unpublish at the upstream). */
  token: string;
  /** Requests Verdaccio logged, as `METHOD /path`. */
  requests(): string[];
  /** How many logged requests were `GET <path>` exactly. */
  gets(path: string): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startUpstreamVerdaccio(packages: SeedPackage[]): Promise<UpstreamVerdaccio> {
  const dir = join(projectRoot, "bench-results", "verdaccio");
  ensureVerdaccio(dir);
  const root = mkdtempSync(join(tmpdir(), "pkgedge-upstream-"));
  const storageDir = join(root, "storage");
  let server = await startVerdaccio({ dir, storageDir, workDir: join(root, "work"), logLevel: "http" });
  // Seeded into storage, then read by a restarted Verdaccio (as its own publish would write it).
  for (const pkg of packages) {
    const entries = await Promise.all(pkg.versions.map(async (v) => {
      const manifest = { name: pkg.name, version: v.version, description: `upstream package ${pkg.name}`, ...(v.dependencies ? { dependencies: v.dependencies } : {}) };
      const tgz = tarballBytes(`${pkg.name}@${v.version}`, manifest);
      const dist = await digestsOf(v.corrupt ? tarballBytes(`other bytes of ${pkg.name}@${v.version}`) : tgz);
      return { manifest, tgz, dist, time: v.time };
    }));
    seedVerdaccioStorage(storageDir, server.url, entries);
  }
  await server.restart();
  const token = await createVerdaccioUser(server.url, "upstream-maintainer", "upstream-password-1");
  let earlier = "";
  const requests = () => {
    const out: string[] = [];
    for (const line of (earlier + server.output()).split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        // One "requested" record per request as it arrives (its answer may be logged more than once).
        const entry = JSON.parse(line) as { req?: { method?: string; url?: string }; msg?: string };
        if (entry.req?.method && entry.req.url && entry.msg?.includes(" requested ")) out.push(`${entry.req.method} ${entry.req.url}`);
      } catch {
        // not a log record
      }
    }
    return out;
  };
  return {
    url: server.url,
    token,
    requests,
    gets: (path) => requests().filter((r) => r === `GET ${path}`).length,
    async stop() {
      earlier += server.output();
      await server.stop();
    },
    async start() {
      // stop() kept the log so far; the restarted process logs afresh.
      await server.restart();
    },
  };
}
