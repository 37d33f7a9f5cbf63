// Builds the OCI benchmark's image with umoci (one large random layer plus a small one) and runs
// skopeo with a private configuration, so the machine's container settings never take part.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../dev-server.mjs";

/** Runs a command to completion: { code, stdout, stderr, ms }. Never throws on a non-zero exit. */
export function runCommand(cmd, args, { cwd = tmpdir(), env = cleanEnv(), timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

async function mustRun(cmd, args, opts) {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

const rootless = () => (process.getuid?.() === 0 ? [] : ["--rootless"]);

function blobPath(dir, digest) {
  const [alg, hex] = digest.split(":");
  return join(dir, "blobs", alg, hex);
}

/**
 * An image in a fresh OCI layout `dir`, tag `latest`: one layer holding a single random file of
 * `layerBytes` (incompressible, so the gzip layer is about that size) and one small layer, or
 * one layer per entry of `layerSizes` (bytes) when given.
 * Returns { dir, tag, ref, manifestDigest, manifestMediaType, configDigest, layers, layerDigest, layerSize }.
 */
export async function buildBenchImage(dir, { layerBytes = 10 * 1024 * 1024, layerSizes = null } = {}) {
  const tag = "latest";
  const image = `${dir}:${tag}`;
  rmSync(dir, { recursive: true, force: true });
  await mustRun("umoci", ["init", "--layout", dir]);
  await mustRun("umoci", ["new", "--image", image]);
  await mustRun("umoci", ["config", ...rootless(), "--image", image, "--os", "linux", "--architecture", "amd64", "--config.cmd", "/bin/true", "--no-history"]);
  const scratch = `${dir}.src`;
  try {
    const layers = layerSizes ? layerSizes.map((bytes, i) => [`layer${i}`, bytes]) : [["big", layerBytes], ["small", 64 * 1024]];
    for (const [name, bytes] of layers) {
      const src = join(scratch, name);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, `${name}.bin`), randomBytes(bytes));
      await mustRun("umoci", ["insert", ...rootless(), "--image", image, src, `/data/${name}`]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  await mustRun("umoci", ["gc", "--layout", dir]);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const top = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  const manifestBytes = readFileSync(blobPath(dir, top.digest));
  const manifest = JSON.parse(manifestBytes.toString("utf8"));
  const biggest = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
  return {
    dir,
    tag,
    ref: `oci:${dir}:${tag}`,
    manifestDigest: top.digest,
    manifestMediaType: top.mediaType,
    manifestBytes: manifestBytes.length,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size })),
    layerDigest: biggest.digest,
    layerSize: biggest.size,
    totalBytes: manifestBytes.length + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
  };
}

/**
 * Every digest `tag` reaches in a layout (manifest, config, layers), each checked against the
 * bytes on disk: comparing two lists proves a copy was faithful.
 */
export function layoutDigests(dir, tag) {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const top = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (!top) throw new Error(`${dir}: no ${tag} in index.json`);
  const check = (d) => {
    const bytes = readFileSync(blobPath(dir, d.digest));
    const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (actual !== d.digest) throw new Error(`${dir}: blob ${d.digest} holds ${actual}`);
    return bytes;
  };
  const manifest = JSON.parse(check(top).toString("utf8"));
  check(manifest.config);
  for (const l of manifest.layers) check(l);
  return [top.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
}

/**
 * skopeo with its own policy (accept anything: local benchmark images), empty registries.conf
 * and auth file, HOME and temp dir under `root`. Plain HTTP to loopback registries.
 */
export function makeSkopeo(root) {
  const home = join(root, "skopeo-home");
  mkdirSync(home, { recursive: true });
  const policy = join(home, "policy.json");
  writeFileSync(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  const registriesConf = join(home, "registries.conf");
  writeFileSync(registriesConf, "unqualified-search-registries = []\n");
  const authFile = join(home, "auth.json");
  writeFileSync(authFile, "{}\n");
  const env = cleanEnv({ HOME: home, REGISTRY_AUTH_FILE: authFile, CONTAINERS_REGISTRIES_CONF: registriesConf, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home });
  delete env.DOCKER_CONFIG;
  const run = (args) => runCommand("skopeo", ["--policy", policy, "--tmpdir", home, ...args], { cwd: home, env });
  return {
    run,
    /** `skopeo copy`; throws with skopeo's output when it fails; resolves { ms, stdout, stderr }. */
    async copy(src, dest, { srcCreds, destCreds, extra = [] } = {}) {
      const args = ["copy", "--retry-times", "0", "--quiet"];
      if (src.startsWith("docker://")) args.push("--src-tls-verify=false");
      if (dest.startsWith("docker://")) args.push("--dest-tls-verify=false");
      if (srcCreds) args.push("--src-creds", srcCreds);
      if (destCreds) args.push("--dest-creds", destCreds);
      const r = await run([...args, ...extra, src, dest]);
      if (r.code !== 0) throw new Error(`skopeo copy ${src} ${dest} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
      return r;
    },
  };
}
