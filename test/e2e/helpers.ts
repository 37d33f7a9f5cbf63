// Shared machinery for the end-to-end tests: a `wrangler dev` registry with fresh state, tokens
// from the admin API, and throwaway client sandboxes (own .npmrc, empty cache) for npm and pnpm.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, startDevServer } from "../../scripts/lib/dev-server.mjs";

// ---- processes ----

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "the user saw this message" assertions. */
  output: string;
}

/** Runs a command to completion (never throws on a non-zero exit: tests assert on `code`). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** Describes a finished command for failed-expectation messages. */
export function describeRun(what: string, r: RunResult): string {
  return `${what} exited ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

// ---- the registry under test ----

export type Scope = "read" | "publish" | "admin";

export interface Registry {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The npm registry URL, with its trailing slash: `<url>/npm/`. */
  npmUrl: string;
  port: number;
  adminToken: string;
  /** Creates a token with the admin API and returns its secret. */
  createToken(opts: { name: string; scopes: Scope[]; packages?: string[] }): Promise<string>;
  /** A fresh client sandbox whose .npmrc carries `token` (or no token at all). */
  sandbox(token?: string): Sandbox;
  /** One npm command in a fresh sandbox (so with an empty cache). */
  npm(args: string[], token?: string): Promise<RunResult>;
  /** `npm publish` of a freshly written package, from a fresh sandbox. */
  publish(spec: PackageSpec, token?: string, extraArgs?: string[]): Promise<RunResult>;
  /** Stops wrangler dev and removes every sandbox. */
  stop(): Promise<void>;
}

export async function startRegistry(vars: Record<string, string> = {}): Promise<Registry> {
  // The defaults are production-safe; the tests play regions with x-pkgedge-region.
  const server = await startDevServer({ vars: { DEV_REGION_HEADER: "true", ...vars } });
  const workDir = mkdtempSync(join(tmpdir(), "pkgedge-e2e-"));
  const npmUrl = `${server.url}/npm/`;
  const sandbox = (token?: string) => new Sandbox(mkdtempSync(join(workDir, "client-")), npmUrl, server.port, token);
  return {
    url: server.url,
    npmUrl,
    port: server.port,
    adminToken: server.adminToken,
    async createToken(body) {
      const res = await fetch(`${server.url}/_/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST /_/tokens answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    sandbox,
    npm: (args, token) => sandbox(token).npm(args),
    publish(spec, token, extraArgs = []) {
      const client = sandbox(token);
      return client.npm(["publish", ...extraArgs], client.writePackage(spec));
    },
    async stop() {
      await server.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

// ---- package fixtures ----

export interface PackageSpec {
  name: string;
  version: string;
  /** Each dependency is required by index.js, whose export names the whole chain. */
  dependencies?: Record<string, string>;
  /** More package.json fields (description, keywords...), over the defaults. */
  fields?: Record<string, unknown>;
}

/**
 * Writes a tiny package: `require(name)` returns `"<name>@<version> -> <each dependency's export>"`,
 * so a program that requires the top of a chain proves every link was installed.
 */
export function writePackage(dir: string, spec: PackageSpec): string {
  mkdirSync(dir, { recursive: true });
  const deps = Object.keys(spec.dependencies ?? {});
  const manifest = { name: spec.name, version: spec.version, description: `e2e fixture ${spec.name}`, main: "index.js", license: "MIT", dependencies: spec.dependencies ?? {}, ...spec.fields };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, "index.js"), `module.exports = [${JSON.stringify(`${spec.name}@${spec.version}`)}, ...${JSON.stringify(deps)}.map((d) => require(d))].join(" -> ");\n`);
  writeFileSync(join(dir, "README.md"), `# ${spec.name}\n`);
  return dir;
}

/** The chain the tests install: a -> b -> @acme/c. */
export const CHAIN: PackageSpec[] = [
  { name: "@acme/c", version: "1.0.0" },
  { name: "b", version: "1.0.0", dependencies: { "@acme/c": "^1.0.0" } },
  { name: "a", version: "1.0.0", dependencies: { b: "^1.0.0" } },
];
export const CHAIN_OUTPUT = "a@1.0.0 -> b@1.0.0 -> @acme/c@1.0.0";

// ---- client sandboxes ----

/**
 * One throwaway client home: a project dir holding the .npmrc (also the npm userconfig, so
 * nothing from the machine's ~/.npmrc or `npm test`'s environment leaks in) and an empty cache.
 */
export class Sandbox {
  readonly project: string;
  readonly npmrc: string;
  readonly cache: string;
  private packages = 0;

  constructor(readonly root: string, npmUrl: string, port: number, readonly token?: string) {
    this.project = join(root, "project");
    this.cache = join(root, "npm-cache");
    mkdirSync(this.project, { recursive: true });
    mkdirSync(this.cache, { recursive: true });
    writeFileSync(join(this.project, "package.json"), `${JSON.stringify({ name: "e2e-project", version: "1.0.0", private: true }, null, 2)}\n`);
    this.npmrc = join(this.project, ".npmrc");
    const lines = [`registry=${npmUrl}`, "audit=false", "fund=false", "update-notifier=false"];
    if (token) lines.push(`//127.0.0.1:${port}/npm/:_authToken=${token}`, "always-auth=true");
    writeFileSync(this.npmrc, `${lines.join("\n")}\n`);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return cleanEnv({ npm_config_userconfig: this.npmrc, npm_config_cache: this.cache, NO_COLOR: "1", ...extra });
  }

  /** Runs the machine's npm in the project dir (or `cwd`). */
  npm(args: string[], cwd = this.project): Promise<RunResult> {
    return run("npm", [...args, "--no-audit", "--no-fund"], { cwd, env: this.env() });
  }

  /** Runs pnpm (installed once per machine, see ensureClient) with its own store and cache. */
  async pnpm(args: string[], cwd = this.project): Promise<RunResult> {
    const pnpm = await ensureClient("pnpm");
    const store = join(this.root, "pnpm-store");
    const cacheDir = join(this.root, "pnpm-cache");
    return run(pnpm, [...args, "--store-dir", store, "--cache-dir", cacheDir, "--reporter", "append-only"], { cwd, env: this.env() });
  }

  /**
   * Runs yarn 1 with its own cache. yarn 1 reads the same .npmrc, but sends a token for
   * unscoped packages only with always-auth, so the sandbox's .npmrc says so when it has one.
   */
  async yarn(args: string[], cwd = this.project): Promise<RunResult> {
    const yarn = await ensureClient("yarn");
    return run(yarn, [...args, "--cache-folder", join(this.root, "yarn-cache"), "--non-interactive", "--no-progress"], { cwd, env: this.env() });
  }

  /** Runs JavaScript with the Node running the tests, in the project dir. */
  node(source: string, cwd = this.project): Promise<RunResult> {
    return run(process.execPath, ["-e", source], { cwd, env: this.env() });
  }

  /** Writes the package into a fresh directory of this sandbox and returns that directory. */
  writePackage(spec: PackageSpec): string {
    return writePackage(join(this.root, `pkg-${++this.packages}`), spec);
  }

  /** `npm pack` of a freshly written package: its package.json and the tarball npm built. */
  async pack(spec: PackageSpec): Promise<{ manifest: Record<string, unknown>; bytes: Buffer }> {
    const dir = this.writePackage(spec);
    const r = await this.npm(["pack", "--json"], dir);
    if (r.code !== 0) throw new Error(describeRun("npm pack", r));
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string }>;
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    return { manifest, bytes: readFileSync(join(dir, info!.filename)) };
  }
}

/** Publishes packages one by one with `npm publish`; throws with npm's output on failure. */
export async function publishAll(registry: Registry, token: string, specs: PackageSpec[]): Promise<void> {
  for (const spec of specs) {
    const r = await registry.publish(spec, token);
    if (r.code !== 0) throw new Error(describeRun(`npm publish ${spec.name}@${spec.version}`, r));
  }
}

// ---- raw HTTP, for answers npm would not let us see ----

/** The path npm uses for a package: `@scope%2fname` for scoped names. */
export const packagePath = (name: string) => name.replace("/", "%2f");

/**
 * PUTs the same document `npm publish` sends (packed by the real npm), with any token or none:
 * npm itself refuses to send some publishes, and the tests want the registry's own answer.
 */
export async function rawPublish(registry: Registry, spec: PackageSpec, token?: string): Promise<Response> {
  const { manifest, bytes } = await registry.sandbox().pack(spec);
  const file = `${spec.name.replace(/^@[^/]+\//, "")}-${spec.version}.tgz`;
  const body = {
    _id: spec.name,
    name: spec.name,
    "dist-tags": { latest: spec.version },
    versions: {
      [spec.version]: {
        ...manifest,
        _id: `${spec.name}@${spec.version}`,
        dist: {
          integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
          shasum: createHash("sha1").update(bytes).digest("hex"),
          tarball: `${registry.npmUrl}${spec.name}/-/${file}`,
        },
      },
    },
    access: null,
    _attachments: { [`${spec.name}-${spec.version}.tgz`]: { content_type: "application/octet-stream", data: bytes.toString("base64"), length: bytes.length } },
  };
  const headers: Record<string, string> = { "content-type": "application/json", "npm-command": "publish" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${registry.npmUrl}${packagePath(spec.name)}`, { method: "PUT", headers, body: JSON.stringify(body) });
}

/** The Accept header installers send for the abbreviated ("corgi") packument. */
export const ABBREVIATED_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

export interface GetOptions {
  token?: string;
  accept?: string;
  /** The PoP to play (`x-pkgedge-region`, honoured in dev): each region has its own caches. */
  region?: string;
}

/** GET with an optional bearer token, Accept header and region. */
export function get(url: string, opts: GetOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.accept) headers.accept = opts.accept;
  if (opts.region) headers["x-pkgedge-region"] = opts.region;
  return fetch(url, { headers });
}

/** Just the status of a GET (the body is read and dropped, so the connection is reused). */
export async function statusOf(url: string, opts: GetOptions = {}): Promise<number> {
  const res = await get(url, opts);
  await res.arrayBuffer();
  return res.status;
}

// ---- pnpm and yarn ----

const CLIENT_MAJOR = { pnpm: "10", yarn: "1" } as const;
export type ExtraClient = keyof typeof CLIENT_MAJOR;
const clientPaths = new Map<ExtraClient, Promise<string>>();

/**
 * pnpm and yarn are not project dependencies: install each once from the public npm registry
 * into os.tmpdir() and reuse it on later runs. Installs into a scratch dir and renames it into
 * place, so concurrent or interrupted runs never leave a half-installed client behind.
 */
export function ensureClient(client: ExtraClient): Promise<string> {
  let path = clientPaths.get(client);
  if (!path) {
    path = (async () => {
      const spec = `${client}@${CLIENT_MAJOR[client]}`;
      const home = join(tmpdir(), `pkgedge-e2e-${client}-${CLIENT_MAJOR[client]}`);
      const bin = join(home, "node_modules", ".bin", client);
      if (existsSync(bin)) return bin;
      const scratch = mkdtempSync(join(tmpdir(), `pkgedge-e2e-${client}-installing-`));
      const r = await run("npm", ["install", "--prefix", scratch, "--cache", join(scratch, ".cache"), "--no-audit", "--no-fund", "--no-save", spec], { cwd: scratch, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun(`npm install ${spec}`, r));
      rmSync(join(scratch, ".cache"), { recursive: true, force: true });
      try {
        renameSync(scratch, home);
      } catch {
        rmSync(scratch, { recursive: true, force: true }); // another run got there first
      }
      if (!existsSync(bin)) throw new Error(`${client} is not at ${bin} after installing it`);
      return bin;
    })();
    clientPaths.set(client, path);
  }
  return path;
}
