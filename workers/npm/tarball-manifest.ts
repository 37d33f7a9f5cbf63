// The package.json inside a published tarball, and the check that it says what the version
// manifest in the publish body says (npm "manifest confusion": installers run the tarball's
// package.json, people and scanners read the packument). Read streaming: gunzip, then tar.
import { createTarDecoder } from "modern-tar";
import semver from "semver";
import { RegistryError, badRequest } from "../../shared/errors";
import { concatBytes } from "../../shared/http/body";
import type { VersionManifest } from "./packument";

/** What the tarball says about itself. */
export interface TarballFacts {
  pkg: Record<string, unknown>;
  /** A `binding.gyp` at the package root: npm then runs `node-gyp rebuild` as the install script. */
  hasGypFile: boolean;
}

// Unpacked bytes one tarball may hold before the scan gives up: a gzip bomb costs at most this.
const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;
const MAX_ENTRIES = 100_000;

/** The path an entry lands at once npm strips its first component (`package/`, whatever it is called). */
function packagePath(entryName: string): string {
  const parts = entryName.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
  return parts.slice(1).join("/");
}

async function readAll(body: ReadableStream<Uint8Array>, limit: number, label: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) throw badRequest(`${label}: package.json is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return concatBytes(chunks, total);
}

/**
 * Reads the whole tarball (gzip, as npm packs it, or plain tar) and returns its package.json.
 * Refuses one that cannot be read, has none, or has two (an extractor keeps the last one).
 */
export async function readTarballFacts(bytes: Uint8Array, label: string): Promise<TarballFacts> {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let stream: ReadableStream<Uint8Array> = new Blob([bytes]).stream();
  if (gzipped) stream = stream.pipeThrough(new DecompressionStream("gzip"));
  let pkgBytes: Uint8Array | null = null;
  let hasGypFile = false;
  let unpacked = 0;
  let entries = 0;
  try {
    for await (const entry of stream.pipeThrough(createTarDecoder({ strict: true }))) {
      if (++entries > MAX_ENTRIES) throw badRequest(`${label}: tarball has more than ${MAX_ENTRIES} entries`);
      unpacked += entry.header.size;
      if (unpacked > MAX_UNPACKED_BYTES) throw badRequest(`${label}: tarball unpacks to more than ${MAX_UNPACKED_BYTES} bytes`);
      const path = packagePath(entry.header.name);
      const isFile = entry.header.type === "file";
      if (path === "package.json" && isFile) {
        if (pkgBytes) throw badRequest(`${label}: tarball holds more than one package.json`);
        pkgBytes = await readAll(entry.body, MAX_PACKAGE_JSON_BYTES, label);
      } else {
        if (path === "binding.gyp" && isFile) hasGypFile = true;
        await entry.body.cancel();
      }
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw badRequest(`${label}: the tarball is not a readable ${gzipped ? "gzipped " : ""}tar archive`);
  }
  if (!pkgBytes) throw badRequest(`${label}: the tarball has no package.json (npm packs it as package/package.json)`);
  let pkg: unknown;
  try {
    pkg = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(pkgBytes));
  } catch {
    throw badRequest(`${label}: the tarball's package.json is not valid JSON`);
  }
  if (!pkg || typeof pkg !== "object" || Array.isArray(pkg)) throw badRequest(`${label}: the tarball's package.json is not an object`);
  return { pkg: pkg as Record<string, unknown>, hasGypFile };
}

const DEPENDENCY_KINDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] as const;
const INSTALL_HOOKS = ["preinstall", "install", "postinstall"] as const;

/** Stable JSON with sorted keys, so two objects compare by content. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * npm lists optional dependencies in `dependencies` as well, or drops them from it, depending on
 * the client: compare `dependencies` without the names either side lists as optional.
 */
function dependencies(pkg: Record<string, unknown>, optional: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(asRecord(pkg.dependencies))) if (!optional.has(k)) out[k] = v;
  return out;
}

/** `bin` as npm normalises it (npm-normalize-package-bin): an object of name -> relative path. */
function normalizedBin(pkg: Record<string, unknown>): Record<string, string> {
  const clean = (p: string) => p.replace(/\\/g, "/").split("/").filter((s) => s !== "" && s !== "." && s !== "..").join("/");
  const bin = pkg.bin;
  const out: Record<string, string> = {};
  if (typeof bin === "string") {
    const name = typeof pkg.name === "string" ? pkg.name.replace(/^@[^/]+\//, "") : "";
    if (name) out[name] = clean(bin);
  } else {
    for (const [k, v] of Object.entries(asRecord(bin))) {
      const key = clean(k.replace(/:/g, "/")).split("/").pop() ?? "";
      if (key && typeof v === "string") out[key] = clean(v);
    }
  }
  return out;
}

/** The install-time scripts npm would run, with the `node-gyp rebuild` npm adds for binding.gyp. */
export function installHooks(pkg: Record<string, unknown>, hasGypFile: boolean): Record<string, unknown> {
  const scripts = asRecord(pkg.scripts);
  const hooks: Record<string, unknown> = {};
  for (const hook of INSTALL_HOOKS) if (scripts[hook] !== undefined) hooks[hook] = scripts[hook];
  if (hasGypFile && pkg.gypfile !== false && hooks.install === undefined && hooks.preinstall === undefined) hooks.install = "node-gyp rebuild";
  return hooks;
}

/** Throws 400 naming the first field where the body's manifest and the tarball's package.json disagree. */
export function assertSameManifest(manifest: VersionManifest, facts: TarballFacts, label: string): void {
  const { pkg, hasGypFile } = facts;
  const differs = (field: string, body: unknown, tarball: unknown) =>
    badRequest(`${label}: the version manifest's ${field} (${clip(canonical(body))}) differs from the tarball's package.json (${clip(canonical(tarball))})`);
  if (pkg.name !== manifest.name) throw differs("name", manifest.name, pkg.name);
  const version = typeof pkg.version === "string" ? semver.clean(pkg.version) : null;
  if (version !== manifest.version) throw differs("version", manifest.version, pkg.version);
  const m = manifest as Record<string, unknown>;
  const optional = new Set([...Object.keys(asRecord(m.optionalDependencies)), ...Object.keys(asRecord(pkg.optionalDependencies))]);
  for (const kind of DEPENDENCY_KINDS) {
    const [a, b] = kind === "dependencies" ? [dependencies(m, optional), dependencies(pkg, optional)] : [asRecord(m[kind]), asRecord(pkg[kind])];
    if (canonical(a) !== canonical(b)) throw differs(kind, a, b);
  }
  const [binA, binB] = [normalizedBin(m), normalizedBin(pkg)];
  if (canonical(binA) !== canonical(binB)) throw differs("bin", binA, binB);
  const [hooksA, hooksB] = [installHooks(m, hasGypFile), installHooks(pkg, hasGypFile)];
  if (canonical(hooksA) !== canonical(hooksB)) throw differs("install scripts", hooksA, hooksB);
  if (canonical(asRecord(m.engines)) !== canonical(asRecord(pkg.engines))) throw differs("engines", m.engines ?? {}, pkg.engines ?? {});
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
