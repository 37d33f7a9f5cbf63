// The one launcher of `wrangler dev`: `npm run dev`, the e2e tests and every benchmark start the
// Worker through startWrangler, so all of them run the same workerd the user runs.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binDir = join(projectRoot, "node_modules", ".bin");

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
 * The wrangler options the launcher has defaults for, read from the arguments a user passes
 * (`npm run dev -- --ip 0.0.0.0 --port 9000`): `given` names every option present, `vars` holds
 * the `--var KEY:VALUE` pairs and `envFiles` the `--env-file` paths.
 */
export function readWranglerArgs(args) {
  const { values, tokens } = parseArgs({
    args,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      ip: { type: "string" },
      port: { type: "string" },
      config: { type: "string", short: "c" },
      var: { type: "string", multiple: true },
      "env-file": { type: "string", multiple: true },
    },
  });
  const vars = {};
  for (const pair of values.var ?? []) {
    const colon = pair.indexOf(":");
    if (colon > 0) vars[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  const given = new Set(tokens.filter((t) => t.kind === "option").map((t) => t.name));
  return { given, ip: values.ip, port: values.port, config: values.config, vars, envFiles: values["env-file"] ?? [] };
}

/** `vars` as a dotenv file wrangler reads literally: single quotes, `$` escaped from dotenv-expand. */
function envFileText(vars) {
  return Object.entries(vars).map(([k, v]) => {
    const value = String(v);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /['\n\r]/.test(value)) throw new Error(`cannot pass ${k} to wrangler in an env file: ${JSON.stringify(value)}`);
    return `${k}='${value.replaceAll("$", "\\$")}'\n`;
  }).join("");
}

// What to undo if this process exits before stop() ran (an uncaught error, a second Ctrl-C):
// temp dirs (env files with secrets, fresh state) and the process groups of detached servers.
const tempDirs = new Set();
const liveGroups = new Set();
process.once("exit", () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Stops a server started as its own process group (spawn with `detached: true`): SIGTERM to the
 * group, SIGKILL if it is still there after `graceMs`; resolves once it has exited.
 */
export async function stopProcessGroup(child, hasExited, graceMs = 5000) {
  if (hasExited()) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }, graceMs);
  await new Promise((r) => (hasExited() ? r() : child.once("exit", r)));
  clearTimeout(killer);
}

/**
 * Starts a server and resolves once GET `healthUrl` answers 2xx; rejects with the tail of its
 * output when it exits first, when `fails(output)` gives a reason, or after `timeoutMs`. It runs
 * in its own process group with its output collected (and is killed if this process exits
 * first), unless `interactive`: then it shares the terminal, as `npm run dev` does.
 * Returns { child, pid, output(), exited (a promise of the exit code), stop() }.
 */
export async function startServer({ name, command, args, cwd, env, healthUrl, timeoutMs = 60_000, interactive = false, log = false, fails = () => null, graceMs = 5000 }) {
  const child = spawn(command, args, { cwd, env, stdio: interactive ? "inherit" : ["ignore", "pipe", "pipe"], detached: !interactive });
  let output = "";
  const collect = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (log) process.stderr.write(chunk);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exitCode = null;
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
    liveGroups.delete(child.pid);
    resolve(exitCode);
  }));
  const hasExited = () => exitCode !== null;
  if (interactive) {
    // The terminal's Ctrl-C reaches the server too; this process stays until it has exited.
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  } else {
    liveGroups.add(child.pid);
  }
  const stop = async () => {
    if (!interactive) return stopProcessGroup(child, hasExited, graceMs);
    if (!hasExited()) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = hasExited() ? `exited early (${exitCode})` : fails(output) ?? (Date.now() > deadline ? `did not answer ${healthUrl} in ${timeoutMs} ms` : null);
    if (failure) {
      await stop();
      throw new Error(`${name} ${failure}:\n${output.slice(-4000)}`);
    }
    // A hung connection must not outlive timeoutMs: each try gets 2 s (a timer of our own, which
    // keeps the process alive until it fires).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 2000);
    try {
      const res = await fetch(healthUrl, { signal: abort.signal });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, pid: child.pid, output: () => output, exited, stop };
}

/**
 * Starts `wrangler dev` and resolves once `healthPath` answers 200; rejects when wrangler exits,
 * cannot build the Worker, or is not healthy within `timeoutMs`.
 * - `args`: wrangler arguments; each option in them wins over the launcher's default for it.
 * - `vars`: Worker variables, written to a mode-0600 env file in a private temp dir rather than
 *   the command line, where `ps` shows them. Once any `--env-file` is given, wrangler reads no
 *   `.dev.vars`: `envFiles` are loaded first (in order), then `vars`, which win.
 * - `persistTo`: "fresh" (a new temp dir, removed by stop()), a dir to keep, or null for
 *   wrangler's own `.wrangler/state`.
 * - `interactive`: wrangler keeps the terminal (its key shortcuts and logs; `npm run dev`).
 * Returns startServer's handle plus { url, port, persistDir }.
 */
export async function startWrangler({
  args = [],
  vars = {},
  envFiles = [],
  cwd = projectRoot,
  persistTo = "fresh",
  ip = "127.0.0.1",
  port,
  interactive = false,
  healthPath = "/_/health",
  timeoutMs = 60_000,
  log = false,
} = {}) {
  const user = readWranglerArgs(args);
  const defaults = [];
  const listenIp = user.ip ?? ip;
  const listenPort = user.port ?? String(port ?? (await freePort()));
  // wrangler.toml's top level is production-safe; [env.dev] turns on the region header and the
  // dev knobs that local runs, tests and benchmarks play regions with.
  if (!user.given.has("env") && !user.given.has("e")) defaults.push("--env", "dev");
  if (!user.given.has("ip")) defaults.push("--ip", listenIp);
  if (!user.given.has("port")) defaults.push("--port", listenPort);
  const temp = mkdtempSync(join(tmpdir(), "pkgedge-wrangler-"));
  tempDirs.add(temp);
  const removeTemp = () => {
    rmSync(temp, { recursive: true, force: true });
    tempDirs.delete(temp);
  };
  const persistDir = persistTo === "fresh" ? join(temp, "state") : persistTo;
  if (persistDir && !user.given.has("persist-to")) defaults.push("--persist-to", persistDir);
  if (!interactive) {
    // Parallel instances (e2e files, benchmark targets) would fight over wrangler's default 9229.
    if (!user.given.has("inspector-port")) defaults.push("--inspector-port", String(await freePort()));
    if (!user.given.has("show-interactive-dev-session")) defaults.push("--show-interactive-dev-session=false");
  }
  const files = [];
  if (Object.keys(vars).length) {
    const file = join(temp, "vars.env");
    writeFileSync(file, envFileText(vars), { mode: 0o600 });
    files.push(...envFiles, file);
  }
  const host = listenIp === "0.0.0.0" ? "127.0.0.1" : listenIp === "::" ? "[::1]" : listenIp.includes(":") ? `[${listenIp}]` : listenIp;
  const url = `http://${host}:${listenPort}`;
  let server;
  try {
    server = await startServer({
      name: "wrangler dev",
      command: join(binDir, "wrangler"),
      args: ["dev", ...defaults, ...args, ...files.flatMap((f) => ["--env-file", f])],
      cwd,
      env: cleanEnv({ PATH: `${binDir}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false", ...(interactive ? {} : { CI: "true", NO_COLOR: "1" }) }),
      healthUrl: `${url}${healthPath}`,
      timeoutMs,
      interactive,
      log,
      graceMs: 10_000,
      fails: (output) => (/Build failed/.test(output) ? `could not build the Worker in ${cwd}` : null),
    });
  } catch (err) {
    removeTemp();
    throw err;
  }
  const stop = async () => {
    await server.stop();
    removeTemp();
  };
  /** kill -9 of the whole process group (workerd included): a crash, not a shutdown; the state stays. */
  const kill = async () => {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      server.child.kill("SIGKILL");
    }
    await server.exited;
    // wrangler may go first: wait for workerd too, or a restart would open state it still holds.
    for (let i = 0; i < 100 && groupAlive(server.pid); i++) await new Promise((r) => setTimeout(r, 50));
  };
  return { ...server, url, port: Number(listenPort), persistDir, stop, kill };
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * wrangler dev for tests and benchmarks: a free loopback port, fresh state (or `persistTo`),
 * DEV_MODE on (it unlocks the dev-only knobs: fault injection, propagation delays; never
 * deployed) and an admin secret made up unless `vars` names one. Nothing from a developer's
 * `.dev.vars` leaks in. `persistDir` (and `port`) restart it on the state a killed server left.
 * Returns startWrangler's handle plus { adminToken }.
 */
export async function startDevServer({ vars = {}, timeoutMs = 60_000, log = false, cwd, persistTo, persistDir, port } = {}) {
  const adminToken = vars.PKGEDGE_ADMIN_TOKEN ?? `admin-${randomSecret(32)}`;
  const start = () => startWrangler({ vars: { DEV_MODE: "true", ...vars, PKGEDGE_ADMIN_TOKEN: adminToken }, timeoutMs, log, cwd, persistTo: persistDir ?? persistTo, port });
  // A free port found a moment ago can be taken by another process (parallel test files start
  // their own servers) before wrangler binds it: with no fixed port, try another one.
  let server;
  for (let attempt = 1; ; attempt++) {
    try {
      server = await start();
      break;
    } catch (err) {
      if (port !== undefined || attempt >= 3 || !/Address already in use/.test(String(err?.message))) throw err;
    }
  }
  return { ...server, adminToken };
}

