// npm publish bodies built the way libnpmpublish builds them (publish.js `buildMetadata`), so
// tests send what `npm publish` sends, with real tarballs laid out as `npm pack` lays them out
// (gzipped ustar, every file under `package/`, package.json first).
import { gzipSync } from "node:zlib";

export interface Attachment {
  content_type: string;
  data: string;
  length: number;
}

export interface Manifest {
  _id: string;
  name: string;
  version: string;
  description: string;
  dist: { integrity: string; shasum: string; tarball: string };
  [field: string]: unknown;
}

export interface PublishBody {
  _id: string;
  name: string;
  description: string;
  "dist-tags": Record<string, string>;
  versions: Record<string, Manifest>;
  _attachments: Record<string, Attachment>;
}

export interface BodyOptions {
  /** The tarball; distinct bytes for each package and version unless given. */
  tarball?: Uint8Array;
  /** The dist-tag npm applies (`--tag`), `latest` by default. */
  tag?: string;
  /** Registry URL npm was configured with; only used for the informational dist.tarball. */
  registry?: string;
  /** package.json fields (dependencies, scripts...), in the manifest and the default tarball alike. */
  fields?: Record<string, unknown>;
}

const encoder = new TextEncoder();
const BLOCK = 512;

/** A ustar header for one regular file (what `npm pack` writes, via node-tar). */
function tarHeader(path: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (text: string, offset: number) => h.set(encoder.encode(text), offset);
  if (encoder.encode(path).byteLength > 100) throw new Error(`tar path too long for this writer: ${path}`);
  put(path, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(`${size.toString(8).padStart(11, "0")}\0`, 124);
  put(`${(499162500).toString(8).padStart(11, "0")}\0`, 136);
  put("        ", 148); // the checksum field counts as spaces while summing
  put("0", 156);
  put("ustar\0", 257);
  put("00", 263);
  const sum = h.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

/**
 * A .tgz holding these files under `package/` (contents as strings or bytes), in this order; a
 * list of pairs may name one path twice, as a hostile archive can.
 */
export function makeTarball(files: Record<string, string | Uint8Array> | Array<[string, string | Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [path, content] of Array.isArray(files) ? files : Object.entries(files)) {
    const body = typeof content === "string" ? encoder.encode(content) : content;
    parts.push(tarHeader(`package/${path}`, body.byteLength), body, new Uint8Array((BLOCK - (body.byteLength % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return new Uint8Array(gzipSync(Buffer.concat(parts)));
}

/**
 * An uncompressed tar (npm reads those too) of exactly `size` bytes, a multiple of 512 and at
 * least 1024: package.json, then a filler file and the end-of-archive blocks as room allows.
 */
export function plainTarball(pkg: Record<string, unknown>, size: number): Uint8Array {
  if (size % BLOCK !== 0 || size < 2 * BLOCK) throw new Error("plainTarball: size must be a multiple of 512, at least 1024");
  const json = encoder.encode(JSON.stringify(pkg));
  if (json.byteLength > BLOCK) throw new Error("plainTarball: package.json must fit in one block");
  const out = new Uint8Array(size);
  out.set(tarHeader("package/package.json", json.byteLength), 0);
  out.set(json, BLOCK);
  const rest = size - 2 * BLOCK;
  // The end-of-archive blocks need 1024 bytes; a filler file needs a header and its body before them.
  if (rest >= 3 * BLOCK) {
    const filler = rest - 3 * BLOCK;
    out.set(tarHeader("package/filler.bin", filler), 2 * BLOCK);
    for (let i = 0; i < filler; i++) out[3 * BLOCK + i] = i % 251;
  }
  return out;
}

/** name and version from a `name@version` label (scoped names too); a placeholder otherwise. */
function labelManifest(label: string): Record<string, unknown> {
  const at = label.lastIndexOf("@");
  // The description is the one publishBody gives, so both make the same bytes for one label.
  return at > 0 ? { name: label.slice(0, at), version: label.slice(at + 1), description: `test package ${label.slice(0, at)}` } : { name: "unnamed", version: "0.0.0" };
}

/**
 * A real tarball whose package.json is `pkg` (by default the name and version in a
 * `name@version` label) and whose index.js holds the label, so every label gives other bytes.
 */
export function tarballBytes(label: string, pkg: Record<string, unknown> = labelManifest(label)): Uint8Array {
  return makeTarball({ "package.json": JSON.stringify(pkg, null, 2), "index.js": `// pretend module of ${label}\n`.repeat(8) });
}

/** The SRI sha512 and hex sha1 npm computes with ssri. */
export async function digestsOf(bytes: Uint8Array): Promise<{ integrity: string; shasum: string }> {
  const [sha512, sha1] = await Promise.all([crypto.subtle.digest("SHA-512", bytes), crypto.subtle.digest("SHA-1", bytes)]);
  return {
    integrity: `sha512-${Buffer.from(sha512).toString("base64")}`,
    shasum: Buffer.from(sha1).toString("hex"),
  };
}

export async function publishBody(name: string, version: string, options: BodyOptions = {}): Promise<PublishBody> {
  const fields = options.fields ?? {};
  const tarball = options.tarball ?? tarballBytes(`${name}@${version}`, { name, version, description: `test package ${name}`, ...fields });
  const registry = options.registry ?? "http://pkgedge.test/npm/";
  const description = `test package ${name}`;
  const tarballName = `${name}-${version}.tgz`;
  const manifest: Manifest = {
    _id: `${name}@${version}`,
    name,
    version,
    description,
    ...fields,
    dist: { ...(await digestsOf(tarball)), tarball: new URL(`${name}/-/${tarballName}`, registry).href },
  };
  return {
    _id: name,
    name,
    description,
    "dist-tags": { [options.tag ?? "latest"]: version },
    versions: { [version]: manifest },
    _attachments: {
      [tarballName]: { content_type: "application/octet-stream", data: Buffer.from(tarball).toString("base64"), length: tarball.byteLength },
    },
  };
}

/** The one version manifest of a single-version body, for tests that tamper with it. */
export function manifestOf(body: PublishBody): Manifest {
  const [manifest] = Object.values(body.versions);
  if (!manifest) throw new Error("publish body has no version");
  return manifest;
}

/** The one attachment of a single-version body, for tests that tamper with it. */
export function attachmentOf(body: PublishBody): Attachment {
  const [attachment] = Object.values(body._attachments);
  if (!attachment) throw new Error("publish body has no attachment");
  return attachment;
}
