// Writes to an npm package: publish, deprecate, unpublish. The packument, updated with
// compare-and-swap (shared/origin), is the commit point of each: a tarball whose version it does
// not list is an orphan, never served (live-versions.ts). Tarballs are stored create-only before
// the packument names them; a retried publish accepts an orphan holding its own bytes (what a
// publish killed half-way leaves), and a publish that fails removes the tarballs it created.
// Removals go the other way: the packument first, then the tarballs.
import semver from "semver";
import { toHex } from "../../shared/digest";
import { crashPoint } from "../../shared/crash-point";
import { RegistryError, badRequest, conflict, notFound } from "../../shared/errors";
import type { ObjectStore } from "../../shared/origin";
import { assertPackageName, assertTagName, assertVersion, tarballFile } from "./names";
import { packumentObject, tarballObject } from "./keys";
import type { Packument, VersionManifest } from "./packument";
import { assertSameManifest, installHooks, readTarballFacts } from "./tarball-manifest";

export interface Actor {
  name: string;
  /** May unpublish versions older than the unpublish window. */
  admin: boolean;
}

interface Attachment {
  content_type?: string;
  data?: string;
  length?: number;
}

export interface PublishBody {
  _id?: string;
  name?: string;
  _rev?: string;
  description?: string;
  "dist-tags"?: Record<string, string>;
  versions?: Record<string, VersionManifest>;
  _attachments?: Record<string, Attachment>;
  maintainers?: Array<{ name: string; email?: string }>;
  readme?: string;
  [k: string]: unknown;
}

/** Checks the bytes against the sha512 integrity and sha1 shasum the client claims. */
export async function verifyIntegrity(bytes: Uint8Array, dist: { integrity?: unknown; shasum?: unknown }, label: string): Promise<{ integrity: string; shasum: string; sha512: ArrayBuffer }> {
  const [sha512, sha1] = await Promise.all([crypto.subtle.digest("SHA-512", bytes), crypto.subtle.digest("SHA-1", bytes)]);
  const integrity = `sha512-${Buffer.from(sha512).toString("base64")}`;
  const shasum = toHex(sha1);
  if (dist.integrity !== undefined) {
    // The integrity field may list several hashes (SRI); the sha512 one must match.
    const claimed = String(dist.integrity).split(/\s+/).filter((h) => h.startsWith("sha512-"));
    if (claimed.length === 0 || !claimed.includes(integrity)) {
      throw new RegistryError("INTEGRITY_MISMATCH", `integrity check failed for ${label}: the tarball's sha512 does not match dist.integrity`);
    }
  }
  if (dist.shasum !== undefined && String(dist.shasum).toLowerCase() !== shasum) {
    throw new RegistryError("INTEGRITY_MISMATCH", `integrity check failed for ${label}: the tarball's sha1 does not match dist.shasum`);
  }
  return { integrity, shasum, sha512 };
}

// npm clients print "name <email>"; tokens carry no address, so use the reserved .invalid TLD.
const npmUser = (actor: Actor) => ({ name: actor.name, email: `${actor.name}@pkgedge.invalid` });

function newRev(previous: string | undefined): string {
  const n = previous ? Number.parseInt(previous, 10) || 0 : 0;
  return `${n + 1}-${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

function everPublished(doc: Packument | null, version: string): boolean {
  return !!doc && (Object.hasOwn(doc.versions, version) || typeof doc.time[version] === "string");
}

// Tag, version and file names come from clients: a name such as `constructor` or `__proto__`
// must never be read through, or written onto, Object.prototype.
const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/** dist-tags as a null-prototype object, so `tags[name] = v` is a plain write for every name. */
function tagMap(...sources: Array<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const source of sources) for (const [tag, target] of Object.entries(source)) out[tag] = target;
  return out;
}

function findAttachment(attachments: Record<string, Attachment>, name: string, version: string, count: number): Attachment | undefined {
  return own(attachments, `${name}-${version}.tgz`) ?? own(attachments, tarballFile(name, version)) ??
    (count === 1 ? Object.values(attachments)[0] : undefined);
}

/** Applies an `npm publish` body (one or more new versions with their tarballs). */
export async function publish(store: ObjectStore, name: string, body: PublishBody, actor: Actor): Promise<Packument> {
  assertPackageName(name);
  const versions = body.versions;
  const attachments = body._attachments;
  if (!versions || typeof versions !== "object" || Object.keys(versions).length === 0) throw badRequest("publish body has no versions");
  if (!attachments || typeof attachments !== "object") throw badRequest("publish body has no _attachments");
  const count = Object.keys(versions).length;

  // Validate everything and decode every tarball before storing anything.
  const prepared: Array<{ version: string; manifest: VersionManifest; bytes: Uint8Array; sha512: ArrayBuffer }> = [];
  for (const [version, manifest] of Object.entries(versions)) {
    assertVersion(version);
    if (!manifest || typeof manifest !== "object") throw badRequest(`version ${version} is not an object`);
    if (manifest.name !== name) throw badRequest(`version ${version} names package "${String(manifest.name)}", not "${name}"`);
    if (manifest.version !== version) throw badRequest(`version key ${version} does not match manifest version "${String(manifest.version)}"`);
    const attachment = findAttachment(attachments, name, version, count);
    if (!attachment || typeof attachment.data !== "string") throw badRequest(`no tarball attached for ${name}@${version}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(attachment.data)) throw badRequest(`tarball for ${name}@${version} is not valid base64`);
    const bytes = new Uint8Array(Buffer.from(attachment.data, "base64"));
    if (bytes.byteLength === 0) throw badRequest(`tarball for ${name}@${version} is empty`);
    if (attachment.length !== undefined && attachment.length !== bytes.byteLength) {
      throw badRequest(`tarball for ${name}@${version} is ${bytes.byteLength} bytes but _attachments says ${attachment.length}: truncated upload?`);
    }
    const dist = (manifest.dist ?? {}) as VersionManifest["dist"];
    const { integrity, shasum, sha512 } = await verifyIntegrity(bytes, dist, `${name}@${version}`);
    // Installers run what the tarball says; the packument must say the same.
    const facts = await readTarballFacts(bytes, `${name}@${version}`);
    assertSameManifest(manifest, facts, `${name}@${version}`);
    const clean: VersionManifest = {
      ...manifest,
      _id: `${name}@${version}`,
      _npmUser: npmUser(actor),
      dist: { ...dist, integrity, shasum, tarball: `/npm/${name}/-/${tarballFile(name, version)}` },
    };
    delete clean.readme;
    // As npm's registry does: from the tarball, not from what the client claims.
    delete clean.hasInstallScript;
    if (Object.keys(installHooks(facts.pkg, facts.hasGypFile)).length > 0) clean.hasInstallScript = true;
    prepared.push({ version, manifest: clean, bytes, sha512 });
  }
  const rawTags = body["dist-tags"] ?? {};
  if (typeof rawTags !== "object" || Array.isArray(rawTags)) throw badRequest("dist-tags must be an object of tag -> version");
  const tags = tagMap(rawTags);
  for (const [tag, target] of Object.entries(tags)) {
    assertTagName(tag);
    if (typeof target !== "string") throw badRequest(`dist-tag ${tag} must name a version`);
  }

  const created: typeof prepared = [];
  // The tarballs are written while the packument is read: only its write, the commit point,
  // must wait for them (inside the compare-and-swap below), which saves a round trip to R2.
  const tarballsStored = (async () => {
    for (const p of prepared) {
      const key = tarballObject(name, tarballFile(name, p.version));
      if (await store.createIfAbsent(key, p.bytes, "application/octet-stream", p.sha512)) {
        created.push(p);
        continue;
      }
      // Taken: by a published version (the packument refuses it below), by an orphan of this
      // same publish retried after a crash (the same bytes: accepted), or by another publish of
      // the version with other bytes, in flight or interrupted, which must not be overwritten.
      if (!(await store.holdsSha512(key, p.sha512))) {
        throw conflict(`${cannotRepublish(name, p.version).message} (or another publish of it with other bytes is in progress, or was interrupted and left its tarball: publish the same tarball, or delete that one first)`);
      }
    }
    await crashPoint("npm-tarballs-written");
  })();
  // Settled in the catch below if the packument read fails first.
  tarballsStored.catch(() => {});
  try {
    const result = await store.updateJson<Packument>(packumentObject(name), async (current) => {
      await tarballsStored;
      const now = new Date().toISOString();
      const doc: Packument = current ?? {
        _id: name, name, _rev: "", "dist-tags": {}, versions: {}, time: { created: now, modified: now },
      };
      for (const p of prepared) if (everPublished(current, p.version)) throw cannotRepublish(name, p.version);
      const versions = { ...doc.versions };
      const time: Packument["time"] = { ...doc.time, modified: now };
      delete time.unpublished;
      for (const p of prepared) {
        versions[p.version] = p.manifest;
        time[p.version] = now;
      }
      const distTags = tagMap(doc["dist-tags"], tags);
      for (const [tag, target] of Object.entries(tags)) {
        if (!own(versions, target)) throw badRequest(`dist-tag ${tag} points at ${target}, which is not a version of ${name}`);
      }
      if (!distTags.latest) distTags.latest = semver.rsort(Object.keys(versions))[0]!;
      const newest = prepared[prepared.length - 1]!;
      return {
        ...doc,
        _rev: newRev(doc._rev),
        description: (body.description as string | undefined) ?? (newest.manifest.description as string | undefined) ?? doc.description,
        "dist-tags": distTags,
        versions,
        time,
        maintainers: doc.maintainers?.length ? doc.maintainers : body.maintainers ?? [npmUser(actor)],
        // npm puts the readme in the version manifest; the registry keeps one, at the top.
        readme: body.readme ?? (body.versions?.[newest.version]?.readme as string | undefined) ?? doc.readme ?? "",
        readmeFilename: (body.readmeFilename as string | undefined) ?? doc.readmeFilename,
      };
    });
    return result!.doc;
  } catch (err) {
    await tarballsStored.catch(() => {});
    await removeCreated(store, name, created);
    throw err;
  }
}

/**
 * After a failed publish: deletes the tarballs it created, except any a concurrent publish of
 * the same bytes committed meanwhile (it accepted ours as its own); one committed while the
 * deletes ran is written back.
 */
async function removeCreated(store: ObjectStore, name: string, created: Array<{ version: string; manifest: VersionManifest; bytes: Uint8Array; sha512: ArrayBuffer }>): Promise<void> {
  if (created.length === 0) return;
  const committed = async () => (await store.readJson<Packument>(packumentObject(name)))?.doc.versions ?? {};
  const isOurs = (versions: Record<string, VersionManifest>, p: (typeof created)[number]) => versions[p.version]?.dist.integrity === p.manifest.dist.integrity;
  const key = (p: (typeof created)[number]) => tarballObject(name, tarballFile(name, p.version));
  const before = await committed();
  const doomed = created.filter((p) => !isOurs(before, p));
  if (doomed.length === 0) return;
  await store.delete(doomed.map(key));
  const after = await committed();
  for (const p of doomed) if (isOurs(after, p)) await store.createIfAbsent(key(p), p.bytes, "application/octet-stream", p.sha512);
}

function cannotRepublish(name: string, version: string): RegistryError {
  return conflict(`cannot publish over the previously published version ${name}@${version}: versions can never be reused, even after unpublish`);
}

/** A dist-tag the metadata PUT moved or added: audited as a tag change. */
export interface TagChange {
  tag: string;
  version: string;
}

/**
 * Applies a packument PUT without tarballs, as `npm deprecate` and `npm unpublish pkg@ver` send
 * it: only version removals, `deprecated` messages and dist-tags are taken from the body, and a
 * dist-tag it moves or adds must pass the same rules as the dist-tag API.
 */
export async function updateMetadata(store: ObjectStore, name: string, body: PublishBody, actor: Actor, unpublishWindowHours: number): Promise<{ doc: Packument; removed: string[]; tagChanges: TagChange[] }> {
  const incomingVersions = body.versions;
  if (!incomingVersions || typeof incomingVersions !== "object" || Array.isArray(incomingVersions)) throw badRequest("packument update has no versions");
  const incomingTags = body["dist-tags"] ?? {};
  if (typeof incomingTags !== "object" || Array.isArray(incomingTags)) throw badRequest("dist-tags must be an object of tag -> version");
  let removed: string[] = [];
  let tagChanges: TagChange[] = [];
  const result = await store.updateJson<Packument>(packumentObject(name), (current) => {
    if (!current || Object.keys(current.versions).length === 0) {
      if (Object.keys(incomingVersions).length > 0) throw badRequest(`publish of ${name} has no tarball in _attachments`);
      throw notFound(`package ${name} not found`);
    }
    if (body._rev !== undefined && body._rev !== current._rev) {
      throw conflict(`document update conflict: ${name} changed since revision ${body._rev} was read`);
    }
    const now = new Date().toISOString();
    const versions = { ...current.versions };
    removed = Object.keys(current.versions).filter((v) => !Object.hasOwn(incomingVersions, v));
    for (const v of removed) {
      assertMayUnpublish(current, v, actor, unpublishWindowHours);
      delete versions[v];
    }
    for (const [v, incoming] of Object.entries(incomingVersions)) {
      const stored = own(versions, v);
      if (!stored) throw badRequest(`version ${v} is not published; publish it with its tarball`);
      const deprecated = incoming && typeof incoming === "object" ? incoming.deprecated : undefined;
      if (deprecated === undefined || deprecated === "") {
        if (stored.deprecated !== undefined) versions[v] = { ...stored, deprecated: undefined };
      } else if (typeof deprecated === "string" && deprecated !== stored.deprecated) {
        versions[v] = { ...stored, deprecated };
      }
      if (versions[v]?.deprecated === undefined) delete versions[v]!.deprecated;
    }
    if (Object.keys(versions).length === 0) throw badRequest("cannot remove every version this way; unpublish the whole package");
    // Tags the body moves or adds go through the dist-tag API's rules; tags it leaves out stay.
    tagChanges = [];
    for (const [tag, target] of Object.entries(incomingTags)) {
      if (own(current["dist-tags"], tag) === target) continue;
      assertTagName(tag);
      if (typeof target !== "string") throw badRequest(`dist-tag ${tag} must name a version`);
      assertVersion(target);
      if (!own(versions, target)) throw badRequest(`dist-tag ${tag} points at ${target}, which is not a version of ${name}`);
      tagChanges.push({ tag, version: target });
    }
    const distTags: Record<string, string> = Object.create(null);
    for (const [tag, target] of Object.entries(current["dist-tags"])) if (own(versions, target)) distTags[tag] = target;
    for (const { tag, version } of tagChanges) distTags[tag] = version;
    if (!distTags.latest) {
      distTags.latest = semver.rsort(Object.keys(versions))[0]!;
      if (current["dist-tags"].latest !== distTags.latest && !tagChanges.some((t) => t.tag === "latest")) tagChanges.push({ tag: "latest", version: distTags.latest });
    }
    return { ...current, _rev: newRev(current._rev), versions, "dist-tags": distTags, time: { ...current.time, modified: now } };
  });
  if (removed.length) await store.delete(removed.map((v) => tarballObject(name, tarballFile(name, v))));
  return { doc: result!.doc, removed, tagChanges };
}

function assertMayUnpublish(doc: Packument, version: string, actor: Actor, windowHours: number): void {
  const published = doc.time[version];
  const ageHours = typeof published === "string" ? (Date.now() - Date.parse(published)) / 3_600_000 : Infinity;
  if (ageHours > windowHours && !actor.admin) {
    throw new RegistryError("FORBIDDEN", `${doc.name}@${version} was published more than ${windowHours} hours ago; only an admin can unpublish it`);
  }
}

/** Unpublishes the whole package. Its versions stay reserved in `time` forever. */
export async function unpublishPackage(store: ObjectStore, name: string, rev: string | null, actor: Actor, unpublishWindowHours: number): Promise<string[]> {
  let removed: string[] = [];
  await store.updateJson<Packument>(packumentObject(name), (current) => {
    if (!current || Object.keys(current.versions).length === 0) throw notFound(`package ${name} not found`);
    if (rev !== null && rev !== current._rev) throw conflict(`document update conflict: ${name} is at another revision`);
    removed = Object.keys(current.versions);
    for (const v of removed) assertMayUnpublish(current, v, actor, unpublishWindowHours);
    const now = new Date().toISOString();
    return {
      ...current, _rev: newRev(current._rev), versions: {}, "dist-tags": {},
      time: { ...current.time, modified: now, unpublished: { time: now, versions: removed } },
    };
  });
  await crashPoint("npm-unpublish-tombstoned");
  await store.delete(removed.map((v) => tarballObject(name, tarballFile(name, v))));
  return removed;
}

export async function setDistTag(store: ObjectStore, name: string, tag: string, version: string): Promise<Record<string, string>> {
  assertTagName(tag);
  assertVersion(version);
  const result = await store.updateJson<Packument>(packumentObject(name), (current) => {
    if (!current || Object.keys(current.versions).length === 0) throw notFound(`package ${name} not found`);
    if (!own(current.versions, version)) throw notFound(`version ${name}@${version} not found`);
    if (own(current["dist-tags"], tag) === version) return null;
    return { ...current, _rev: newRev(current._rev), "dist-tags": tagMap(current["dist-tags"], { [tag]: version }), time: { ...current.time, modified: new Date().toISOString() } };
  });
  return result!.doc["dist-tags"];
}

export async function removeDistTag(store: ObjectStore, name: string, tag: string): Promise<Record<string, string>> {
  if (tag === "latest") throw badRequest("the latest dist-tag cannot be removed; point it at another version instead");
  const result = await store.updateJson<Packument>(packumentObject(name), (current) => {
    if (!current || Object.keys(current.versions).length === 0) throw notFound(`package ${name} not found`);
    if (!Object.hasOwn(current["dist-tags"], tag)) throw notFound(`dist-tag ${tag} not found on ${name}`);
    const tags = tagMap(current["dist-tags"]);
    delete tags[tag];
    return { ...current, _rev: newRev(current._rev), "dist-tags": tags, time: { ...current.time, modified: new Date().toISOString() } };
  });
  return result!.doc["dist-tags"];
}
