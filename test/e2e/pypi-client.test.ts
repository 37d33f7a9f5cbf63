// pip and twine against a live pkgedge (wrangler dev): twine uploads sdists and wheels of a
// generated chain (Chain_Top -> chain.middle -> Chain_Base, mixed case, dots, underscores, a
// Requires-Python), then pip in fresh venvs with empty caches and only pkgedge as the index
// installs it, checks hashes, resolves from the PEP 658 `.metadata` files, skips yanked
// releases unless pinned and skips files whose Requires-Python excludes the running Python.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, run, startRegistry, type Registry, type RunResult } from "./helpers";
import { Venv, buildProject, pythonEnv, sha256File, twine, type PyProject } from "./pypi-helpers";

const BASE: PyProject = { name: "Chain_Base", version: "1.0", module: "chain_base", requiresPython: ">=3.8" };
const PROJECTS: PyProject[] = [
  BASE,
  // Yanked once uploaded: pip must not pick it unless pinned.
  { ...BASE, version: "1.1" },
  // No Python here satisfies it: pip must skip it.
  { ...BASE, version: "1.2", requiresPython: ">=3.99" },
  { name: "chain.middle", version: "1.0", module: "chain_middle", dependencies: ["chain-base>=1.0"], imports: ["chain_base"] },
  // Needs a chain-base that does not exist: pip reads its metadata, backtracks to 1.0, and never
  // downloads this wheel.
  { name: "chain.middle", version: "2.0", module: "chain_middle", dependencies: ["chain-base>=9"], imports: ["chain_base"] },
  { name: "Chain_Top", version: "1.0", module: "chain_top", dependencies: ["Chain.Middle"], imports: ["chain_middle"] },
];
const CHAIN = "Chain_Top==1.0 -> chain.middle==1.0 -> Chain_Base==1.0";

let registry: Registry;
let token: string;
let root: string;
/** Built files per "name==version". */
const built = new Map<string, string[]>();

const expectOk = (r: RunResult, what: string) => expect(r.code, describeRun(what, r)).toBe(0);
const filesOf = (name: string, version: string) => built.get(`${name}==${version}`)!;
const wheelOf = (name: string, version: string) => filesOf(name, version).find((f) => f.endsWith(".whl"))!;

async function admin(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${registry.url}/_/pypi/projects/${path}`, { method: "POST", headers: { authorization: `Bearer ${registry.adminToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pkgedge-pypi-e2e-"));
  // Prefetch off: the shields' top keys must show only what pip itself asked for (prefetch would
  // warm the newest wheel pip rejects; test/integration/prefetch/pypi.test.ts covers it).
  const [server, ...dists] = await Promise.all([startRegistry({ PREFETCH: "false" }), ...PROJECTS.map((p) => buildProject(root, p))]);
  registry = server;
  PROJECTS.forEach((p, i) => built.set(`${p.name}==${p.version}`, dists[i]!));
  token = await registry.createToken({ name: "e2e-twine", scopes: ["read", "publish"] });
  const uploaded = await twine(registry.url, token, dists.flat());
  expectOk(uploaded, "twine upload");
  await admin("chain-base/yank", { version: "1.1", reason: "e2e: yanked on purpose" });
  // Six builds beside wrangler dev's own start-up, on a shared 2-core machine.
}, 300_000);
afterAll(async () => {
  await registry?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("install", () => {
  test("pip install Chain_Top in a fresh venv installs and imports the chain, skipping the yanked and the Requires-Python-excluded releases", async () => {
    const venv = await Venv.create(root, registry.url);
    const install = await venv.pip(["install", "Chain_Top"]);
    expectOk(install, "pip install Chain_Top");
    expect(install.stdout).toMatch(/Successfully installed .*chain[-_.]base-1\.0\b/i);
    const program = await venv.python("import chain_top; print(chain_top.NAME)");
    expectOk(program, "python -c import chain_top");
    expect(program.stdout.trim()).toBe(CHAIN);
  });

  test("pip resolves from the .metadata files: it never downloads the wheel of the version it rejects", async () => {
    const venv = await Venv.create(root, registry.url);
    const [major, minor] = await venv.pipVersion();
    // pip reads PEP 714's core-metadata from JSON pages since 23.1; older pips download the wheels.
    expect(major! > 23 || (major === 23 && minor! >= 1), `this venv's pip is ${major}.${minor}: it cannot read core-metadata`).toBe(true);
    const install = await venv.pip(["install", "-v", "chain.middle"]);
    expectOk(install, "pip install chain.middle");
    expect(install.stdout).toMatch(/Successfully installed .*chain[._-]middle-1\.0\b/i);
    const rejected = basename(wheelOf("chain.middle", "2.0"));
    // The shields saw a request for the 2.0 metadata file and none for the 2.0 wheel.
    const keys = await topKeys();
    expect(keys).toContain(`pypi:file:chain-middle/${rejected}.metadata`);
    expect(keys).not.toContain(`pypi:file:chain-middle/${rejected}`);
    expect(keys).toContain(`pypi:file:chain-middle/${basename(wheelOf("chain.middle", "1.0"))}`);
  });

  test("a yanked release installs when pinned; a Requires-Python no Python here meets does not install at all", async () => {
    const venv = await Venv.create(root, registry.url);
    const pinned = await venv.pip(["install", "chain-base==1.1"]);
    expectOk(pinned, "pip install chain-base==1.1");
    expect(pinned.output).toMatch(/yanked.*e2e: yanked on purpose/is);
    const excluded = await venv.pip(["install", "chain-base==1.2"]);
    expect(excluded.code).not.toBe(0);
    expect(excluded.output).toMatch(/Requires-Python >=3\.99|No matching distribution found for chain-base==1\.2/);
  });
});

/** Every key the shields were asked for (polled until the metrics cache has seen our requests). */
async function topKeys(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 2500));
  const res = await fetch(`${registry.url}/_/metrics/top-keys`, { headers: { authorization: `Bearer ${registry.adminToken}` } });
  return ((await res.json()) as { keys: Array<{ key: string }> }).keys.map((k) => k.key);
}

describe("hashes", () => {
  test("pip download gets the file whose sha256 the page lists", async () => {
    const venv = await Venv.create(root, registry.url);
    const dest = join(venv.dir, "downloads");
    const download = await venv.pip(["download", "--no-deps", "--only-binary", ":all:", "-d", dest, "chain-base==1.0"]);
    expectOk(download, "pip download");
    const [file] = readdirSync(dest);
    const page = (await (await fetch(`${registry.url}/pypi/simple/chain-base/`, { headers: { accept: "application/vnd.pypi.simple.v1+json" } })).json()) as { files: Array<{ filename: string; hashes: { sha256: string } }> };
    expect(page.files.find((f) => f.filename === file)!.hashes.sha256).toBe(sha256File(join(dest, file!)));
    expect(sha256File(join(dest, file!))).toBe(sha256File(wheelOf("Chain_Base", "1.0")));
  });

  // [label, the hash given, whether pip succeeds]
  const CASES: Array<[string, () => string, boolean]> = [
    ["the right hash", () => sha256File(wheelOf("Chain_Base", "1.0")), true],
    ["a wrong hash", () => "0".repeat(64), false],
  ];
  test.each(CASES)("pip install --require-hashes with %s", async (_label, hash, ok) => {
    const venv = await Venv.create(root, registry.url);
    const req = join(venv.dir, "requirements.txt");
    writeFileSync(req, `chain-base==1.0 --hash=sha256:${hash()}\n`);
    const install = await venv.pip(["install", "--require-hashes", "--only-binary", ":all:", "-r", req]);
    if (ok) expectOk(install, "pip install --require-hashes");
    else {
      expect(install.code).not.toBe(0);
      expect(install.output).toMatch(/DO NOT MATCH THE HASHES/);
    }
  });
});

describe("twine", () => {
  test("a second upload fails with File already exists; --skip-existing skips it", async () => {
    const file = wheelOf("Chain_Base", "1.0");
    const again = await twine(registry.url, token, [file]);
    expect(again.code).not.toBe(0);
    expect(again.output).toMatch(/400 Bad Request[\s\S]*File already exists/);
    const skipped = await twine(registry.url, token, [file], ["--skip-existing"]);
    expectOk(skipped, "twine upload --skip-existing");
    expect(skipped.output).toMatch(/Skipping \S+ because it appears to already\s+exist/);
  });

  test("a read-only token or a wrong one gets 403, and nothing is uploaded", async () => {
    const dists = await buildProject(root, { name: "never-uploaded", version: "1.0", module: "never_uploaded" });
    const reader = await registry.createToken({ name: "e2e-reader", scopes: ["read"] });
    for (const secret of [reader, `pke_${"z".repeat(40)}`]) {
      const refused = await twine(registry.url, secret, dists);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toMatch(/403 Forbidden/);
    }
    expect((await fetch(`${registry.url}/pypi/simple/never-uploaded/`)).status).toBe(404);
  });

  test("the CLI yanks a release, and pip then passes it over", async () => {
    const cli = await run("node", ["scripts/pkgedge.mjs", "pypi", "yank", "chain.middle", "1.0", "--reason", "e2e"], {
      cwd: join(import.meta.dirname, "../.."), env: pythonEnv({ PKGEDGE_URL: registry.url, PKGEDGE_TOKEN: registry.adminToken }),
    });
    expectOk(cli, "pkgedge pypi yank");
    expect(cli.stdout).toMatch(/yanked .*chain\.middle-1\.0/);
    const venv = await Venv.create(root, registry.url);
    // 1.0 is yanked and 2.0 cannot be satisfied: nothing is left to install.
    const install = await venv.pip(["install", "chain.middle"]);
    expect(install.code).not.toBe(0);
  });
});
