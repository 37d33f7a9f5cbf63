// Where OCI objects live at the origin (R2). The cache objects built from them are in objects.ts.
// `@` cannot occur in a repository name, so `<name>@tags/` can never collide with a nested
// repository such as `<name>/tags`.

/** Blob bytes as uploaded (never copied afterwards). */
export const dataObject = (uploadId: string) => `oci/data/${uploadId}`;
/**
 * Marker of an upload with an R2 multipart upload open (named after its data object): what
 * `pkgedge_oci_open_uploads` counts. The UploadSession writes it and removes it when it ends.
 */
export const OPEN_UPLOADS_PREFIX = "oci/open-uploads/";
export const openUploadObject = (dataKey: string) => `${OPEN_UPLOADS_PREFIX}${dataKey.slice(dataKey.lastIndexOf("/") + 1)}`;
/** Link from a digest to the bytes: one per distinct blob, shared by every repository. */
export const blobObject = (digest: string) => `oci/blobs/${digest}`;
/** Link saying "this repository has this blob": what pulls read and deletes remove. */
export const repoBlobObject = (name: string, digest: string) => `oci/repos/${name}@blobs/${digest}`;
export const manifestObject = (name: string, digest: string) => `oci/repos/${name}@manifests/${digest}`;
export const tagPrefix = (name: string) => `oci/repos/${name}@tags/`;
export const tagObject = (name: string, tag: string) => `${tagPrefix(name)}${tag}`;
export const referrerPrefix = (name: string, subject: string) => `oci/repos/${name}@referrers/${subject}/`;
export const referrerObject = (name: string, subject: string, digest: string) => `${referrerPrefix(name, subject)}${digest}`;
// Copies of repositories pulled through from an upstream registry (workers/oci/upstream.ts),
// apart from hosted ones: a tag links to its manifest, which carries its digest.
export const upstreamBlobObject = (name: string, digest: string) => `upstream/oci/${name}@blobs/${digest}`;
export const upstreamManifestObject = (name: string, digest: string) => `upstream/oci/${name}@manifests/${digest}`;
export const upstreamTagObject = (name: string, tag: string) => `upstream/oci/${name}@tags/${tag}`;
export const CATALOG_PREFIX = "oci/catalog/";
export const catalogObject = (name: string) => `${CATALOG_PREFIX}${name}`;
