// OCI content for tests: media types, blobs with their digests, and image manifests and
// indexes built with real sha256 digests (what umoci or buildkit would produce, in memory).
export const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  empty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

// ---- content ---------------------------------------------------------------------------------

/** Bytes with their OCI digest. */
export interface Content {
  bytes: Uint8Array;
  digest: string;
  size: number;
}

/** A manifest or index exactly as it is sent (its digest is over these bytes). */
export interface Manifest extends Content {
  mediaType: string;
  json: Record<string, unknown>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
  data?: string;
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

export async function sha256Digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return "sha256:" + [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

export async function content(data: string | Uint8Array): Promise<Content> {
  const bytes = typeof data === "string" ? encode(data) : data;
  return { bytes, digest: await sha256Digest(bytes), size: bytes.byteLength };
}

export function descriptor(c: Content, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: c.digest, size: c.size, ...extra };
}

export const manifestDescriptor = (m: Manifest, extra: Partial<Descriptor> = {}): Descriptor => descriptor(m, m.mediaType, extra);

/** The empty config of artifacts (image-spec "Guidance for an Empty Descriptor"). */
export const emptyConfig = (): Promise<Content> => content("{}");

/**
 * Serialises a manifest with unusual indentation on purpose: a registry must store and serve
 * the bytes it was given (spec "Pushing Manifests"), so re-serialising would change the digest.
 */
export async function manifestOf(json: Record<string, unknown>, mediaType = json.mediaType as string): Promise<Manifest> {
  const bytes = encode(JSON.stringify(json, null, 3));
  return { bytes, digest: await sha256Digest(bytes), size: bytes.byteLength, mediaType, json };
}

export interface ImageParts {
  config: Content;
  layers: Content[];
  docker?: boolean;
  configMediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageManifest(p: ImageParts): Promise<Manifest> {
  const json: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: p.docker ? MEDIA.dockerManifest : MEDIA.manifest,
    ...(p.artifactType ? { artifactType: p.artifactType } : {}),
    config: descriptor(p.config, p.configMediaType ?? (p.docker ? MEDIA.dockerConfig : MEDIA.config)),
    layers: p.layers.map((l) => descriptor(l, p.docker ? MEDIA.dockerLayer : MEDIA.layer)),
    ...(p.subject ? { subject: p.subject } : {}),
    ...(p.annotations ? { annotations: p.annotations } : {}),
  };
  return manifestOf(json);
}

export interface IndexParts {
  manifests: Manifest[];
  docker?: boolean;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageIndex(p: IndexParts): Promise<Manifest> {
  const arch = ["amd64", "arm64", "riscv64", "s390x"];
  const json: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: p.docker ? MEDIA.dockerList : MEDIA.index,
    ...(p.artifactType ? { artifactType: p.artifactType } : {}),
    manifests: p.manifests.map((m, i) => manifestDescriptor(m, { platform: { architecture: arch[i % arch.length]!, os: "linux" } })),
    ...(p.subject ? { subject: p.subject } : {}),
    ...(p.annotations ? { annotations: p.annotations } : {}),
  };
  return manifestOf(json);
}

/** A config and layers with distinct random content, and the manifest over them (not pushed). */
export async function randomImage(options: { layers?: number; layerSize?: number; docker?: boolean } = {}): Promise<Image> {
  const config = await content(JSON.stringify({ architecture: "amd64", os: "linux", nonce: crypto.randomUUID() }));
  const layers = await Promise.all(Array.from({ length: options.layers ?? 1 }, () => content(randomBytes(options.layerSize ?? 1024))));
  return { config, layers, manifest: await imageManifest({ config, layers, docker: options.docker }) };
}

export interface Image {
  config: Content;
  layers: Content[];
  manifest: Manifest;
}
