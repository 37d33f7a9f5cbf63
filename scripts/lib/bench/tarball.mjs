// Builds and reads npm package tarballs (gzipped ustar) without any dependency.
import { gunzipSync, gzipSync } from "node:zlib";
import { createHash } from "node:crypto";

const BLOCK = 512;

/**
 * Makes a .tgz the way `npm pack` lays it out: every file under `package/`.
 * `files` maps relative paths to string or Buffer contents.
 */
export function makeTarball(files, { mtime = new Date("1985-10-26T08:15:00Z") } = {}) {
  const chunks = [];
  for (const [path, content] of Object.entries(files)) {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    chunks.push(tarHeader(`package/${path}`, body.length, mtime));
    chunks.push(body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) chunks.push(Buffer.alloc(pad));
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(chunks), { level: 6 });
}

function tarHeader(name, size, mtime) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar path too long for this writer: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(size.toString(8).padStart(11, "0") + "\0", 124);
  h.write(Math.floor(mtime.getTime() / 1000).toString(8).padStart(11, "0") + "\0", 136);
  h.write("        ", 148); // checksum field counts as spaces while summing
  h.write("0", 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/**
 * Reads the package.json of a package tarball. npm packs under `package/`, but some old
 * packages used another top folder: any `<top>/package.json` one level deep is accepted.
 */
export function readPackageJson(tgz) {
  const tar = gunzipSync(tgz);
  let offset = 0;
  let longName = null;
  let paxPath = null;
  let fallback = null;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 48);
    const prefix = cString(header.subarray(345, 500));
    let name = cString(header.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    const dataStart = offset + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = cString(data);
      continue;
    }
    if (type === "x") {
      paxPath = parsePax(data).path ?? null;
      continue;
    }
    if (type === "g") continue;
    const path = paxPath ?? longName ?? name;
    paxPath = null;
    longName = null;
    if (type !== "0" && type !== "\0" && type !== "7") continue;
    const clean = path.replace(/^\.\//, "");
    if (clean === "package/package.json") return JSON.parse(data.toString("utf8"));
    if (!fallback && /^[^/]+\/package\.json$/.test(clean)) fallback = Buffer.from(data);
  }
  if (fallback) return JSON.parse(fallback.toString("utf8"));
  throw new Error("tarball has no package.json");
}

function parseOctal(buf) {
  // GNU base-256 for large sizes: high bit of the first byte set.
  if (buf[0] & 0x80) {
    let v = 0;
    for (let i = 1; i < buf.length; i++) v = v * 256 + buf[i];
    return v;
  }
  const s = cString(buf).trim();
  return s ? parseInt(s, 8) : 0;
}

function cString(buf) {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString("utf8");
}

function parsePax(data) {
  // Records are "<len> <key>=<value>\n" where <len> counts bytes, so walk the Buffer.
  const out = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString("ascii"), 10);
    if (!len) break;
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** npm's dist digests of a tarball: sha512 SRI `integrity` and hex sha1 `shasum`. */
export function tarballDigests(tgz) {
  return {
    integrity: `sha512-${createHash("sha512").update(tgz).digest("base64")}`,
    shasum: createHash("sha1").update(tgz).digest("hex"),
  };
}
