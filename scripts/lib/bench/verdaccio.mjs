// Installs (once), configures and runs Verdaccio on loopback as the peer registry for benchmarks.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { cleanEnv, freePort, projectRoot, startServer } from "../dev-server.mjs";

const MIN_VERSION = "6.10.0";

function installedVersion(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, "node_modules", "verdaccio", "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

/**
 * Installs Verdaccio 6 next to its own Node 22 in `dir` unless it is already there. npm runs
 * with the project's Node 22 first on PATH: under the machine's Node 20 npm would settle for an
 * older Verdaccio (6.8). The override is there because verdaccio-audit asks for the
 * `node-fetch@cjs` dist-tag, and a registry mirror that serves only `latest` (as the one on
 * these machines does) cannot resolve it.
 */
export function ensureVerdaccio(dir, log = () => {}) {
  const have = installedVersion(dir);
  if (have && semver.gte(have, MIN_VERSION) && existsSync(join(dir, "node_modules", ".bin", "node"))) return have;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({
    name: "pkgedge-bench-verdaccio",
    private: true,
    description: "Verdaccio for scripts/bench-npm.mjs (installed by it, git-ignored)",
    dependencies: { verdaccio: "^6.10.0", node: "^22.12.0" },
    overrides: { "verdaccio-audit": { "node-fetch": "^2.7.0" } },
  }, null, 2));
  log(`installing Verdaccio into ${dir} (first run only)...`);
  const binDir = join(projectRoot, "node_modules", ".bin");
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    env: cleanEnv({ PATH: `${binDir}:${process.env.PATH}` }),
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`npm install verdaccio failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  const now = installedVersion(dir);
  if (!now || !semver.gte(now, MIN_VERSION)) throw new Error(`Verdaccio ${now} installed; need >= ${MIN_VERSION}`);
  return now;
}

/**
 * Starts Verdaccio on a free 127.0.0.1 port with no uplinks and `storageDir` as its storage.
 * API tokens are signed JWTs, so authenticated requests do not re-run bcrypt; request logging
 * is off (level warn) unless `logLevel` says otherwise, like wrangler's below; `uplink` makes it
 * a pull-through cache of that registry. Resolves once `/-/ping` answers.
 */
export async function startVerdaccio({ dir, storageDir, workDir, timeoutMs = 60_000, logLevel = "warn", uplink = null }) {
  const port = await freePort();
  mkdirSync(storageDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const config = {
    storage: storageDir,
    auth: { htpasswd: { file: join(workDir, "htpasswd"), max_users: 1000 } },
    // As a pull-through peer: its own uplink, retried after 10 s (its default 5 min keeps
    // answering 404 long after the uplink is back).
    uplinks: uplink ? { upstream: { url: uplink, fail_timeout: "10s", timeout: "30s" } } : {},
    packages: {
      "@*/*": { access: "$all", publish: "$authenticated", unpublish: "$authenticated", ...(uplink ? { proxy: "upstream" } : {}) },
      "**": { access: "$all", publish: "$authenticated", unpublish: "$authenticated", ...(uplink ? { proxy: "upstream" } : {}) },
    },
    security: {
      api: { jwt: { sign: { expiresIn: "7d" } } },
      web: { sign: { expiresIn: "7d" } },
    },
    max_body_size: "512mb",
    listen: `127.0.0.1:${port}`,
    web: { enable: false },
    // "http" logs every request (tests count upstream requests from Verdaccio's own log).
    log: { type: "stdout", format: "json", level: logLevel },
  };
  // YAML is a superset of JSON, so the config file can be plain JSON.
  const configPath = join(workDir, "config.yaml");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const node = join(dir, "node_modules", ".bin", "node");
  const bin = join(dir, "node_modules", "verdaccio", "bin", "verdaccio");
  const url = `http://127.0.0.1:${port}`;

  const start = () => startServer({
    name: "verdaccio",
    command: node,
    args: [bin, "--config", configPath],
    cwd: workDir,
    env: cleanEnv({ NODE_ENV: "production" }),
    healthUrl: `${url}/-/ping`,
    timeoutMs,
  });
  let server = await start();
  return {
    url,
    port,
    storageDir,
    version: installedVersion(dir),
    output: () => server.output(),
    stop: () => server.stop(),
    /** Stops and starts the same server (same port, config and storage). */
    async restart() {
      await server.stop();
      server = await start();
    },
  };
}

/** Creates a Verdaccio user the way `npm adduser` does and returns its API token. */
export async function createVerdaccioUser(url, name, password) {
  const res = await fetch(`${url}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: "user", roles: [], date: new Date().toISOString() }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.token) throw new Error(`verdaccio adduser -> ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/**
 * Writes a package straight into Verdaccio's file storage (`<storage>/<name>/package.json`
 * plus one .tgz a version), in the layout its local-storage plugin writes on publish. Much
 * faster than 2,000 publishes that each rewrite a growing document. Restart Verdaccio after.
 */
export function seedVerdaccioStorage(storageDir, url, entries) {
  const name = entries[0].manifest.name;
  const pkgDir = join(storageDir, ...name.split("/"));
  mkdirSync(pkgDir, { recursive: true });
  const now = Date.now();
  const doc = { name, versions: {}, time: {}, users: {}, "dist-tags": {}, _uplinks: {}, _distfiles: {}, _attachments: {}, _rev: `${entries.length}-0000000000000000`, _id: name, readme: "" };
  let latest = null;
  entries.forEach(({ manifest, tgz, dist, time }, i) => {
    const fileName = `${name.replace(/^@[^/]+\//, "")}-${manifest.version}.tgz`;
    writeFileSync(join(pkgDir, fileName), tgz);
    doc.versions[manifest.version] = { ...manifest, _id: `${name}@${manifest.version}`, dist: { ...dist, tarball: `${url}/${name}/-/${fileName}` }, contributors: [] };
    // `time` (an ISO string, or null for "no publish time") overrides the default of just now.
    if (time !== null) doc.time[manifest.version] = time ?? new Date(now - (entries.length - i) * 1000).toISOString();
    doc._attachments[fileName] = { shasum: dist.shasum, version: manifest.version };
    latest = manifest.version;
  });
  doc.time.created = doc.time[entries[0].manifest.version] ?? new Date(now).toISOString();
  doc.time.modified = new Date(now).toISOString();
  doc["dist-tags"].latest = latest;
  writeFileSync(join(pkgDir, "package.json"), JSON.stringify(doc, null, "\t"));
}
