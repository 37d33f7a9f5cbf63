// A corpus of real npm packages: resolves a dependency tree once against the machine's
// registry, fetches each tarball once and keeps both under bench-results/corpus/.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import semver from "semver";
import { cleanEnv } from "../dev-server.mjs";
import { cleanManifest } from "./npm-publish.mjs";
import { readPackageJson } from "./tarball.mjs";

/** The registry npm is configured with on this machine (never written into a file here). */
export function configuredRegistry() {
  const r = spawnSync("npm", ["config", "get", "registry"], { env: cleanEnv(), encoding: "utf8", timeout: 30_000 });
  const url = (r.stdout ?? "").trim();
  if (r.status !== 0 || !/^https?:\/\//.test(url)) throw new Error(`npm config get registry failed: ${r.stderr}`);
  return url.endsWith("/") ? url : `${url}/`;
}

function fileNameFor(name, version) {
  return `${name.replace("/", "__")}-${version}.tgz`;
}

/**
 * Resolves `top`'s dependency tree with `npm install --package-lock-only` in a temp dir.
 * Returns [{ name, version, integrity, resolved }] (one per distinct name@version).
 */
function resolveTree(top, log) {
  const dir = mkdtempSync(join(tmpdir(), "pkgedge-bench-resolve-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-resolve", version: "1.0.0", private: true }));
    log(`resolving the dependency tree of ${top} against the configured registry...`);
    const r = spawnSync("npm", ["install", top, "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir, env: cleanEnv(), encoding: "utf8", timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`npm install --package-lock-only ${top} failed:\n${r.stderr}`);
    const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8"));
    const seen = new Map();
    for (const [path, entry] of Object.entries(lock.packages ?? {})) {
      if (!path || entry.link || entry.inBundle || !entry.version) continue;
      const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      const key = `${name}@${entry.version}`;
      if (!seen.has(key)) seen.set(key, { name, version: entry.version, integrity: entry.integrity, resolved: entry.resolved });
    }
    return [...seen.values()];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkIntegrity(buf, integrity) {
  if (!integrity) return true;
  return integrity.split(/\s+/).some((sri) => {
    const m = /^(sha\d+)-(.+)$/.exec(sri);
    return m && createHash(m[1]).update(buf).digest("base64") === m[2];
  });
}

/**
 * Loads (or builds, the first time) the corpus for `top`. Every tarball is fetched once and
 * checked against the lock's integrity. Returns { top, topVersion, packages: [{ name, version,
 * file, manifest }] } with `manifest` the cleaned package.json of the tarball.
 */
export async function loadCorpus({ dir, top, refresh = false, log = () => {} }) {
  const tarDir = join(dir, "tarballs");
  mkdirSync(tarDir, { recursive: true });
  const indexPath = join(dir, `${top.replace(/[^a-zA-Z0-9._-]/g, "_")}.json`);
  let index = null;
  if (!refresh && existsSync(indexPath)) {
    index = JSON.parse(readFileSync(indexPath, "utf8"));
    if (!index.packages.every((p) => existsSync(join(tarDir, p.file)))) index = null;
  }
  if (!index) {
    const registry = configuredRegistry();
    const tree = resolveTree(top, log);
    const topName = top.replace(/@[^@/]*$/, "") || top;
    let fetched = 0;
    const packages = [];
    const queue = [...tree];
    async function fetchOne() {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const file = fileNameFor(p.name, p.version);
        const path = join(tarDir, file);
        let buf = existsSync(path) ? readFileSync(path) : null;
        if (!buf || !checkIntegrity(buf, p.integrity)) {
          // npm may leave `resolved` out of the lock (omit-lockfile-registry-resolved): then the
          // registry's usual tarball path is used. Either way, only the configured registry.
          const url = p.resolved ?? `${registry}${p.name}/-/${p.name.replace(/^@[^/]+\//, "")}-${p.version}.tgz`;
          if (!url.startsWith(registry)) throw new Error(`${p.name}@${p.version} resolved outside the configured registry`);
          const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
          if (!res.ok) throw new Error(`fetching ${p.name}@${p.version}: ${res.status}`);
          buf = Buffer.from(await res.arrayBuffer());
          if (!checkIntegrity(buf, p.integrity)) throw new Error(`integrity mismatch for ${p.name}@${p.version}`);
          writeFileSync(path, buf);
          fetched += 1;
        }
        packages.push({ name: p.name, version: p.version, integrity: p.integrity, file, bytes: buf.length });
      }
    }
    await Promise.all(Array.from({ length: 8 }, fetchOne));
    packages.sort((a, b) => a.name.localeCompare(b.name) || semver.compare(a.version, b.version));
    const topEntry = packages.filter((p) => p.name === topName).sort((a, b) => semver.rcompare(a.version, b.version))[0];
    if (!topEntry) throw new Error(`${topName} is not in its own tree`);
    index = { top: topName, topVersion: topEntry.version, resolvedAt: new Date().toISOString(), packages };
    writeFileSync(indexPath, JSON.stringify(index, null, 2));
    log(`corpus: ${packages.length} packages (${fetched} fetched now) in ${tarDir}`);
  } else {
    log(`corpus: ${index.packages.length} packages cached in ${tarDir}`);
  }
  for (const p of index.packages) {
    p.tgz = readFileSync(join(tarDir, p.file));
    const pkg = await readPackageJson(p.tgz);
    if (pkg.name !== p.name || pkg.version !== p.version) {
      throw new Error(`${p.file} holds ${pkg.name}@${pkg.version}, expected ${p.name}@${p.version}`);
    }
    p.manifest = cleanManifest(pkg);
  }
  return index;
}

/** Groups corpus packages by name, versions ascending (so publishing in order leaves latest = highest). */
export function byName(packages) {
  const groups = new Map();
  for (const p of packages) {
    if (!groups.has(p.name)) groups.set(p.name, []);
    groups.get(p.name).push(p);
  }
  for (const list of groups.values()) list.sort((a, b) => semver.compare(a.version, b.version));
  return groups;
}

/**
 * Publishes every corpus version with `publish({ manifest, tgz })` (which resolves { ms }):
 * ascending per package so `latest` ends highest, four packages at a time. Returns each PUT's ms.
 */
export async function publishCorpus(corpus, publish) {
  const groups = [...byName(corpus.packages).values()];
  const latencies = [];
  async function worker() {
    for (let list = groups.shift(); list; list = groups.shift()) {
      for (const p of list) latencies.push((await publish({ manifest: p.manifest, tgz: p.tgz })).ms);
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker));
  return latencies;
}
