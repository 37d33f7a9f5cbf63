// A distribution's own core metadata: a wheel's `.dist-info/METADATA` (read from the stored
// file by ranged reads of its zip directory, never the whole file) and an sdist's `PKG-INFO`
// (streamed through gunzip and a tar decoder), parsed as the email-header format the core
// metadata specification uses.
import { createTarDecoder } from "modern-tar";
import { RegistryError, badRequest } from "../../shared/errors";
import { concatBytes } from "../../shared/http/body";
import type { ObjectStore } from "../../shared/origin";
import { canonicalVersion, normalizeName, type DistFile } from "./names";
import { readDirectory, readEntry, type RangeReader } from "./zip-reader";

export const MAX_METADATA_BYTES = 8 * 1024 * 1024;
const MAX_SDIST_ENTRIES = 200_000;
const MAX_SDIST_UNPACKED = 1024 * 1024 * 1024;

/** The header fields of a core metadata file: each name (lowercased) with its values in order. */
export type CoreMetadata = Map<string, string[]>;

/** Parses the header block (up to the first blank line); continuation lines fold into their field. */
export function parseCoreMetadata(bytes: Uint8Array, label: string): CoreMetadata {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest(`${label}: the core metadata is not UTF-8`);
  }
  const fields: CoreMetadata = new Map();
  let last: { name: string; index: number } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line) && last) {
      const values = fields.get(last.name)!;
      values[last.index] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw badRequest(`${label}: the core metadata has a malformed line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = fields.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    fields.set(name, values);
    last = { name, index: values.length - 1 };
  }
  for (const required of ["metadata-version", "name", "version"]) {
    if (!fields.get(required)?.[0]) throw badRequest(`${label}: the core metadata has no ${required[0]!.toUpperCase()}${required.slice(1)} field`);
  }
  return fields;
}

export const field = (md: CoreMetadata, name: string): string | undefined => md.get(name)?.[0];

/** Refuses metadata whose name or version is not the file name's. */
function checkAgainstFile(md: CoreMetadata, dist: DistFile, label: string): void {
  const name = field(md, "name")!;
  const version = field(md, "version")!;
  if (normalizeName(name) !== dist.project) throw badRequest(`${label}: its metadata names project "${name}", the file name "${dist.name}"`);
  if (canonicalVersion(version) === null || canonicalVersion(version) !== canonicalVersion(dist.version)) {
    throw badRequest(`${label}: its metadata says version "${version}", the file name "${dist.version}"`);
  }
}

export interface WheelFacts {
  metadata: CoreMetadata;
  /** METADATA byte for byte: what `<file>.metadata` serves (pip compares it with the wheel's). */
  metadataBytes: Uint8Array;
}

/**
 * A stored wheel's METADATA. The wheel must have exactly one top-level `.dist-info` directory,
 * named after the file's project and version, holding METADATA and WHEEL.
 */
export async function readWheelMetadata(store: ObjectStore, key: string, size: number, dist: DistFile, label: string): Promise<WheelFacts> {
  const read: RangeReader = async (range) => {
    const bytes = await store.readRange(key, range);
    if (!bytes) throw new RegistryError("INTERNAL", "stored upload vanished while being checked");
    return bytes;
  };
  const entries = await readDirectory(read, size, label);
  const dirs = new Set(entries.map((e) => /^([^/]+\.dist-info)\//.exec(e.name)?.[1]).filter((d): d is string => d !== undefined));
  if (dirs.size !== 1) throw badRequest(`${label} is not a valid wheel: it has ${dirs.size} .dist-info directories, a wheel has one`);
  const dir = [...dirs][0]!;
  const m = /^(.+)-([^-]+)\.dist-info$/.exec(dir);
  if (!m || normalizeName(m[1]!) !== dist.project || canonicalVersion(m[2]!) !== canonicalVersion(dist.version)) {
    throw badRequest(`${label} is not a valid wheel: its ${dir} does not match the file name`);
  }
  const find = (name: string) => entries.filter((e) => e.name === `${dir}/${name}`);
  const metadataEntries = find("METADATA");
  if (metadataEntries.length !== 1) throw badRequest(`${label} is not a valid wheel: ${dir}/METADATA ${metadataEntries.length === 0 ? "is missing" : "appears twice"}`);
  if (find("WHEEL").length !== 1) throw badRequest(`${label} is not a valid wheel: ${dir}/WHEEL is missing`);
  const metadataBytes = await readEntry(read, metadataEntries[0]!, MAX_METADATA_BYTES, label);
  const metadata = parseCoreMetadata(metadataBytes, label);
  checkAgainstFile(metadata, dist, label);
  return { metadata, metadataBytes };
}

/** A stored sdist's `<name>-<version>/PKG-INFO`, streamed: the archive is read once, never held. */
export async function readSdistMetadata(store: ObjectStore, key: string, dist: DistFile, filename: string, label: string): Promise<CoreMetadata> {
  const obj = await store.read(key);
  if (!obj) throw new RegistryError("INTERNAL", "stored upload vanished while being checked");
  const top = filename.slice(0, -".tar.gz".length);
  let pkgInfo: Uint8Array | null = null;
  let entries = 0;
  let unpacked = 0;
  try {
    const tar = obj.body.pipeThrough(new DecompressionStream("gzip")).pipeThrough(createTarDecoder({ strict: true }));
    for await (const entry of tar) {
      if (++entries > MAX_SDIST_ENTRIES) throw badRequest(`${label}: the sdist has more than ${MAX_SDIST_ENTRIES} entries`);
      unpacked += entry.header.size;
      if (unpacked > MAX_SDIST_UNPACKED) throw badRequest(`${label}: the sdist unpacks to more than ${MAX_SDIST_UNPACKED} bytes`);
      const path = entry.header.name.replace(/^\.\//, "");
      if (path === `${top}/PKG-INFO` && entry.header.type === "file") {
        if (pkgInfo) throw badRequest(`${label}: the sdist holds ${top}/PKG-INFO twice`);
        const chunks: Uint8Array[] = [];
        let total = 0;
        for await (const chunk of entry.body) {
          total += chunk.byteLength;
          if (total > MAX_METADATA_BYTES) throw badRequest(`${label}: PKG-INFO is larger than ${MAX_METADATA_BYTES} bytes`);
          chunks.push(chunk);
        }
        pkgInfo = concatBytes(chunks, total);
      } else {
        await entry.body.cancel();
      }
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw badRequest(`${label} is not a valid sdist: not a readable gzipped tar archive`);
  }
  if (!pkgInfo) throw badRequest(`${label} is not a valid sdist: it has no ${top}/PKG-INFO`);
  const metadata = parseCoreMetadata(pkgInfo, label);
  checkAgainstFile(metadata, dist, label);
  return metadata;
}
