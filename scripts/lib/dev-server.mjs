// Starts `wrangler dev` on a free loopback port with fresh local state: used by the e2e tests,
// the benchmarks and the demo, so all of them exercise the same workerd the user runs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Asks the kernel for a port nobody is listening on. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A random secret in the pkgedge token alphabet (base62). */
export function randomSecret(length = 40) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length * 2);
  let out = "";
  for (const b of bytes) {
    if (b < 248) out += alphabet[b % 62];
    if (out.length === length) break;
  }
  return out;
}

/**
 * Environment for child processes: drops the npm_config_* variables that `npm test` injects,
 * so a child npm/pnpm reads only the .npmrc a test gives it.
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Starts wrangler dev. `vars` become `--var KEY:VALUE`. Resolves once /_/health answers.
 * Returns { url, port, adminToken, persistDir, output(), kill(), stop() }. With `persistDir` (and
 * `port`) it starts on the state a killed server left, as a restart would; stop() then leaves
 * that state for its owner to remove.
 */
export async function startDevServer({ vars = {}, timeoutMs = 60_000, log = false, persistDir: reuse, port: fixedPort } = {}) {
  const port = fixedPort ?? await freePort();
  const persistDir = reuse ?? mkdtempSync(join(tmpdir(), "pkgedge-state-"));
  const adminToken = vars.PKGEDGE_ADMIN_TOKEN ?? `admin-${randomSecret(32)}`;
  // DEV_MODE unlocks the dev-only knobs (fault injection, propagation delays); never deployed.
  const allVars = { DEV_MODE: "true", ...vars, PKGEDGE_ADMIN_TOKEN: adminToken };
  const wrangler = join(projectRoot, "node_modules", ".bin", "wrangler");
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistDir,
    "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(allVars)) args.push("--var", `${k}:${v}`);
  const binDir = join(projectRoot, "node_modules", ".bin");
  const child = spawn(wrangler, args, {
    cwd: projectRoot,
    env: cleanEnv({ PATH: `${binDir}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (log) process.stderr.write(chunk);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.on("exit", () => { exited = true; });
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited early:\n${output}`);
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`wrangler dev did not become healthy in ${timeoutMs} ms:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/_/health`, { signal: AbortSignal.timeout(2000) }); // a hung connection must not outlive timeoutMs
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    adminToken,
    persistDir,
    output: () => output,
    /** kill -9 of wrangler dev's whole process group (workerd included): a crash, not a shutdown. */
    async kill() {
      if (!exited) {
        killGroup(child, "SIGKILL");
        await new Promise((r) => (exited ? r() : child.once("exit", r)));
      }
      // wrangler may go first: wait for workerd too, or a restart would open state it still holds.
      for (let i = 0; i < 100 && groupAlive(child); i++) await new Promise((r) => setTimeout(r, 50));
    },
    async stop() {
      if (!exited) {
        killGroup(child);
        await new Promise((r) => (exited ? r() : child.once("exit", r)));
      }
      if (!reuse) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}

function groupAlive(child) {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child, signal = "SIGTERM") {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
