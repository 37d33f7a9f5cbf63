// npm publish bodies built the way libnpmpublish builds them (publish.js `buildMetadata`), so
// tests send what `npm publish` sends. The tarball need not be a real gzip: any bytes will do.

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
}

const encoder = new TextEncoder();

/** Stand-in tarball bytes, different for every label. */
export function tarballBytes(label: string): Uint8Array {
  return encoder.encode(`pretend tarball of ${label}\n`.repeat(8));
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
  const tarball = options.tarball ?? tarballBytes(`${name}@${version}`);
  const registry = options.registry ?? "http://pkgedge.test/npm/";
  const description = `test package ${name}`;
  const tarballName = `${name}-${version}.tgz`;
  const manifest: Manifest = {
    _id: `${name}@${version}`,
    name,
    version,
    description,
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
