// The two registries under test, behind one shape: { name, registry, token, publish(entries) }.
import { join } from "node:path";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { projectRoot, startDevServer } from "../dev-server.mjs";
import { onCleanup } from "./cleanup.mjs";
import { buildPublishDoc, publishOrThrow } from "./npm-publish.mjs";
import { createVerdaccioUser, seedVerdaccioStorage, startVerdaccio } from "./verdaccio.mjs";
import { tarballDigests } from "./tarball.mjs";
import { findWorkerSocket } from "./workerd-socket.mjs";

/**
 * Publishes versions of one package in ascending order, `batch` versions a PUT (pkgedge takes
 * several versions in one document; Verdaccio one a PUT). Returns each PUT's result.
 */
async function publishInBatches(target, entries, batch) {
  const results = [];
  for (let i = 0; i < entries.length; i += batch) {
    const doc = buildPublishDoc(target.registry, entries.slice(i, i + batch));
    results.push(await publishOrThrow(target.name, target.registry, target.token, doc));
  }
  return results;
}

/**
 * The newest modification time (ms) among the Worker's sources. `wrangler dev` rebuilds and
 * reloads the Worker when they change, which would mix code versions (and reset the in-isolate
 * metrics) in the middle of a run; comparing this before and after tells whether that happened.
 */
export function workerSourceStamp() {
  let newest = 0;
  const walk = (dir) => {
    let entries = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ["workers", "shared", "durable-objects"]) walk(join(projectRoot, d));
  for (const f of ["wrangler.toml", ".dev.vars"]) {
    try {
      newest = Math.max(newest, statSync(join(projectRoot, f)).mtimeMs);
    } catch {
      // absent
    }
  }
  return newest;
}

/** POST /_/tokens with the admin secret; returns the new token's secret. */
export async function createToken(url, adminToken, body) {
  const res = await fetch(`${url}/_/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let token;
  try {
    token = JSON.parse(text).token;
  } catch {
    // reported below
  }
  if (!res.ok || !token) throw new Error(`POST ${url}/_/tokens ${JSON.stringify(body)} -> ${res.status} ${text.slice(0, 300)}`);
  return token;
}

/** Starts `wrangler dev` with fresh state and makes a read+publish token. */
export async function startPkgedge({ log, vars = {} }) {
  const sourceStamp = workerSourceStamp();
  const server = await startDevServer({ vars, timeoutMs: 90_000 });
  onCleanup(() => server.stop());
  const token = await createToken(server.url, server.adminToken, { name: "bench", scopes: ["read", "publish"] });
  log(`pkgedge: wrangler dev on ${server.url}`);
  const target = {
    name: "pkgedge",
    url: server.url,
    registry: `${server.url}/npm/`,
    token,
    cacheHeader: "x-pkgedge-cache",
    server,
    /** True when the Worker's sources changed since start (wrangler dev then reloaded it). */
    sourcesChanged: () => workerSourceStamp() !== sourceStamp,
    publishVersions: (entries, batch = 100) => publishInBatches(target, entries, batch),
    /** Seeds a many-version package: batches of 100 versions a PUT. */
    async seedLarge(entries) {
      const results = await publishInBatches(target, entries, 100);
      return { method: `${results.length} publish PUTs of up to 100 versions`, puts: results.map((r) => Math.round(r.ms)) };
    },
    async metrics() {
      const r = await fetch(`${server.url}/_/metrics?format=json`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      return r.ok ? r.json() : { status: r.status, body: (await r.text()).slice(0, 300) };
    },
    stop: () => server.stop(),
  };
  return target;
}

/**
 * The same pkgedge reached straight at its Worker's workerd socket, past wrangler dev's proxy
 * (the path a deployed Worker's requests take). It shares the storage of `pk`, so publishing
 * into it is a no-op: `pk` publishes first. Null when the socket is not found.
 */
export async function pkgedgeDirect(pk, log) {
  const url = await findWorkerSocket(pk.server.pid);
  if (!url) {
    log("pkgedge-direct: the Worker's workerd socket was not found (needs Linux /proc and ss)");
    return null;
  }
  log(`pkgedge-direct: the Worker's own workerd socket on ${url}`);
  return {
    ...pk,
    name: "pkgedge-direct",
    url,
    registry: `${url}/npm/`,
    publishVersions: async () => [],
    async seedLarge() {
      return { method: "shared with pkgedge (seeded through it)" };
    },
  };
}

/** Records whether wrangler dev reloaded the Worker mid-run, and the Worker's own metrics at the end. */
export async function recordPkgedgeRun(pk, results, log) {
  if (pk.sourcesChanged()) {
    results.pkgedgeReloadedDuringRun = true;
    log("warning: the Worker's sources changed during the run, so wrangler dev reloaded it mid-run: numbers mix code versions");
  }
  try {
    results.pkgedgeMetrics = await pk.metrics();
  } catch (err) {
    results.pkgedgeMetrics = { error: err.message };
  }
}

/** Starts Verdaccio with an empty temp storage and makes a user token. */
export async function startVerdaccioTarget({ dir, log }) {
  const tmp = mkdtempSync(join(tmpdir(), "pkgedge-bench-verdaccio-"));
  const storageDir = join(tmp, "storage");
  const server = await startVerdaccio({ dir, storageDir, workDir: join(tmp, "work") });
  onCleanup(async () => {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  const token = await createVerdaccioUser(server.url, "bench", `bench-${Date.now()}-pass`);
  log(`verdaccio ${server.version}: on ${server.url}`);
  const target = {
    name: "verdaccio",
    url: server.url,
    registry: `${server.url}/`,
    token,
    cacheHeader: null,
    server,
    version: server.version,
    publishVersions: (entries) => publishInBatches(target, entries, 1),
    /**
     * Seeds a many-version package straight into storage and restarts, since 2,000 publishes
     * through its API would each rewrite the growing document.
     */
    async seedLarge(entries) {
      seedVerdaccioStorage(storageDir, server.url, entries.map((e) => ({ ...e, dist: tarballDigests(e.tgz) })));
      await server.restart();
      return { method: "written into storage, then restarted" };
    },
    metrics: async () => null,
    stop: () => server.stop(),
  };
  return target;
}
