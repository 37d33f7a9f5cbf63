// A pure-Python wheel (PEP 427) built in memory: a zip archive of stored entries with the
// `.dist-info` METADATA, WHEEL and RECORD an installer needs. For `pkgedge seed`.
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

const b64 = (bytes) => createHash("sha256").update(bytes).digest("base64url");

/** A zip archive (APPNOTE 4.3) of stored entries: `[name, Buffer][]`. */
function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(n.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/**
 * `{ filename, bytes, metadata }` of a wheel for `name` `version` whose `files` (path -> text)
 * install as-is; `requiresDist` and `requiresPython` go into METADATA.
 */
export function buildWheel({ name, version, files, summary = "", requiresDist = [], requiresPython }) {
  const escaped = name.replace(/[-_.]+/g, "_");
  const distInfo = `${escaped}-${version}.dist-info`;
  const metadata = [
    "Metadata-Version: 2.1", `Name: ${name}`, `Version: ${version}`, ...(summary ? [`Summary: ${summary}`] : []),
    ...(requiresPython ? [`Requires-Python: ${requiresPython}`] : []), ...requiresDist.map((d) => `Requires-Dist: ${d}`), "", "",
  ].join("\n");
  const entries = [
    ...Object.entries(files).map(([path, text]) => [path, Buffer.from(text)]),
    [`${distInfo}/METADATA`, Buffer.from(metadata)],
    [`${distInfo}/WHEEL`, Buffer.from("Wheel-Version: 1.0\nGenerator: pkgedge seed\nRoot-Is-Purelib: true\nTag: py3-none-any\n")],
  ];
  const record = [...entries.map(([path, data]) => `${path},sha256=${b64(data)},${data.length}`), `${distInfo}/RECORD,,`, ""].join("\n");
  entries.push([`${distInfo}/RECORD`, Buffer.from(record)]);
  return { filename: `${escaped}-${version}-py3-none-any.whl`, bytes: zip(entries), metadata };
}
