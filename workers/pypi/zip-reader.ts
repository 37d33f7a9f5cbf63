// Reads single members of a zip archive stored in R2 by ranged reads: the end-of-central-
// directory record, the central directory, then one member's local header and data. The file is
// never loaded whole, however large the wheel. APPNOTE.TXT (PKWARE 6.3.x) sections 4.3 and 4.5.
import { badRequest } from "../../shared/errors";

/** Reads `length` bytes at `offset` of the stored file, or its last `suffix` bytes. */
export type RangeReader = (range: { offset: number; length: number } | { suffix: number }) => Promise<Uint8Array>;

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
// Bounds on what one upload can make us read: a wheel's directory is far below these.
const MAX_DIRECTORY_BYTES = 32 * 1024 * 1024;
const MAX_ENTRIES = 200_000;

const notZip = (label: string, why: string) => badRequest(`${label} is not a valid wheel: ${why}`);

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Little-endian u64 as a number; past 2^53 the archive is refused anyway. */
function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
}

/** Every entry of the central directory of a stored archive of `size` bytes. */
export async function readDirectory(read: RangeReader, size: number, label: string): Promise<ZipEntry[]> {
  if (size < EOCD_MIN) throw notZip(label, "too short to be a zip archive");
  const tail = await read({ suffix: Math.min(size, EOCD_MIN + MAX_COMMENT) });
  const tv = view(tail);
  let at = -1;
  for (let i = tail.byteLength - EOCD_MIN; i >= 0; i--) {
    // The record must end exactly where its comment says: a signature inside a comment is no record.
    if (tv.getUint32(i, true) === EOCD_SIG && i + EOCD_MIN + tv.getUint16(i + 20, true) === tail.byteLength) {
      at = i;
      break;
    }
  }
  if (at < 0) throw notZip(label, "no end of central directory record (truncated, or not a zip archive)");
  let entries = tv.getUint16(at + 10, true);
  let dirSize = tv.getUint32(at + 12, true);
  let dirOffset = tv.getUint32(at + 16, true);
  if (tv.getUint16(at + 4, true) !== 0 || tv.getUint16(at + 6, true) !== 0) throw notZip(label, "multi-disk archives are not wheels");
  if (entries === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const eocdStart = size - tail.byteLength + at;
    if (at < 20 || tv.getUint32(at - 20, true) !== EOCD64_LOCATOR_SIG) throw notZip(label, "zip64 record locator missing");
    const recordOffset = u64(tv, at - 20 + 8);
    if (recordOffset + 56 > eocdStart) throw notZip(label, "zip64 record out of bounds");
    const rec = view(await read({ offset: recordOffset, length: 56 }));
    if (rec.byteLength < 56 || rec.getUint32(0, true) !== EOCD64_SIG) throw notZip(label, "bad zip64 end of central directory record");
    entries = u64(rec, 32);
    dirSize = u64(rec, 40);
    dirOffset = u64(rec, 48);
  }
  if (entries > MAX_ENTRIES) throw notZip(label, `more than ${MAX_ENTRIES} entries`);
  if (dirSize > MAX_DIRECTORY_BYTES) throw notZip(label, `central directory larger than ${MAX_DIRECTORY_BYTES} bytes`);
  if (dirOffset + dirSize > size) throw notZip(label, "central directory out of bounds (truncated?)");
  const dir = dirSize === 0 ? new Uint8Array(0) : await read({ offset: dirOffset, length: dirSize });
  if (dir.byteLength !== dirSize) throw notZip(label, "central directory truncated");
  return parseDirectory(dir, entries, size, label);
}

function parseDirectory(dir: Uint8Array, count: number, size: number, label: string): ZipEntry[] {
  const v = view(dir);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const out: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > dir.byteLength || v.getUint32(p, true) !== CENTRAL_SIG) throw notZip(label, "corrupt central directory");
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > dir.byteLength) throw notZip(label, "corrupt central directory");
    let name: string;
    try {
      name = decoder.decode(dir.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw notZip(label, "an entry name is not UTF-8");
    }
    let compressedSize = v.getUint32(p + 20, true);
    let uncompressed = v.getUint32(p + 24, true);
    let offset = v.getUint32(p + 42, true);
    // Zip64 extended information (header id 1): the fields that overflowed, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 1) {
        let f = e + 4;
        if (uncompressed === 0xffffffff && f + 8 <= e + 4 + len) { uncompressed = u64(v, f); f += 8; }
        if (compressedSize === 0xffffffff && f + 8 <= e + 4 + len) { compressedSize = u64(v, f); f += 8; }
        if (offset === 0xffffffff && f + 8 <= e + 4 + len) { offset = u64(v, f); f += 8; }
      }
      e += 4 + len;
    }
    if (offset + 30 + compressedSize > size) throw notZip(label, `entry ${name} lies outside the archive`);
    out.push({ name, method: v.getUint16(p + 10, true), crc32: v.getUint32(p + 16, true), compressedSize, size: uncompressed, localHeaderOffset: offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** One member's bytes, inflated and checked against its CRC-32; at most `maxBytes` of them. */
export async function readEntry(read: RangeReader, entry: ZipEntry, maxBytes: number, label: string): Promise<Uint8Array> {
  if (entry.size > maxBytes) throw notZip(label, `${entry.name} is larger than ${maxBytes} bytes`);
  const header = await read({ offset: entry.localHeaderOffset, length: 30 });
  const hv = view(header);
  if (header.byteLength < 30 || hv.getUint32(0, true) !== LOCAL_SIG) throw notZip(label, `no local header for ${entry.name}`);
  if (hv.getUint16(6, true) & 1) throw notZip(label, `${entry.name} is encrypted`);
  const dataOffset = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  const raw = entry.compressedSize === 0 ? new Uint8Array(0) : await read({ offset: dataOffset, length: entry.compressedSize });
  if (raw.byteLength !== entry.compressedSize) throw notZip(label, `${entry.name} is truncated`);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) data = await inflate(raw, maxBytes, label, entry.name);
  else throw notZip(label, `${entry.name} uses compression method ${entry.method} (wheels use stored or deflate)`);
  if (data.byteLength !== entry.size || crc32(data) !== entry.crc32) throw notZip(label, `${entry.name} does not match its CRC-32 or size`);
  return data;
}

async function inflate(raw: Uint8Array, maxBytes: number, label: string, name: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    for await (const chunk of stream) {
      total += chunk.byteLength;
      if (total > maxBytes) throw notZip(label, `${name} inflates past ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof Error && err.name === "RegistryError") throw err;
    throw notZip(label, `${name} is not valid deflate data`);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.byteLength; }
  return out;
}

let table: Uint32Array | null = null;

/** CRC-32 (ISO 3309, the zip polynomial 0xEDB88320). */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
