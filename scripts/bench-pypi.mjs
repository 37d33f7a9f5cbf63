// Benchmarks pkgedge's PyPI Simple API on this machine, in one run: `pip install` of a generated
// tree (a root project depending on N others, sdists and wheels built here with
// `python3 -m build`) through pkgedge (uploaded with twine) versus the same files as a static
// PEP 503 tree served by nginx (the ceiling: no work per request), each from a fresh venv with an
// empty pip cache, cold (the server's caches empty) then warm; and a herd of concurrent requests
// on a cold project page and a cold wheel, with the origin reads it cost (from /_/metrics).
// Prints a table, writes bench-results/pypi.json and pypi.md. Loopback only.
// `node_modules/.bin/node scripts/bench-pypi.mjs --help` lists the options.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import http from "node:http";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, startDevServer } from "./lib/dev-server.mjs";
import { startNginx } from "./lib/bench/ceilings.mjs";
import { benchmark, number } from "./lib/bench/cli.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { round } from "./lib/bench/stats.mjs";

const { args, log, run } = benchmark({
  name: "pypi",
  about: "pip install through pkgedge's PyPI Simple API against a static PEP 503 tree served by nginx, cold and warm, and a herd on a cold page and wheel.",
  steps: ["install", "herd"],
  options: {
    projects: number(12, 2, 60, "projects in the installed tree (one root depending on the others)"),
    herd: number(1000, 10, 5000, "concurrent requests of the herd"),
  },
});

// pip and the build tools must read nothing of the machine's own configuration.
function pyEnv() {
  const env = cleanEnv();
  for (const k of Object.keys(env)) if (/^(PIP_|PYTHON|TWINE_|VIRTUAL_ENV)/.test(k)) delete env[k];
  return { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_CONFIG_FILE: "/dev/null", PIP_NO_INPUT: "1" };
}

function sh(cmd, argv, cwd) {
  const r = spawnSync(cmd, argv, { cwd, env: pyEnv(), encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** The interpreter that has `module` (Debian's python3-build may not be the first python3). */
function pythonWith(module) {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    if (spawnSync(candidate, ["-c", `import ${module}`], { env: pyEnv(), stdio: "ignore" }).status === 0) return candidate;
  }
  throw new Error(`no python3 with the ${module} module: apt-get install python3-build python3-venv`);
}
const BUILDER = pythonWith("build");
const VENV_PYTHON = pythonWith("venv");

/** Builds project `name` (depending on `deps`) and answers its sdist and wheel paths. */
function build(root, name, deps) {
  const module = name.replace(/-/g, "_");
  const dir = join(root, name);
  mkdirSync(join(dir, module), { recursive: true });
  writeFileSync(join(dir, "pyproject.toml"), `[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${name}"\nversion = "1.0"\ndependencies = [${deps.map((d) => `"${d}"`).join(", ")}]\n\n[tool.setuptools]\npackages = ["${module}"]\n`);
  writeFileSync(join(dir, module, "__init__.py"), `NAME = "${name}"\n`);
  sh(BUILDER, ["-m", "build", "--no-isolation", "--outdir", "dist", "."], dir);
  return readdirSync(join(dir, "dist")).map((f) => join(dir, "dist", f));
}

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The files of every project as a static PEP 503 tree: simple/<project>/index.html and files/. */
function pep503Tree(projects) {
  const files = {};
  files["simple/index.html"] = `<!DOCTYPE html><html><body>${[...projects.keys()].map((p) => `<a href="${p}/">${p}</a>`).join("\n")}</body></html>`;
  for (const [project, paths] of projects) {
    const anchors = paths.map((p) => {
      const name = p.slice(p.lastIndexOf("/") + 1);
      files[`files/${name}`] = readFileSync(p);
      return `<a href="../../files/${name}#sha256=${sha256(p)}">${name}</a><br>`;
    });
    files[`simple/${project}/index.html`] = `<!DOCTYPE html><html><body>\n${anchors.join("\n")}\n</body></html>`;
  }
  return files;
}

/** Seconds for `pip install root` in a fresh venv with an empty cache (venv creation not counted). */
function timedInstall(work, indexUrl, root) {
  const venv = mkdtempSync(join(work, "venv-"));
  sh(VENV_PYTHON, ["-m", "venv", join(venv, "env")], venv);
  const started = process.hrtime.bigint();
  sh(join(venv, "env", "bin", "pip"), ["install", "--index-url", indexUrl, "--cache-dir", join(venv, "cache"), root], venv);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(venv, { recursive: true, force: true });
  return round(seconds, 2);
}

/** Origin reads so far, by kind (metadata: project documents; blob: files). */
async function originReads(url, adminToken) {
  // A fresh connection each time: pip ran synchronously meanwhile, and a kept-alive socket the
  // server closed in the meantime would fail the fetch.
  const scrape = () => fetch(`${url}/_/metrics`, { headers: { authorization: `Bearer ${adminToken}`, connection: "close" } });
  const text = await (await scrape().catch(scrape)).text();
  const out = { metadata: 0, blob: 0 };
  for (const line of text.split("\n")) {
    const m = /^pkgedge_origin_fetches_total\{[^}]*kind="(metadata|blob)"[^}]*\} (\d+)/.exec(line);
    if (m) out[m[1]] += Number(m[2]);
  }
  return out;
}

/** `clients` GETs at once on connections opened beforehand; answers status counts and the wall time. */
async function herd(url, clients, healthUrl) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const get = (u) => new Promise((resolve) => {
    http.get(u, { agent }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); }).on("error", () => resolve(0));
  });
  await Promise.all(Array.from({ length: clients }, () => get(healthUrl)));
  const started = process.hrtime.bigint();
  const statuses = await Promise.all(Array.from({ length: clients }, () => get(url)));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();
  return { ok: statuses.filter((s) => s === 200).length, ms: round(ms, 0) };
}

await run(async ({ results, step }) => {
  const work = mkdtempSync(join(tmpdir(), "pkgedge-bench-pypi-"));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  log(`building ${args.projects} projects and a herd project...`);
  const projects = new Map();
  const deps = Array.from({ length: args.projects - 1 }, (_, i) => `bench-dep-${i + 1}`);
  for (const d of deps) projects.set(d, build(work, d, []));
  projects.set("bench-root", build(work, "bench-root", deps));
  const herdFiles = build(work, "bench-herd", []);

  // The shields are asked on every /_/metrics call, so before and after a herd are its own reads.
  const server = await startDevServer({ vars: { DEV_REGION_HEADER: "true", METRICS_SHIELD_CACHE_MS: "0" } });
  onCleanup(() => server.stop());
  const nginx = await startNginx(pep503Tree(projects));
  const created = await (await fetch(`${server.url}/_/tokens`, { method: "POST", headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench-pypi", scopes: ["read", "publish"] }) })).json();
  sh("twine", ["upload", "--non-interactive", "--disable-progress-bar", "--repository-url", `${server.url}/pypi/legacy/`, "-u", "__token__", "-p", created.token, ...[...projects.values()].flat(), ...herdFiles], work);
  results.versions = { python: sh(VENV_PYTHON, ["--version"], work).stdout.trim(), nginx: nginx.version };

  await step("install", `1. pip install of a ${args.projects}-project tree, cold then warm`, async () => {
    const out = {};
    for (const [target, indexUrl] of [["pkgedge", `${server.url}/pypi/simple/`], ["nginx", `${nginx.url}/simple/`]]) {
      const cold = timedInstall(work, indexUrl, "bench-root");
      const warm = timedInstall(work, indexUrl, "bench-root");
      out[target] = { cold, warm };
      log(`  ${target}: cold ${cold} s, warm ${warm} s`);
    }
    return out;
  });

  await step("herd", `2. ${args.herd} concurrent requests on a cold page and a cold wheel`, async () => {
    const wheel = herdFiles.find((f) => f.endsWith(".whl")).split("/").pop();
    const out = {};
    for (const [what, path] of [["page", "/pypi/simple/bench-herd/"], ["wheel", `/pypi/files/bench-herd/${wheel}`]]) {
      const before = await originReads(server.url, server.adminToken);
      const r = await herd(`${server.url}${path}`, args.herd, `${server.url}/_/health`);
      const after = await originReads(server.url, server.adminToken);
      out[what] = { ...r, metadataReads: after.metadata - before.metadata, blobReads: after.blob - before.blob };
      log(`  ${what}: ${r.ok}/${args.herd} answered 200 in ${r.ms} ms; origin reads: ${out[what].metadataReads} metadata (documents, .metadata files), ${out[what].blobReads} file(s)`);
    }
    return out;
  });
}, {
  report: (results) => {
    const i = results.install ?? {};
    const h = results.herd ?? {};
    const ratio = (a, b) => (a && b ? `${round(a / b, 2)}x` : "-");
    return [
      "| measure | pkgedge | nginx (static PEP 503 tree) | pkgedge ÷ nginx |",
      "|---|---|---|---|",
      `| pip install, cold: s | ${i.pkgedge?.cold ?? "-"} | ${i.nginx?.cold ?? "-"} | ${ratio(i.pkgedge?.cold, i.nginx?.cold)} |`,
      `| pip install, warm: s | ${i.pkgedge?.warm ?? "-"} | ${i.nginx?.warm ?? "-"} | ${ratio(i.pkgedge?.warm, i.nginx?.warm)} |`,
      `| herd on a cold page: answered 200 / origin reads, metadata + files / ms | ${h.page ? `${h.page.ok} / ${h.page.metadataReads} + ${h.page.blobReads} / ${h.page.ms}` : "-"} | | |`,
      `| then a herd on its wheel: answered 200 / origin reads, metadata + files / ms | ${h.wheel ? `${h.wheel.ok} / ${h.wheel.metadataReads} + ${h.wheel.blobReads} / ${h.wheel.ms}` : "-"} | | |`,
      "",
      "The page's herd reads the project document once and, through prefetch, the newest wheel and its `.metadata` once each; the wheel's herd then needs no origin read.",
    ].join("\n");
  },
  markdown: (results, report) => `# PyPI benchmark (${results.startedAt})\n\n${report}\n`,
});
