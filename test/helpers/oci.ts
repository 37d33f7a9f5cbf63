// A small OCI distribution client for tests: the requests skopeo/docker/oras send (token flow,
// monolithic and chunked blob pushes, manifest pushes), plus the assertions the OCI tests share
// (the error envelope, "nothing was stored").
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ADMIN_SECRET, createToken, type TokenSpec } from "./tokens";
import { BASE, worker, type Fetch } from "./worker";
import { MEDIA, content, sha256Digest, type Content, type Image, type Manifest } from "./oci-content";

// Content builders live in ./oci-content; re-exported so tests import one module.
export * from "./oci-content";

export const API_VERSION = "registry/2.0";
export const CHALLENGE = `Bearer realm="${BASE}/v2/token",service="pkgedge"`;

// ---- auth ------------------------------------------------------------------------------------

export const basic = (password: string, user = "tester"): string => `Basic ${btoa(`${user}:${password}`)}`;
export const ADMIN = basic(ADMIN_SECRET);

export interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

/** GET /v2/token for these scopes (`repository:<name>:pull,push`), as a client does after a 401. */
export function tokenRequest(scopes: string[], authorization?: string, fetch: Fetch = worker): Promise<Response> {
  const query = new URLSearchParams([["service", "pkgedge"], ...scopes.map((s): [string, string] => ["scope", s])]);
  return fetch(`/v2/token?${query}`, { headers: authorization ? { authorization } : {} });
}

/** A bearer token from /v2/token; throws unless the endpoint answered 200. */
export async function bearerToken(scopes: string[], authorization?: string, fetch: Fetch = worker): Promise<string> {
  const res = await tokenRequest(scopes, authorization, fetch);
  if (res.status !== 200) throw new Error(`GET /v2/token: ${res.status} ${await res.text()}`);
  return (await res.json<TokenAnswer>()).token;
}

/** A client authenticated with a fresh pkgedge token (Basic, as skopeo --creds sends it). */
export async function clientWithToken(spec: TokenSpec, fetch: Fetch = worker): Promise<OciClient> {
  const { token } = await createToken(spec, fetch);
  return new OciClient(fetch, basic(token));
}

/** A client that may push anything (a `publish` pkgedge token). */
export const publisher = (fetch: Fetch = worker): Promise<OciClient> => clientWithToken({ scopes: ["publish"] }, fetch);

// ---- client ----------------------------------------------------------------------------------

/** Path and query of a Location header, which may be absolute or relative. */
export function locationPath(res: Response): string {
  const location = res.headers.get("location");
  if (!location) throw new Error(`no Location header on a ${res.status} answer`);
  const url = new URL(location, BASE);
  return url.pathname + url.search;
}

/** Adds query parameters to an upload location, keeping any the registry put there. */
export function withQuery(location: string, params: Record<string, string>): string {
  const url = new URL(location, BASE);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.pathname + url.search;
}

export interface ChunkedOptions {
  chunkSize: number;
  /** Send Content-Range on each PATCH (default true; docker leaves it out). */
  contentRange?: boolean;
  /** Send the last chunk in the closing PUT instead of a PATCH. */
  lastInPut?: boolean;
  /** Digest to close with (default: the content's). */
  digest?: string;
}

export class OciClient {
  constructor(
    readonly fetch: Fetch = worker,
    readonly authorization?: string,
    readonly headers: Record<string, string> = {},
  ) {}

  /** The same registry with other credentials (or none). */
  as(authorization: string | undefined): OciClient {
    return new OciClient(this.fetch, authorization, this.headers);
  }

  /** The same client playing a PoP in another region. */
  inRegion(region: string): OciClient {
    return new OciClient(this.fetch, this.authorization, { ...this.headers, "x-pkgedge-region": region });
  }

  request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.headers)) if (!headers.has(k)) headers.set(k, v);
    if (this.authorization && !headers.has("authorization")) headers.set("authorization", this.authorization);
    return this.fetch(path, { ...init, headers });
  }

  // end-2
  getBlob(name: string, digest: string, init: RequestInit = {}): Promise<Response> {
    return this.request(`/v2/${name}/blobs/${digest}`, init);
  }

  headBlob(name: string, digest: string): Promise<Response> {
    return this.request(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
  }

  // end-3
  getManifest(name: string, reference: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", Object.values(MEDIA).filter((m) => /manifest|index/.test(m)).join(", "));
    return this.request(`/v2/${name}/manifests/${reference}`, { ...init, headers });
  }

  headManifest(name: string, reference: string): Promise<Response> {
    return this.getManifest(name, reference, { method: "HEAD" });
  }

  // end-4a (and end-11 with mount/from)
  startUpload(name: string, query = ""): Promise<Response> {
    return this.request(`/v2/${name}/blobs/uploads/${query}`, { method: "POST", headers: { "content-length": "0" } });
  }

  /** end-4a, returning the upload location; throws unless 202. */
  async openUpload(name: string): Promise<string> {
    const res = await this.startUpload(name);
    if (res.status !== 202) throw new Error(`POST /v2/${name}/blobs/uploads/: ${res.status} ${await res.text()}`);
    return locationPath(res);
  }

  // end-4b
  pushBlob(name: string, blob: Content, digest = blob.digest): Promise<Response> {
    return this.request(`/v2/${name}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: blob.bytes,
    });
  }

  /** end-4b, throwing unless 201: for tests whose subject is not the blob push. */
  async pushBlobs(name: string, ...blobs: Content[]): Promise<void> {
    for (const blob of blobs) {
      const res = await this.pushBlob(name, blob);
      if (res.status !== 201) throw new Error(`pushing ${blob.digest} to ${name}: ${res.status} ${await res.text()}`);
    }
  }

  // end-5; `range` is the Content-Range value, or null to leave it out.
  patchUpload(location: string, bytes: Uint8Array, range: string | null = null): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (range !== null) headers["content-range"] = range;
    return this.request(location, { method: "PATCH", headers, body: bytes });
  }

  // end-6
  closeUpload(location: string, digest: string, bytes?: Uint8Array): Promise<Response> {
    return this.request(withQuery(location, { digest }), {
      method: "PUT",
      headers: bytes ? { "content-type": "application/octet-stream" } : { "content-length": "0" },
      body: bytes,
    });
  }

  // end-13
  uploadStatus(location: string): Promise<Response> {
    return this.request(location);
  }

  cancelUpload(location: string): Promise<Response> {
    return this.request(location, { method: "DELETE" });
  }

  /** POST, PATCH in chunks (each answer checked by the caller), PUT with the digest. */
  async pushBlobChunked(name: string, blob: Content, o: ChunkedOptions): Promise<{ location: string; patches: Response[]; put: Response }> {
    let location = await this.openUpload(name);
    const patches: Response[] = [];
    const end = o.lastInPut ? Math.max(0, blob.size - o.chunkSize) : blob.size;
    let offset = 0;
    while (offset < end) {
      const chunk = blob.bytes.subarray(offset, Math.min(end, offset + o.chunkSize));
      const range = o.contentRange === false ? null : `${offset}-${offset + chunk.byteLength - 1}`;
      const res = await this.patchUpload(location, chunk, range);
      patches.push(res);
      if (res.status !== 202) break;
      location = locationPath(res);
      offset += chunk.byteLength;
    }
    const rest = o.lastInPut ? blob.bytes.subarray(end) : undefined;
    const put = await this.closeUpload(location, o.digest ?? blob.digest, rest);
    return { location, patches, put };
  }

  // end-11
  mount(name: string, digest: string, from: string): Promise<Response> {
    return this.startUpload(name, `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
  }

  // end-7
  putManifest(name: string, reference: string, manifest: Manifest | Content, contentType?: string): Promise<Response> {
    const type = contentType ?? ("mediaType" in manifest ? manifest.mediaType : MEDIA.manifest);
    return this.request(`/v2/${name}/manifests/${reference}`, { method: "PUT", headers: { "content-type": type }, body: manifest.bytes });
  }

  /** Pushes the blobs and the manifest of an image under `reference`; throws unless all are 201. */
  async pushImage(name: string, reference: string, image: Image): Promise<void> {
    await this.pushBlobs(name, image.config, ...image.layers);
    await this.pushManifest(name, reference, image.manifest);
  }

  /** end-7, throwing unless 201. */
  async pushManifest(name: string, reference: string, manifest: Manifest): Promise<void> {
    const res = await this.putManifest(name, reference, manifest);
    if (res.status !== 201) throw new Error(`PUT manifest ${name}:${reference}: ${res.status} ${await res.text()}`);
  }

  // end-9, end-10
  deleteManifest(name: string, reference: string): Promise<Response> {
    return this.request(`/v2/${name}/manifests/${reference}`, { method: "DELETE" });
  }

  deleteBlob(name: string, digest: string): Promise<Response> {
    return this.request(`/v2/${name}/blobs/${digest}`, { method: "DELETE" });
  }

  // end-8a, end-8b
  tags(name: string, query = ""): Promise<Response> {
    return this.request(`/v2/${name}/tags/list${query}`);
  }

  catalog(query = ""): Promise<Response> {
    return this.request(`/v2/_catalog${query}`);
  }

  // end-12a, end-12b
  referrers(name: string, digest: string, artifactType?: string): Promise<Response> {
    const query = artifactType === undefined ? "" : `?artifactType=${encodeURIComponent(artifactType)}`;
    return this.request(`/v2/${name}/referrers/${digest}${query}`);
  }
}

// ---- assertions ------------------------------------------------------------------------------

export const OCI_CODES = [
  "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED",
  "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
] as const;
export type OciCode = (typeof OCI_CODES)[number];

export interface OciErrorBody {
  errors: Array<{ code: string; message: string; detail?: unknown }>;
}

/**
 * Asserts an OCI error answer: the status, the spec's envelope whose first error has `code`
 * (every error carrying a spec code and a message), the API version header, and for a 401 the
 * challenge that sends clients to the token endpoint. Returns the body for further checks.
 */
export async function expectOciError(res: Response, status: number, code: OciCode): Promise<OciErrorBody> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Keep the raw text so a failure shows it.
  }
  const first = (body as OciErrorBody | undefined)?.errors?.[0];
  expect({ status: res.status, code: first?.code, body }).toMatchObject({ status, code });
  const errors = (body as OciErrorBody).errors;
  for (const e of errors) {
    expect(OCI_CODES).toContain(e.code);
    expect(typeof e.message).toBe("string");
  }
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="[^"]+\/v2\/token",service="pkgedge"/);
  return body as OciErrorBody;
}

/** Every R2 key under `oci/` (all OCI storage, see the contract). */
export async function ociKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ prefix: "oci/", cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

/** Runs a write that must be refused and asserts R2 holds the same `oci/` keys after it as before. */
export async function expectNothingStored<T>(write: () => Promise<T>): Promise<T> {
  const before = await ociKeys();
  const result = await write();
  expect(await ociKeys()).toEqual(before);
  return result;
}

/** The registry does not serve this blob in this repository. */
export async function expectNoBlob(oci: OciClient, name: string, digest: string): Promise<void> {
  const res = await oci.getBlob(name, digest);
  expect(res.status).toBe(404);
  await res.body?.cancel();
}

/** The registry does not serve this manifest (by digest or tag) in this repository. */
export async function expectNoManifest(oci: OciClient, name: string, reference: string): Promise<void> {
  const res = await oci.getManifest(name, reference);
  expect(res.status).toBe(404);
  await res.body?.cancel();
}

export async function bodyDigest(res: Response): Promise<string> {
  return sha256Digest(new Uint8Array(await res.arrayBuffer()));
}
