// npm pull-through: what an UpstreamMirror does for npm objects. A packument is fetched from
// NPM_UPSTREAM (conditionally, with the upstream's ETag), checked, stored with tarball URLs
// rewritten to this registry and the upstream's URLs kept aside, and compared with the copy it
// replaces: versions the upstream removed (an unpublish, a security placeholder) are dropped
// here too, their tarballs deleted from the origin and from every region's tiers, and audited
// as `upstream.removed`. A tarball is fetched once, verified against the integrity in that
// packument while it streams into the origin, and kept for good.
import semver from "semver";
import { AuditStore } from "../../shared/origin/audit-store";
import { log } from "../../shared/log";
import { invalidateEverywhere } from "../../shared/tiers/invalidation";
import { UpstreamFailure, upstreamFetch } from "../../shared/upstream/http";
import { releaseCutoff } from "../../shared/upstream/policy";
import { fetchMirroredDocument, replaceMirroredDocument } from "../../shared/upstream/mirrored-document";
import type { MirrorContext, RefreshOutcome } from "../../shared/upstream/types";
import { storeVerifiedCopy } from "../../shared/upstream/verified-copy";
import { fromBase64, fromHex, type DigestAlgorithm } from "../../shared/upstream/verified-stream";
import { mirroredDocumentHaving } from "../../durable-objects/upstream-mirror";
import { tooYoung } from "./cooldown";
import { upstreamPackumentObject } from "./keys";
import { tarballFile } from "./names";
import { packumentCacheKey, upstreamPackumentRef, upstreamTarballCacheKey } from "./objects";
import type { Packument, VersionManifest } from "./packument";
import { upstreamTarballObject } from "./keys";
import { reindex } from "./search";

// A packument bigger than this is refused (the largest public ones are a few tens of MB).
const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;

function registry(ctx: MirrorContext) {
  const npm = ctx.config.upstream.npm;
  if (!npm) throw new UpstreamFailure("no npm upstream is configured");
  return npm;
}

/** Our token goes only to the upstream's own origin, never to a host a document points at. */
function headersFor(ctx: MirrorContext, url: string, accept: string): Headers {
  const npm = registry(ctx);
  const headers = new Headers({ accept, "user-agent": "pkgedge-mirror" });
  if (npm.credentials && new URL(url).origin === new URL(npm.url).origin) headers.set("authorization", `Bearer ${npm.credentials}`);
  return headers;
}

export async function mirrorPackument(ctx: MirrorContext): Promise<RefreshOutcome> {
  const npm = registry(ctx);
  const name = ctx.ref.name;
  const url = `${npm.url}/${name.replace("/", "%2f")}`;
  const fetched = await fetchMirroredDocument<Packument>(ctx, url, headersFor(ctx, url, "application/json"));
  if ("kind" in fetched) return fetched;
  const { res, previous } = fetched;
  const copyKey = upstreamPackumentObject(name);
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    if (previous) await takeDown(ctx, previous, Object.keys(previous.versions), true);
    return { kind: "missing" };
  }
  const size = Number(res.headers.get("content-length") ?? "0");
  if (size > MAX_PACKUMENT_BYTES) {
    await res.body?.cancel();
    throw new UpstreamFailure(`upstream packument of ${name} is larger than ${MAX_PACKUMENT_BYTES} bytes`);
  }
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new UpstreamFailure(`upstream sent a packument for ${name} that is not JSON`);
  }
  const doc = storedPackument(name, raw, npm.url);
  if (!doc) {
    // An unpublished package's tombstone (no versions left): gone upstream, so gone here.
    if (previous) await takeDown(ctx, previous, Object.keys(previous.versions), true);
    return { kind: "missing" };
  }
  const removed = previous ? Object.keys(previous.versions).filter((v) => !Object.hasOwn(doc.versions, v)) : [];
  const changed = await replaceMirroredDocument(ctx, copyKey, previous, doc, {
    removed: removed.length,
    takeDown: () => takeDown(ctx, previous!, removed, false),
    change: () => ({ keys: [packumentCacheKey(name)] }),
  });
  if (changed) {
    // Cached upstream packages are searchable too; a failure there never fails the mirror.
    ctx.env.SEARCH && await reindex(ctx.env, doc, name).catch((err) => log.warn("search index not updated", { name, error: err instanceof Error ? err.message : "unknown" }));
  }
  return { kind: "stored", ...(res.headers.get("etag") ? { etag: res.headers.get("etag")! } : {}) };
}

/**
 * Versions the upstream no longer serves: their tarballs leave the origin, every region's
 * shields and L1 (a removal applies everywhere at once), and the audit log records it.
 */
async function takeDown(ctx: MirrorContext, previous: Packument, versions: string[], wholePackage: boolean): Promise<void> {
  const name = previous.name;
  const files = versions.map((v) => tarballFile(name, v));
  if (files.length > 0) await ctx.store.delete(files.map((f) => upstreamTarballObject(name, f)));
  await invalidateEverywhere(ctx.env, ctx.config, { keys: [packumentCacheKey(name), ...files.map((f) => upstreamTarballCacheKey(name, f))], removal: true }, "upstream");
  await new AuditStore(ctx.env.BLOBS).append({
    id: crypto.randomUUID(), at: new Date().toISOString(), action: "upstream.removed", target: name,
    actor: "upstream", actorKind: "upstream", region: "upstream",
    detail: { protocol: "npm", versions, wholePackage },
  }).catch((err) => log.error("audit entry not written", { action: "upstream.removed", name, error: err }));
  if (wholePackage && ctx.env.SEARCH) await reindex(ctx.env, null, name).catch(() => {});
  // Last: until the copy is gone, a crash here is retried from it by the next revalidation.
  if (wholePackage) await ctx.store.delete(upstreamPackumentObject(name));
}

/**
 * The upstream document in our stored shape, or null when it has no versions. Versions whose
 * tarball cannot be verified (no sha512 integrity or sha1 shasum) are left out: never serve
 * what cannot be checked. Tarball URLs become paths on this registry; the upstream's are kept
 * in `_upstream` (only URLs on the upstream's own origin, so a document cannot send us elsewhere).
 */
export function storedPackument(name: string, raw: unknown, upstreamUrl: string): Packument | null {
  const up = raw as Partial<Packument> | null;
  if (!up || typeof up !== "object" || Array.isArray(up)) throw new UpstreamFailure(`upstream sent a malformed packument for ${name}`);
  if (up.name !== undefined && up.name !== name) throw new UpstreamFailure(`upstream sent the packument of "${String(up.name)}" for ${name}`);
  const versions: Record<string, VersionManifest> = {};
  const tarballs: Record<string, string> = {};
  const origin = new URL(upstreamUrl).origin;
  for (const [v, m] of Object.entries(up.versions && typeof up.versions === "object" ? up.versions : {})) {
    if (semver.valid(v) !== v || !m || typeof m !== "object" || !m.dist || !digestOf(m.dist)) continue;
    const file = tarballFile(name, v);
    const source = typeof m.dist.tarball === "string" ? m.dist.tarball : "";
    tarballs[v] = safeOrigin(source) === origin ? source : `${upstreamUrl}/${name}/-/${file}`;
    versions[v] = { ...m, name, version: v, dist: { ...m.dist, tarball: `/npm/${name}/-/${file}` } };
  }
  if (Object.keys(versions).length === 0) return null;
  const tags: Record<string, string> = {};
  for (const [tag, v] of Object.entries(up["dist-tags"] ?? {})) if (typeof v === "string" && Object.hasOwn(versions, v)) tags[tag] = v;
  const { _attachments, _upstream, users, ...rest } = up as Packument & { _attachments?: unknown; users?: unknown };
  const time = (up.time && typeof up.time === "object" ? up.time : {}) as Packument["time"];
  return {
    ...rest,
    _id: name,
    name,
    _rev: typeof up._rev === "string" ? up._rev : "0-upstream",
    "dist-tags": tags,
    versions,
    time: { ...time, created: time.created ?? "", modified: time.modified ?? "" },
    _upstream: { tarballs },
  } as Packument;
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The digest a tarball must have: sha512 from `integrity` (SRI), else the legacy sha1 `shasum`. */
function digestOf(dist: VersionManifest["dist"]): { algorithm: DigestAlgorithm; bytes: Uint8Array } | null {
  const sri = typeof dist.integrity === "string" ? dist.integrity.split(/\s+/).find((s) => s.startsWith("sha512-")) : undefined;
  if (sri) {
    try {
      const bytes = fromBase64(sri.slice("sha512-".length));
      if (bytes.length === 64) return { algorithm: "SHA-512", bytes };
    } catch {
      // not base64: fall through to the shasum
    }
  }
  if (typeof dist.shasum === "string" && /^[0-9a-f]{40}$/i.test(dist.shasum)) return { algorithm: "SHA-1", bytes: fromHex(dist.shasum.toLowerCase()) };
  return null;
}

export async function mirrorTarball(ctx: MirrorContext, object: { version: string; file: string }): Promise<RefreshOutcome> {
  const name = ctx.ref.name;
  if (await ctx.store.exists(ctx.ref.originKey)) return { kind: "stored" };
  // A lockfile install asks for a tarball before (or without) its packument: mirror that first.
  const doc = await mirroredDocumentHaving<Packument>(ctx, upstreamPackumentRef(name), (d) => Object.hasOwn(d.versions, object.version));
  const manifest = doc?.versions[object.version];
  if (!doc || !manifest || tarballFile(name, object.version) !== object.file) return { kind: "missing" };
  // The edge refuses a version inside the cooldown before asking; the mirror never fetches one.
  const cutoff = releaseCutoff(ctx.config, "npm", name);
  if (cutoff !== null && tooYoung(doc, object.version, { cutoff, age: "" })) return { kind: "missing" };
  const digest = digestOf(manifest.dist);
  const url = doc._upstream?.tarballs[object.version];
  if (!digest || !url) return { kind: "missing" };
  const res = await upstreamFetch(url, { headers: headersFor(ctx, url, "application/octet-stream") }, { protocol: "npm", kind: "blob", timeoutMs: ctx.config.upstream.timeoutMs, calls: ctx.calls });
  return storeVerifiedCopy(ctx, res, digest, `tarball of ${name}@${object.version} (integrity)`);
}
