// Synthetic packages for the benchmark: realistic-looking manifests, tiny or 1 MB tarballs.
import { createHash, randomBytes } from "node:crypto";
import { makeTarball } from "./tarball.mjs";

function hex(seed, len) {
  let out = "";
  for (let i = 0; out.length < len; i++) out += createHash("sha1").update(`${seed}:${i}`).digest("hex");
  return out.slice(0, len);
}

/**
 * A version manifest shaped like the public registry's (deps, scripts, repository, people...),
 * about `depCount * 60 + 1200` bytes of JSON; deterministic for a (name, version).
 */
export function richManifest(name, version, { depCount = 20 } = {}) {
  const seed = `${name}@${version}`;
  const deps = {};
  const devDeps = {};
  for (let i = 0; i < depCount; i++) {
    deps[`bench-dependency-${hex(`${seed}d${i}`, 8)}`] = `^${i % 7}.${i % 5}.${i % 3}`;
    devDeps[`@bench-tools/dev-helper-${hex(`${seed}v${i}`, 8)}`] = `~${i % 4}.${i % 9}.0`;
  }
  return {
    name,
    version,
    description: `Synthetic package ${name} for pkgedge benchmarks: a manifest with the usual fields, dependencies and scripts.`,
    keywords: ["bench", "synthetic", "pkgedge", "registry", "npm", "cache", "cdn", "edge"],
    homepage: `https://example.invalid/${name}#readme`,
    bugs: { url: `https://example.invalid/${name}/issues` },
    repository: { type: "git", url: `git+https://example.invalid/${name}.git` },
    license: "MIT",
    author: { name: "Bench Author", email: "bench@example.invalid" },
    maintainers: [{ name: "bench-maintainer", email: "maintainer@example.invalid" }],
    main: "index.js",
    types: "index.d.ts",
    files: ["index.js", "index.d.ts", "lib/"],
    engines: { node: ">=18" },
    scripts: { test: "node --test", lint: "eslint .", build: "tsc -p tsconfig.json", prepublishOnly: "npm run build" },
    dependencies: deps,
    devDependencies: devDeps,
    gitHead: hex(`${seed}g`, 40),
  };
}

/** A small tarball holding the manifest and an index.js (distinct per version). */
export function smallTarball(manifest) {
  return makeTarball({
    "package.json": JSON.stringify(manifest, null, 2),
    "index.js": `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)};\n`,
  });
}

/** `count` distinct semver versions 1.0.0, 1.0.1, ... (20 patches a minor, 10 minors a major). */
export function versionList(count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(`${1 + Math.floor(i / 200)}.${Math.floor(i / 20) % 10}.${i % 20}`);
  return out;
}

/** Every version of a synthetic package as { manifest, tgz }. */
export function syntheticVersions(name, count, opts) {
  return Promise.all(versionList(count).map(async (v) => {
    const manifest = richManifest(name, v, opts);
    return { manifest, tgz: await smallTarball(manifest) };
  }));
}

/** One version whose tarball is about `bytes` long (random, so gzip cannot shrink it). */
export async function bigTarballPackage(name, bytes = 1024 * 1024) {
  const manifest = { name, version: "1.0.0", description: "1 MB tarball for pkgedge benchmarks", main: "index.js", license: "MIT" };
  const tgz = await makeTarball({
    "package.json": JSON.stringify(manifest, null, 2),
    "index.js": "module.exports = require('./blob.json');\n",
    "blob.bin": randomBytes(bytes - 1024),
  });
  return { manifest, tgz };
}
