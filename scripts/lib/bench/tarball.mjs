// Builds and reads npm package tarballs (gzipped tar, with tar-stream) and computes npm's digests.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { createGunzip, gzipSync } from "node:zlib";
import tar from "tar-stream";

/**
 * Makes a .tgz the way `npm pack` lays it out: every file under `package/`, npm's fixed mtime.
 * `files` maps relative paths to string or Buffer contents.
 */
export async function makeTarball(files, { mtime = new Date("1985-10-26T08:15:00Z") } = {}) {
  const pack = tar.pack();
  const bytes = buffer(pack);
  for (const [path, content] of Object.entries(files)) {
    pack.entry({ name: `package/${path}`, mode: 0o644, mtime }, Buffer.isBuffer(content) ? content : Buffer.from(content));
  }
  pack.finalize();
  return gzipSync(await bytes, { level: 6 });
}

/**
 * Reads the package.json of a package tarball. npm packs under `package/`, but some old
 * packages used another top folder: any `<top>/package.json` one level deep is accepted.
 */
export async function readPackageJson(tgz) {
  const extract = tar.extract();
  Readable.from([tgz]).pipe(createGunzip()).pipe(extract);
  let fallback = null;
  for await (const entry of extract) {
    const path = entry.header.name.replace(/^\.\//, "");
    const wanted = entry.header.type === "file" && /^[^/]+\/package\.json$/.test(path);
    const data = wanted ? await buffer(entry) : (entry.resume(), null);
    if (path === "package/package.json" && data) return JSON.parse(data.toString("utf8"));
    fallback ??= data;
  }
  if (fallback) return JSON.parse(fallback.toString("utf8"));
  throw new Error("tarball has no package.json");
}

/** npm's dist digests of a tarball: sha512 SRI `integrity` and hex sha1 `shasum`. */
export function tarballDigests(tgz) {
  return {
    integrity: `sha512-${createHash("sha512").update(tgz).digest("base64")}`,
    shasum: createHash("sha1").update(tgz).digest("hex"),
  };
}
