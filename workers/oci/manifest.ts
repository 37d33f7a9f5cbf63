// Validates pushed manifests (image-spec manifest and index, Docker schema 2 manifest and
// manifest list) and works out what they reference: the blobs and child manifests that must
// exist, and the subject and artifact type the referrers API reports.
import * as z from "../../shared/zod";
import { MAX_JSON_DEPTH, tooDeep } from "../../shared/http/body";
import { ociError } from "./errors";
import type { Descriptor } from "./storage";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

const digest = z.string().check(z.regex(/^sha256:[a-f0-9]{64}$/, "digest must be sha256:<64 lowercase hex>"));
const annotations = z.record(z.string(), z.string());
const descriptor = z.object({
  mediaType: z.string().check(z.minLength(1)),
  digest,
  size: z.int().check(z.nonnegative()),
  urls: z.optional(z.array(z.string())),
  annotations: z.optional(annotations),
  artifactType: z.optional(z.string()),
});

const imageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.optional(z.string()),
  artifactType: z.optional(z.string()),
  config: descriptor,
  layers: z.array(descriptor),
  subject: z.optional(descriptor),
  annotations: z.optional(annotations),
});

const imageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.optional(z.string()),
  artifactType: z.optional(z.string()),
  manifests: z.array(descriptor),
  subject: z.optional(descriptor),
  annotations: z.optional(annotations),
});

export interface ParsedManifest {
  mediaType: string;
  /** Blobs that must already be in the repository (config and layers). */
  blobs: string[];
  /** Manifests that must already be in the repository (an index's children). */
  manifests: string[];
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Parses and checks a manifest body against the Content-Type it was pushed with. */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw ociError("MANIFEST_INVALID", "manifest is not valid UTF-8 JSON");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw ociError("MANIFEST_INVALID", "manifest must be a JSON object");
  if (tooDeep(doc)) throw ociError("MANIFEST_INVALID", `manifest nests deeper than ${MAX_JSON_DEPTH} levels`);
  const declared = (doc as { mediaType?: unknown }).mediaType;
  const headerType = contentType?.split(";")[0]?.trim().toLowerCase() || undefined;
  if (declared !== undefined && typeof declared !== "string") throw ociError("MANIFEST_INVALID", "mediaType must be a string");
  const mediaType = headerType ?? declared;
  if (!mediaType || !MANIFEST_TYPES.includes(mediaType)) {
    throw ociError("MANIFEST_INVALID", `unsupported manifest media type "${String(mediaType ?? "")}"; expected one of ${MANIFEST_TYPES.join(", ")}`);
  }
  if (declared !== undefined && declared !== mediaType) {
    throw ociError("MANIFEST_INVALID", `Content-Type ${mediaType} does not match the manifest's mediaType ${declared}`);
  }
  // Docker's schema 2 formats require the mediaType field in the body.
  if ((mediaType === DOCKER_MANIFEST || mediaType === DOCKER_LIST) && declared === undefined) {
    throw ociError("MANIFEST_INVALID", `a ${mediaType} must carry its mediaType field`);
  }

  if (mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST) {
    const m = check(imageManifest, doc);
    return {
      mediaType,
      // Foreign layers (with `urls`) live elsewhere by design and are not required here.
      blobs: [m.config.digest, ...m.layers.filter((l) => !l.urls?.length).map((l) => l.digest)],
      manifests: [],
      ...(m.subject ? { subject: m.subject.digest } : {}),
      // image-spec: without artifactType, an image manifest's artifact type is its config's media type.
      artifactType: m.artifactType ?? m.config.mediaType,
      ...(m.annotations ? { annotations: m.annotations } : {}),
    };
  }
  const index = check(imageIndex, doc);
  return {
    mediaType,
    blobs: [],
    manifests: index.manifests.map((d) => d.digest),
    ...(index.subject ? { subject: index.subject.digest } : {}),
    ...(index.artifactType ? { artifactType: index.artifactType } : {}),
    ...(index.annotations ? { annotations: index.annotations } : {}),
  };
}

/** How the referrers API lists a manifest. */
export function referrerDescriptor(parsed: ParsedManifest, digestValue: string, size: number): Descriptor {
  return {
    mediaType: parsed.mediaType,
    digest: digestValue,
    size,
    ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
    ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
  };
}

function check<T>(schema: z.ZodMiniType<T>, doc: unknown): T {
  const result = schema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw ociError("MANIFEST_INVALID", `invalid manifest: ${issue.path.join(".") || "(root)"}: ${issue.message}`, { detail: { issues: result.error.issues.slice(0, 5) } });
  }
  return result.data;
}
