// Python tooling for the PyPI end-to-end tests: projects built from generated sources with
// `python -m build --no-isolation` (nothing comes from a public index), twine uploads, and
// throwaway venvs whose pip sees only pkgedge (no PIP_FIND_LINKS, no config, an empty cache).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../../scripts/lib/dev-server.mjs";
import { run, type RunResult } from "./helpers";

export interface PyProject {
  name: string;
  version: string;
  /** The import name; its `NAME` names the chain of modules it imports. */
  module: string;
  dependencies?: string[];
  /** Modules imported at import time (their NAME is appended to this one's). */
  imports?: string[];
  requiresPython?: string;
}

/** An environment for Python tools that reads no user or site pip configuration. */
export function pythonEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = cleanEnv() as Record<string, string>;
  for (const k of Object.keys(env)) if (/^(PIP_|PYTHON|TWINE_|VIRTUAL_ENV)/.test(k)) delete env[k];
  return { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_CONFIG_FILE: "/dev/null", PIP_NO_INPUT: "1", ...extra };
}

/** The interpreter that has `build` (Debian's python3-build), and the one whose venvs get the newest pip. */
function pythonWith(module: string): string {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(candidate, ["-c", `import ${module}`], { env: pythonEnv(), stdio: "ignore" });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(`no python3 with the ${module} module: install python3-build and python3-venv`);
}
const BUILDER = pythonWith("build");
const VENV_PYTHON = pythonWith("venv");

/** Builds an sdist and a wheel of a generated project; answers their paths (sdist first). */
export async function buildProject(root: string, p: PyProject): Promise<string[]> {
  const dir = mkdtempSync(join(root, `${p.module}-`));
  mkdirSync(join(dir, p.module));
  const deps = (p.dependencies ?? []).map((d) => JSON.stringify(d)).join(", ");
  writeFileSync(join(dir, "pyproject.toml"), [
    "[build-system]", 'requires = ["setuptools"]', 'build-backend = "setuptools.build_meta"', "",
    "[project]", `name = ${JSON.stringify(p.name)}`, `version = ${JSON.stringify(p.version)}`, `dependencies = [${deps}]`,
    ...(p.requiresPython ? [`requires-python = ${JSON.stringify(p.requiresPython)}`] : []), "",
    "[tool.setuptools]", `packages = [${JSON.stringify(p.module)}]`, "",
  ].join("\n"));
  const imports = (p.imports ?? []).map((m) => `import ${m}\n`).join("");
  const chain = [`"${p.name}==${p.version}"`, ...(p.imports ?? []).map((m) => `${m}.NAME`)].join(' + " -> " + ');
  writeFileSync(join(dir, p.module, "__init__.py"), `${imports}NAME = ${chain}\n`);
  const built = await run(BUILDER, ["-m", "build", "--no-isolation", "--outdir", "dist", "."], { cwd: dir, env: pythonEnv() });
  if (built.code !== 0) throw new Error(`building ${p.name} failed:\n${built.output}`);
  const files = readdirSync(join(dir, "dist")).sort((a, b) => Number(b.endsWith(".tar.gz")) - Number(a.endsWith(".tar.gz")));
  return files.map((f) => join(dir, "dist", f));
}

export function twine(registryUrl: string, token: string | null, files: string[], extra: string[] = []): Promise<RunResult> {
  const auth = token === null ? [] : ["-u", "__token__", "-p", token];
  return run("twine", ["upload", "--non-interactive", "--disable-progress-bar", "--repository-url", `${registryUrl}/pypi/legacy/`, ...auth, ...extra, ...files], { cwd: tmpdir(), env: pythonEnv() });
}

export const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** A fresh venv with its own empty pip cache, pointed at pkgedge's index only. */
export class Venv {
  readonly dir: string;
  readonly cache: string;

  private constructor(root: string, private readonly indexUrl: string) {
    this.dir = mkdtempSync(join(root, "venv-"));
    this.cache = join(this.dir, "pip-cache");
  }

  static async create(root: string, registryUrl: string): Promise<Venv> {
    const venv = new Venv(root, `${registryUrl}/pypi/simple/`);
    const made = await run(VENV_PYTHON, ["-m", "venv", join(venv.dir, "env")], { cwd: venv.dir, env: pythonEnv() });
    if (made.code !== 0) throw new Error(`python -m venv failed:\n${made.output}`);
    return venv;
  }

  pip(args: string[]): Promise<RunResult> {
    return run(join(this.dir, "env", "bin", "pip"), [...args, "--index-url", this.indexUrl, "--cache-dir", this.cache], { cwd: this.dir, env: pythonEnv(), timeoutMs: 150_000 });
  }

  python(code: string): Promise<RunResult> {
    return run(join(this.dir, "env", "bin", "python"), ["-c", code], { cwd: this.dir, env: pythonEnv() });
  }

  async pipVersion(): Promise<number[]> {
    const r = await run(join(this.dir, "env", "bin", "pip"), ["--version"], { cwd: this.dir, env: pythonEnv() });
    return (/pip (\d+)\.(\d+)/.exec(r.stdout) ?? []).slice(1).map(Number);
  }
}
