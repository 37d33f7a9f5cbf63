// pkgedge seed: publishes a small demo npm tree, a one-layer OCI image and a two-project Python
// package into a running instance, one progress line per object; re-running skips what is
// already there.
import { createHash } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { buildPublishDoc, escapeName } from "../lib/bench/npm-publish.mjs";
import { makeTarball } from "../lib/bench/tarball.mjs";
import { buildWheel } from "../lib/wheel.mjs";
import { CliError, request } from "./common.mjs";

const MTIME = new Date("1985-10-26T08:15:00Z");
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** The demo tree, leaves first so every dependency exists before its dependents. */
export function demoPackages(scope) {
  const n = (name) => `${scope}/${name}`;
  return [
    { name: n("colors"), deps: {}, code: "exports.red = (s) => `\\u001b[31m${s}\\u001b[39m`;\n" },
    { name: n("format"), deps: {}, code: "exports.pad = (s, n) => String(s).padStart(n);\n" },
    { name: n("logger"), deps: { [n("colors")]: "^1.0.0", [n("format")]: "^1.0.0" }, code: `const { red } = require("${n("colors")}");\nexports.error = (m) => console.error(red(m));\n` },
    { name: n("app"), deps: { [n("logger")]: "^1.0.0" }, code: `require("${n("logger")}").error("hello from the pkgedge demo");\n` },
  ].map((p) => ({ ...p, version: "1.0.0" }));
}

export const seed = {
  name: "seed",
  usage: "seed [--scope @pkgedge-demo] [--image pkgedge-demo/hello:1.0.0]",
  summary: "Publish a demo npm tree (4 packages with dependencies), a one-layer OCI image and two Python\nwheels (pkgedge-demo-hello depends on pkgedge-demo-greeting). One line per object; re-running skips what exists.",
  options: {
    scope: { type: "string", value: "<@scope>", help: "npm scope of the demo packages (default @pkgedge-demo)" },
    image: { type: "string", value: "<repo:tag>", help: "OCI repository and tag (default pkgedge-demo/hello:1.0.0)" },
  },
  examples: ["pkgedge seed", "pkgedge seed --scope @acme-demo --image acme/hello:1.0.0"],
  async run({ values, ctx }) {
    const scope = values.scope ?? "@pkgedge-demo";
    if (!/^@[a-z0-9][a-z0-9._-]*$/.test(scope)) throw new CliError(`--scope must look like @name (lower case), not "${scope}"`);
    const [repo, tag, extra] = (values.image ?? "pkgedge-demo/hello:1.0.0").split(":");
    if (extra !== undefined || !tag || !/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repo) || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) {
      throw new CliError(`--image must be <repository>:<tag> in OCI's spelling, not "${values.image}"`);
    }
    const report = (line) => console.log(line);
    let created = 0;
    for (const p of demoPackages(scope)) created += (await publishNpm(ctx, p, report)) ? 1 : 0;
    created += await pushImage(ctx, repo, tag, report);
    for (const wheel of demoWheels()) created += (await uploadWheel(ctx, wheel, report)) ? 1 : 0;
    report(`seeded ${ctx.url}: ${created} object(s) new, the rest already there`);
  },
};

async function publishNpm(ctx, p, report) {
  const label = `npm ${p.name}@${p.version}`;
  const existing = await request(ctx, "GET", `/npm/${escapeName(p.name)}`, { allow: [404] });
  if (existing.status === 200 && existing.data.versions?.[p.version]) {
    report(`${label}  exists`);
    return false;
  }
  const pkg = { name: p.name, version: p.version, description: `pkgedge demo: ${p.name}`, main: "index.js", license: "MIT", dependencies: p.deps };
  const tgz = await makeTarball({ "package.json": `${JSON.stringify(pkg, null, 2)}\n`, "index.js": p.code });
  const doc = buildPublishDoc(`${ctx.url}/npm/`, [{ manifest: { ...pkg, _id: `${p.name}@${p.version}` }, tgz }]);
  const { status } = await request(ctx, "PUT", `/npm/${escapeName(p.name)}`, { body: doc, headers: { "npm-command": "publish" }, allow: [409] });
  report(`${label}  ${status === 409 ? "exists" : `published (${tgz.length} B)`}`);
  return status !== 409;
}

/** A gzipped layer holding /hello.txt, and its uncompressed digest (the config's diff_id). */
async function demoLayer(repo, tag) {
  const pack = tar.pack();
  const bytes = buffer(pack);
  pack.entry({ name: "hello.txt", mode: 0o644, mtime: MTIME }, `hello from ${repo}:${tag}, seeded by pkgedge\n`);
  pack.finalize();
  const raw = await bytes;
  return { gz: gzipSync(raw, { level: 9 }), diffId: sha256(raw) };
}

const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function pushImage(ctx, repo, tag, report) {
  const layer = await demoLayer(repo, tag);
  const config = Buffer.from(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    created: MTIME.toISOString(),
    config: { Cmd: ["/bin/cat", "/hello.txt"] },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
  }));
  const blobs = [
    { what: "config", bytes: config, mediaType: "application/vnd.oci.image.config.v1+json" },
    { what: "layer", bytes: layer.gz, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
  ].map((b) => ({ ...b, digest: sha256(b.bytes) }));
  let created = 0;
  for (const b of blobs) {
    const label = `oci ${repo} ${b.what} ${b.digest.slice(0, 19)}`;
    const head = await request(ctx, "HEAD", `/v2/${repo}/blobs/${b.digest}`, { auth: "basic", allow: [404] });
    if (head.status === 200) {
      report(`${label}  exists`);
      continue;
    }
    await request(ctx, "POST", `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(b.digest)}`, {
      auth: "basic", body: b.bytes, headers: { "content-type": "application/octet-stream" },
    });
    report(`${label}  pushed (${b.bytes.length} B)`);
    created++;
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: blobs[0].mediaType, digest: blobs[0].digest, size: blobs[0].bytes.length },
    layers: [{ mediaType: blobs[1].mediaType, digest: blobs[1].digest, size: blobs[1].bytes.length }],
  }));
  const digest = sha256(manifest);
  const label = `oci ${repo}:${tag} manifest ${digest.slice(0, 19)}`;
  const head = await request(ctx, "HEAD", `/v2/${repo}/manifests/${tag}`, { auth: "basic", allow: [404], headers: { accept: OCI_MANIFEST } });
  if (head.status === 200 && head.res.headers.get("docker-content-digest") === digest) {
    report(`${label}  exists`);
    return created;
  }
  await request(ctx, "PUT", `/v2/${repo}/manifests/${tag}`, { auth: "basic", body: manifest, headers: { "content-type": OCI_MANIFEST } });
  report(`${label}  pushed (${manifest.length} B)`);
  return created + 1;
}

/** Two wheels, dependency first: `pip install pkgedge-demo-hello` then `python -m pkgedge_demo_hello`. */
export function demoWheels() {
  return [
    buildWheel({ name: "pkgedge-demo-greeting", version: "1.0.0", summary: "pkgedge demo: a greeting", requiresPython: ">=3.8",
      files: { "pkgedge_demo_greeting/__init__.py": 'def greeting(name):\n    return f"hello, {name}, from the pkgedge demo"\n' } }),
    buildWheel({ name: "pkgedge-demo-hello", version: "1.0.0", summary: "pkgedge demo: says hello", requiresPython: ">=3.8", requiresDist: ["pkgedge-demo-greeting>=1.0"],
      files: {
        "pkgedge_demo_hello/__init__.py": "from pkgedge_demo_greeting import greeting\n",
        "pkgedge_demo_hello/__main__.py": 'from pkgedge_demo_greeting import greeting\nprint(greeting("world"))\n',
      } }),
  ];
}

/** twine's upload form for one wheel (POST /pypi/legacy/); "File already exists" means it is there. */
async function uploadWheel(ctx, wheel, report) {
  const [name, version] = [/^Name: (.*)$/m.exec(wheel.metadata)[1], /^Version: (.*)$/m.exec(wheel.metadata)[1]];
  const label = `pypi ${name} ${version}`;
  const form = new FormData();
  const fields = { ":action": "file_upload", protocol_version: "1", metadata_version: "2.1", name, version, filetype: "bdist_wheel", pyversion: "py3",
    requires_python: /^Requires-Python: (.*)$/m.exec(wheel.metadata)?.[1] ?? "", sha256_digest: createHash("sha256").update(wheel.bytes).digest("hex") };
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("content", new Blob([wheel.bytes]), wheel.filename);
  let res;
  try {
    res = await fetch(`${ctx.url}/pypi/legacy/`, { method: "POST", body: form, headers: { authorization: `Basic ${Buffer.from(`__token__:${ctx.secret()}`).toString("base64")}` } });
  } catch (err) {
    throw new CliError(`cannot reach ${ctx.url}: ${err?.cause?.code ?? err.message}`);
  }
  const text = await res.text();
  if (res.status === 400 && /File already exists/.test(text)) {
    report(`${label}  exists`);
    return false;
  }
  if (res.status === 403) throw new CliError(`the token was refused: ${text.trim().split("\n").pop()} (403)`);
  if (!res.ok) throw new CliError(`POST /pypi/legacy/: ${res.status} ${text.trim().split("\n").pop()}`);
  report(`${label}  uploaded (${wheel.bytes.length} B)`);
  return true;
}
