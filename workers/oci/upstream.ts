// OCI pull-through: what an UpstreamMirror does for OCI objects of a repository not hosted
// here. Manifests are fetched by tag or digest and verified (sha256 of the bytes against the
// digest asked for and the upstream's Docker-Content-Digest); a tag is revalidated with a HEAD,
// so a retag upstream is seen within UPSTREAM_METADATA_TTL and an unchanged tag costs no
// download. Blobs stream into the origin verified against their digest. The upstream's token
// flow (a `WWW-Authenticate: Bearer` challenge, anonymous or with OCI_UPSTREAM_CREDENTIALS) is
// followed, and its bearer tokens reused while they last.
import { sha256Hex } from "../../shared/digest";
import { invalidateEverywhere } from "../../shared/tiers/invalidation";
import { UpstreamFailure, upstreamFetch } from "../../shared/upstream/http";
import { ociUpstreamOf } from "../../shared/upstream/policy";
import type { MirrorContext, RefreshOutcome } from "../../shared/upstream/types";
import { storeVerifiedCopy } from "../../shared/upstream/verified-copy";
import { fromHex } from "../../shared/upstream/verified-stream";
import type { UpstreamRegistry } from "../../shared/config";
import { upstreamManifestObject, upstreamTagObject } from "./keys";
import { RepositoryStore } from "./storage";

// The manifest kinds a client of this registry can use, as docker and containerd ask for them.
const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

// Bearer tokens by registry and repository, per isolate, until shortly before they expire.
const tokens = new Map<string, { token: string; until: number }>();
const MAX_TOKENS = 1000;

interface Target {
  registry: UpstreamRegistry;
  remoteName: string;
}

function target(ctx: MirrorContext): Target {
  const found = ociUpstreamOf(ctx.config, ctx.ref.name);
  if (!found) throw new UpstreamFailure("no OCI upstream is configured for this repository");
  return found;
}

/** A repository hosted here is never pulled through, whatever the upstream has under its name. */
async function hostedHere(ctx: MirrorContext): Promise<boolean> {
  return new RepositoryStore(ctx.store).repositoryExists(ctx.ref.name);
}

export async function mirrorManifest(ctx: MirrorContext, object: { reference: string }): Promise<RefreshOutcome> {
  if (await hostedHere(ctx)) return { kind: "missing" };
  const t = target(ctx);
  const byDigest = DIGEST.test(object.reference);
  const url = `${t.registry.url}/v2/${t.remoteName}/manifests/${object.reference}`;
  if (!byDigest && ctx.hadCopy && ctx.etag) {
    // A tag held already: HEAD says whether it still points at the same manifest.
    const head = await authorizedFetch(ctx, t, url, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } }, "metadata");
    await head.body?.cancel();
    if (head.status === 404) return tagGone(ctx, object.reference);
    if (head.headers.get("docker-content-digest") === ctx.etag) return { kind: "unchanged" };
  }
  const res = await authorizedFetch(ctx, t, url, { headers: { accept: MANIFEST_ACCEPT } }, "metadata");
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return byDigest ? { kind: "missing" } : tagGone(ctx, object.reference);
  }
  if (Number(res.headers.get("content-length") ?? "0") > MAX_MANIFEST_BYTES) {
    await res.body?.cancel();
    throw new UpstreamFailure("upstream manifest is larger than this registry accepts");
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new UpstreamFailure("upstream manifest is larger than this registry accepts");
  const digest = `sha256:${await sha256Hex(bytes)}`;
  const announced = res.headers.get("docker-content-digest");
  if ((byDigest && digest !== object.reference) || (announced && DIGEST.test(announced) && announced !== digest)) {
    throw new UpstreamFailure(`upstream manifest ${object.reference} of ${ctx.ref.name} does not match its digest; not stored`);
  }
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim() || mediaTypeOf(bytes);
  const manifestKey = upstreamManifestObject(ctx.ref.name, digest);
  await ctx.store.write(manifestKey, bytes, { contentType, digest });
  if (!byDigest) {
    await ctx.store.link(upstreamTagObject(ctx.ref.name, object.reference), manifestKey, { digest });
    // The tag moved upstream: every region drops its copy now rather than at its expiry.
    if (ctx.hadCopy && ctx.etag && ctx.etag !== digest) await invalidateEverywhere(ctx.env, ctx.config, { keys: [ctx.ref.key] }, "upstream");
  }
  return { kind: "stored", etag: digest };
}

/** A tag the upstream no longer has: the link goes, and so does every region's copy. */
async function tagGone(ctx: MirrorContext, tag: string): Promise<RefreshOutcome> {
  if (ctx.hadCopy) {
    await ctx.store.delete(upstreamTagObject(ctx.ref.name, tag));
    await invalidateEverywhere(ctx.env, ctx.config, { keys: [ctx.ref.key], removal: true }, "upstream");
  }
  return { kind: "missing" };
}

export async function mirrorBlob(ctx: MirrorContext, object: { digest: string }): Promise<RefreshOutcome> {
  if (await ctx.store.exists(ctx.ref.originKey)) return { kind: "stored" };
  if (await hostedHere(ctx)) return { kind: "missing" };
  if (!DIGEST.test(object.digest)) return { kind: "missing" };
  const t = target(ctx);
  const res = await authorizedFetch(ctx, t, `${t.registry.url}/v2/${t.remoteName}/blobs/${object.digest}`, {}, "blob");
  return storeVerifiedCopy(ctx, res, { algorithm: "SHA-256", bytes: fromHex(object.digest.slice("sha256:".length)) }, `blob ${object.digest} of ${ctx.ref.name}`);
}

/**
 * One request with the upstream's auth: a cached bearer token, else anonymous; a Bearer
 * challenge is answered at its realm (with OCI_UPSTREAM_CREDENTIALS as Basic auth when set),
 * a Basic challenge with the credentials. A blob redirect (to the registry's storage) is
 * followed without our credentials.
 */
async function authorizedFetch(ctx: MirrorContext, t: Target, url: string, init: RequestInit, kind: "metadata" | "blob"): Promise<Response> {
  const request = { protocol: "oci" as const, kind, timeoutMs: ctx.config.upstream.timeoutMs, calls: ctx.calls };
  const tokenKey = `${t.registry.url}\n${t.remoteName}`;
  const cached = tokens.get(tokenKey);
  const headers = new Headers(init.headers);
  headers.set("user-agent", "pkgedge-mirror");
  if (cached && cached.until > Date.now()) headers.set("authorization", `Bearer ${cached.token}`);
  const attempt = (h: Headers) => upstreamFetch(url, { ...init, headers: h, redirect: "manual" }, request, (s) => s < 500 && s !== 429 && s !== 403);
  let res = await attempt(headers);
  if (res.status === 401) {
    const challenge = res.headers.get("www-authenticate") ?? "";
    await res.body?.cancel();
    const retry = new Headers(headers);
    if (/^bearer\s/i.test(challenge)) retry.set("authorization", `Bearer ${await bearerToken(ctx, t, challenge, tokenKey)}`);
    else if (/^basic\b/i.test(challenge) && t.registry.credentials) retry.set("authorization", `Basic ${btoa(t.registry.credentials)}`);
    else throw new UpstreamFailure("upstream registry refused anonymous access and no credentials are configured");
    res = await attempt(retry);
    if (res.status === 401) {
      await res.body?.cancel();
      throw new UpstreamFailure("upstream registry refused the credentials");
    }
  }
  const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
  if (location) {
    await res.body?.cancel();
    return upstreamFetch(new URL(location, url).href, { headers: { "user-agent": "pkgedge-mirror" } }, request);
  }
  if (![200, 404, 410].includes(res.status)) {
    await res.body?.cancel();
    throw new UpstreamFailure(`upstream registry answered ${res.status}`);
  }
  return res;
}

/** The token endpoint's answer to a Bearer challenge (distribution's token spec). */
async function bearerToken(ctx: MirrorContext, t: Target, challenge: string, tokenKey: string): Promise<string> {
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (!params.realm) throw new UpstreamFailure("upstream registry sent a Bearer challenge without a realm");
  const realm = new URL(params.realm);
  if (params.service) realm.searchParams.set("service", params.service);
  realm.searchParams.set("scope", params.scope ?? `repository:${t.remoteName}:pull`);
  const headers = new Headers({ "user-agent": "pkgedge-mirror" });
  if (t.registry.credentials) headers.set("authorization", `Basic ${btoa(t.registry.credentials)}`);
  const res = await upstreamFetch(realm.href, { headers }, { protocol: "oci", kind: "token", timeoutMs: ctx.config.upstream.timeoutMs, calls: ctx.calls }, (s) => s === 200);
  const body = (await res.json().catch(() => null)) as { token?: string; access_token?: string; expires_in?: number } | null;
  const token = body?.token ?? body?.access_token;
  if (!token) throw new UpstreamFailure("upstream token endpoint answered without a token");
  if (tokens.size >= MAX_TOKENS) tokens.clear();
  // 60 s is the spec's default lifetime; leave a margin before expiry.
  tokens.set(tokenKey, { token, until: Date.now() + Math.max(0, (body?.expires_in ?? 60) - 10) * 1000 });
  return token;
}

function mediaTypeOf(bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string };
    if (typeof doc.mediaType === "string") return doc.mediaType;
  } catch {
    // fall through
  }
  return "application/vnd.oci.image.manifest.v1+json";
}
