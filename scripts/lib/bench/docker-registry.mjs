// Runs Debian's docker-registry (CNCF distribution 2.8) on loopback with filesystem storage in a
// temp dir: the reference OCI registry the OCI benchmark compares pkgedge with.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, freePort, startServer } from "../dev-server.mjs";

export const DOCKER_REGISTRY_BIN = "/usr/bin/docker-registry";

/** "2.8.2+ds1" from `docker-registry --version`, or null when it is not installed. */
export function dockerRegistryVersion(bin = DOCKER_REGISTRY_BIN) {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.status !== 0) return null;
  return r.stdout.trim().split(/\s+/).pop() ?? null;
}

/**
 * Starts docker-registry on a free 127.0.0.1 port: no auth (pulls and pushes are anonymous),
 * deletes enabled, access log and request logging at warn (like wrangler's in the benchmark),
 * and the in-memory blob descriptor cache its stock config uses. Resolves once `GET /v2/`
 * answers. Returns { url, port, host, version, pid, stop() }; stop() also removes the storage.
 * The server runs in its own process group (pid), killed if this process exits first.
 */
export async function startDockerRegistry({ bin = DOCKER_REGISTRY_BIN, timeoutMs = 30_000, accessLog = false, proxy = null } = {}) {
  const version = dockerRegistryVersion(bin);
  if (!version) throw new Error(`${bin} is not installed (apt-get install docker-registry)`);
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), "pkgedge-bench-docker-registry-"));
  const storage = join(root, "storage");
  mkdirSync(storage);
  // YAML is a superset of JSON, so the config file can be plain JSON.
  const config = {
    version: 0.1,
    // `accessLog`: one line per request, so tests count what reached it from its own log.
    log: { level: "warn", accesslog: { disabled: !accessLog }, fields: { service: "registry" } },
    // `proxy`: a pull-through cache of that registry (the peer of pkgedge's OCI upstream).
    ...(proxy ? { proxy: { remoteurl: proxy } } : {}),
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      cache: { blobdescriptor: "inmemory" },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, headers: { "X-Content-Type-Options": ["nosniff"] } },
  };
  const configPath = join(root, "config.yml");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${port}`;
  let server;
  try {
    server = await startServer({ name: "docker-registry", command: bin, args: ["serve", configPath], cwd: root, env: cleanEnv(), healthUrl: `${url}/v2/`, timeoutMs });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  async function stop() {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return { url, port, host: `127.0.0.1:${port}`, version, pid: server.pid, output: server.output, stop };
}
