// PyPI pull-through against a real upstream on loopback: a static PEP 503 tree (what many
// private indexes are) served by `python3 -m http.server`, holding wheels and sdists built here,
// with core metadata files for the wheels. What a user observes: pip installs a dependency chain
// through pkgedge from an empty cache; 3 regions x 100 cold requests reach the upstream once
// per object (its own request log says so); a file removed upstream leaves every region and is
// audited; private names never reach the upstream; the cooldown hides files without an upload
// time (a PEP 503 page gives none) and refuses them; and with the upstream stopped a fresh venv
// installs the same chain again.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, startServer } from "../../scripts/lib/dev-server.mjs";
import { describeRun, get, run, startRegistry, statusOf, type Registry, type RunResult } from "./helpers";
import { Venv, buildProject, pythonEnv, sha256File, twine, type PyProject } from "./pypi-helpers";

const REGIONS = ["us-east", "eu-west", "ap-south"];
const TTL_SECONDS = 2;
const PROJECTS: PyProject[] = [
  { name: "Up_Base", version: "1.0", module: "up_base", requiresPython: ">=3.8" },
  { name: "up.middle", version: "1.0", module: "up_middle", dependencies: ["up-base>=1.0"], imports: ["up_base"] },
  { name: "up-top", version: "1.0", module: "up_top", dependencies: ["Up.Middle"], imports: ["up_middle"] },
  { name: "up-herd", version: "1.0", module: "up_herd" },
  { name: "up-takedown", version: "1.0", module: "up_takedown" },
  { name: "up-takedown", version: "1.1", module: "up_takedown" },
  { name: "acme-secret", version: "1.0", module: "acme_secret" },
  { name: "up-late", version: "1.0", module: "up_late" },
];
const CHAIN = "up-top==1.0 -> up.middle==1.0 -> Up_Base==1.0";

let root: string;
let tree: string;
let upstream: Awaited<ReturnType<typeof startServer>> & { url: string };
let upstreamPort: number;
let registry: Registry;
let cooled: Registry;
const filesByProject = new Map<string, string[]>();

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");
const expectOk = (r: RunResult, what: string) => expect(r.code, describeRun(what, r)).toBe(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The wheel's METADATA, as a static index publishes it beside the wheel (PEP 658). */
async function writeCoreMetadata(wheel: string, out: string): Promise<void> {
  const code = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nname = [n for n in z.namelist() if n.endswith('.dist-info/METADATA')][0]\nopen(sys.argv[2], 'wb').write(z.read(name))";
  const r = await run("python3", ["-c", code, wheel, out], { cwd: tmpdir(), env: pythonEnv() });
  if (r.code !== 0) throw new Error(r.output);
}

/** Writes simple/<project>/index.html for every project from the files it lists now. */
function writeTree(): void {
  const projects = [...filesByProject.keys()].sort();
  mkdirSync(join(tree, "simple"), { recursive: true });
  writeFileSync(join(tree, "simple", "index.html"), `<!DOCTYPE html><html><body>${projects.map((p) => `<a href="${p}/">${p}</a>`).join("\n")}</body></html>`);
  for (const project of projects) {
    const anchors = filesByProject.get(project)!.map((file) => {
      const name = basename(file);
      const meta = name.endsWith(".whl") ? ` data-core-metadata="sha256=${sha256File(`${join(tree, "files", name)}.metadata`)}"` : "";
      const requires = project === "up-base" ? ' data-requires-python="&gt;=3.8"' : "";
      return `<a href="../../files/${name}#sha256=${sha256File(file)}"${requires}${meta}>${name}</a><br>`;
    });
    mkdirSync(join(tree, "simple", project), { recursive: true });
    writeFileSync(join(tree, "simple", project, "index.html"), `<!DOCTYPE html><html><body>\n${anchors.join("\n")}\n</body></html>`);
  }
}

/** Requests the upstream logged as `GET <path>` (http.server logs one line per request). */
const upstreamGets = (path: string) => upstream.output().split("\n").filter((l: string) => l.includes(`"GET ${path} HTTP/`)).length;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pkgedge-pypi-upstream-"));
  tree = join(root, "tree");
  mkdirSync(join(tree, "files"), { recursive: true });
  const built = await Promise.all(PROJECTS.map((p) => buildProject(root, p)));
  for (const [i, p] of PROJECTS.entries()) {
    const project = normalize(p.name);
    for (const file of built[i]!) {
      copyFileSync(file, join(tree, "files", basename(file)));
      if (file.endsWith(".whl")) await writeCoreMetadata(file, `${join(tree, "files", basename(file))}.metadata`);
    }
    filesByProject.set(project, [...(filesByProject.get(project) ?? []), ...built[i]!]);
  }
  writeTree();
  upstreamPort = await freePort();
  const server = await startServer({
    name: "http.server", command: "python3", args: ["-u", "-m", "http.server", String(upstreamPort), "--bind", "127.0.0.1", "--directory", tree],
    cwd: root, env: pythonEnv(), healthUrl: `http://127.0.0.1:${upstreamPort}/simple/`,
  });
  upstream = Object.assign(server, { url: `http://127.0.0.1:${upstreamPort}/simple` });
  const vars = { PYPI_UPSTREAM: upstream.url, UPSTREAM_PRIVATE: "acme-*", UPSTREAM_METADATA_TTL: String(TTL_SECONDS), L1_METADATA_TTL: "1", NEGATIVE_TTL_SECONDS: "1" };
  [registry, cooled] = await Promise.all([startRegistry(vars), startRegistry({ ...vars, MIN_RELEASE_AGE: "pypi:72h" })]);
}, 300_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), cooled?.stop(), upstream?.stop()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("pip through pkgedge with a PEP 503 upstream", () => {
  test("pip install of a chain from an empty cache, every file checked against the upstream's sha256", async () => {
    const venv = await Venv.create(root, registry.url);
    expectOk(await venv.pip(["install", "up-top"]), "pip install up-top");
    const imported = await venv.python("import up_top; print(up_top.NAME)");
    expectOk(imported, "import up_top");
    expect(imported.stdout.trim()).toBe(CHAIN);
    const page = await get(`${registry.url}/pypi/simple/up-base/`, { accept: "application/vnd.pypi.simple.v1+json" });
    expect(page.headers.get("x-pkgedge-upstream")).toBe("fresh");
    const doc = (await page.json()) as { files: Array<{ filename: string; url: string; hashes: { sha256: string }; "requires-python"?: string; "core-metadata": unknown }> };
    const wheel = doc.files.find((f) => f.filename.endsWith(".whl"))!;
    expect(wheel.url.startsWith("/pypi/files/") || wheel.url.startsWith(registry.url)).toBe(true);
    expect(wheel.hashes.sha256).toBe(sha256File(join(tree, "files", wheel.filename)));
    expect(wheel["requires-python"]).toBe(">=3.8");
    expect(wheel["core-metadata"]).toEqual({ sha256: sha256File(`${join(tree, "files", wheel.filename)}.metadata`) });
  });

  test("3 regions x 100 concurrent cold requests for a page and a wheel reach the upstream once each", async () => {
    const page = `${registry.url}/pypi/simple/up-herd/`;
    const started = Date.now();
    const statuses = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 100 }, () => statusOf(page, { region }))));
    const elapsed = Date.now() - started;
    expect(statuses.every((s) => s === 200)).toBe(true);
    // One request, plus at most one revalidation per lifetime should the burst outlast one.
    expect(upstreamGets("/simple/up-herd/")).toBeGreaterThanOrEqual(1);
    expect(upstreamGets("/simple/up-herd/"), `burst took ${elapsed} ms`).toBeLessThanOrEqual(1 + Math.floor(elapsed / (TTL_SECONDS * 1000)));
    const wheel = basename(filesByProject.get("up-herd")!.find((f) => f.endsWith(".whl"))!);
    const bodies = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 100 }, async () => {
      const res = await get(`${registry.url}/pypi/files/up-herd/${wheel}`, { region });
      return { status: res.status, size: (await res.arrayBuffer()).byteLength };
    })));
    expect(bodies.every((b) => b.status === 200 && b.size > 0)).toBe(true);
    expect(upstreamGets(`/files/${wheel}`), "wheel downloads at the upstream").toBe(1);
  });

  test("twine upload of a project the upstream has needs the admin token, and then only hosted files are served", async () => {
    const files = filesByProject.get("up-herd")!;
    const publisher = await registry.createToken({ name: "pypi-shadow", scopes: ["read", "publish"] });
    const refused = await twine(registry.url, publisher, files);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/exists on the upstream registry/);
    expectOk(await twine(registry.url, registry.adminToken, files), "twine upload with the admin token");
    const page = (await (await get(`${registry.url}/pypi/simple/up-herd/`, { accept: "application/vnd.pypi.simple.v1+json" })).json()) as { files: Array<{ filename: string }> };
    expect(page.files.map((f) => f.filename).sort()).toEqual(files.map((f) => basename(f)).sort());
    expect(await statusOf(`${registry.url}/pypi/files/up-herd/${basename(files[0]!)}`)).toBe(200);
  });

  test("a name matching UPSTREAM_PRIVATE never reaches the upstream", async () => {
    for (const region of REGIONS) expect(await statusOf(`${registry.url}/pypi/simple/acme-secret/`, { region })).toBe(404);
    expect(upstream.output()).not.toContain("acme");
  });

  test("a file removed upstream leaves the page and answers 404 in every region, audited", async () => {
    const gone = filesByProject.get("up-takedown")!.find((f) => f.includes("1.0") && f.endsWith(".whl"))!;
    for (const region of REGIONS) expect(await statusOf(`${registry.url}/pypi/files/up-takedown/${basename(gone)}`, { region })).toBe(200);
    filesByProject.set("up-takedown", filesByProject.get("up-takedown")!.filter((f) => f !== gone));
    writeTree();
    await sleep((TTL_SECONDS + 1) * 1000);
    const page = (await (await get(`${registry.url}/pypi/simple/up-takedown/`, { accept: "application/vnd.pypi.simple.v1+json" })).json()) as { files: Array<{ filename: string }> };
    expect(page.files.map((f) => f.filename)).not.toContain(basename(gone));
    await sleep(1500);
    for (const region of REGIONS) expect(await statusOf(`${registry.url}/pypi/files/up-takedown/${basename(gone)}`, { region })).toBe(404);
    const audit = (await (await fetch(`${registry.url}/_/audit?action=upstream.removed`, { headers: { authorization: `Bearer ${registry.adminToken}` } })).json()) as { entries: Array<{ target: string; detail: { files: string[] } }> };
    expect(audit.entries.some((e) => e.target === "up-takedown" && e.detail.files.includes(basename(gone)))).toBe(true);
  });
});

describe("a lock newer than pkgedge's copy of the page", () => {
  test("a file added upstream after the page was cached downloads by its URL in every region; a file that does not exist costs the upstream one request per 5 s", async () => {
    // Upstream pages kept for 5 minutes: only the recheck can see the new file in time.
    const longLived = await startRegistry({ PYPI_UPSTREAM: upstream.url, UPSTREAM_METADATA_TTL: "300", L1_METADATA_TTL: "300" });
    try {
      expect((await get(`${longLived.url}/pypi/simple/up-late/`, { region: "us-east" })).status).toBe(200);
      const added = await buildProject(root, { name: "up-late", version: "1.1", module: "up_late" });
      for (const file of added) {
        copyFileSync(file, join(tree, "files", basename(file)));
        if (file.endsWith(".whl")) await writeCoreMetadata(file, `${join(tree, "files", basename(file))}.metadata`);
      }
      filesByProject.set("up-late", [...filesByProject.get("up-late")!, ...added]);
      writeTree();
      // Past the recheck interval since pkgedge last asked (workers/upstream-recheck.ts: 5 s).
      await sleep(5500);
      const wheel = added.find((f) => f.endsWith(".whl"))!;
      for (const region of REGIONS) {
        const res = await get(`${longLived.url}/pypi/files/up-late/${basename(wheel)}`, { region });
        expect(res.status, region).toBe(200);
        expect(createHash("sha256").update(new Uint8Array(await res.arrayBuffer())).digest("hex"), region).toBe(sha256File(wheel));
      }

      await sleep(5500);
      const asked = upstreamGets("/simple/up-late/");
      for (let i = 0; i < 5; i++) expect(await statusOf(`${longLived.url}/pypi/files/up-late/up_late-9.9-py3-none-any.whl`, { region: REGIONS[i % 3]! })).toBe(404);
      expect(upstreamGets("/simple/up-late/") - asked, "upstream page requests for 5 unknown-file requests").toBe(1);
    } finally {
      await longLived.stop();
    }
  });
});

describe("release-age cooldown (MIN_RELEASE_AGE pypi:72h)", () => {
  test("files without an upload time are not listed and refuse to download; pip finds nothing to install", async () => {
    const page = (await (await get(`${cooled.url}/pypi/simple/up-base/`, { accept: "application/vnd.pypi.simple.v1+json" })).json()) as { files: unknown[] };
    expect(page.files).toEqual([]);
    const wheel = basename(filesByProject.get("up-base")!.find((f) => f.endsWith(".whl"))!);
    const res = await get(`${cooled.url}/pypi/files/up-base/${wheel}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/MIN_RELEASE_AGE/);
    const venv = await Venv.create(root, cooled.url);
    const install = await venv.pip(["install", "up-base"]);
    expect(install.code).not.toBe(0);
  });
});

describe("upstream outage", () => {
  test("with the upstream stopped, a fresh venv with an empty cache installs the chain again", async () => {
    await upstream.stop();
    await sleep((TTL_SECONDS + 1) * 1000);
    const venv = await Venv.create(root, registry.url);
    expectOk(await venv.pip(["install", "up-top"]), "pip install up-top with the upstream down");
    const imported = await venv.python("import up_top; print(up_top.NAME)");
    expect(imported.stdout.trim()).toBe(CHAIN);
    const never = await get(`${registry.url}/pypi/simple/never-fetched/`);
    expect(never.status).toBe(503);
  });
});
