// Builds the npm publish document libnpmpublish sends and PUTs it to a registry.
import semver from "semver";
import { tarballDigests } from "./tarball.mjs";
import { msSince } from "./stats.mjs";

/** The registry path segment for a package name: `@scope/name` becomes `@scope%2fname`. */
export function escapeName(name) {
  return name.startsWith("@") ? name.replace("/", "%2f") : name;
}

/**
 * A package.json as a publishable version manifest: fields only npm's own tooling writes
 * (`_from`, `_resolved`, ... found in some old tarballs) and `publishConfig` (which could point a
 * real publish elsewhere) are dropped.
 */
export function cleanManifest(pkg) {
  const manifest = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k.startsWith("_") || k === "publishConfig") continue;
    manifest[k] = v;
  }
  manifest._id = `${manifest.name}@${manifest.version}`;
  return manifest;
}

/**
 * The JSON body of `PUT /<name>` for one or more versions of one package, shaped like
 * libnpmpublish's: `dist` with integrity/shasum/tarball, base64 `_attachments`. `latest` is the
 * highest version in the document.
 */
export function buildPublishDoc(registry, entries) {
  if (entries.length === 0) throw new Error("nothing to publish");
  const name = entries[0].manifest.name;
  const base = registry.endsWith("/") ? registry : `${registry}/`;
  const versions = {};
  const attachments = {};
  let latest = null;
  for (const { manifest, tgz } of entries) {
    if (manifest.name !== name) throw new Error(`mixed names in one publish: ${name}, ${manifest.name}`);
    const fileName = `${name}-${manifest.version}.tgz`;
    const { integrity, shasum } = tarballDigests(tgz);
    versions[manifest.version] = {
      ...manifest,
      _id: `${name}@${manifest.version}`,
      dist: { integrity, shasum, tarball: `${base}${name}/-/${fileName}` },
    };
    attachments[fileName] = {
      content_type: "application/octet-stream",
      data: tgz.toString("base64"),
      length: tgz.length,
    };
    if (!latest || semver.gt(manifest.version, latest)) latest = manifest.version;
  }
  return {
    _id: name,
    name,
    description: versions[latest].description ?? "",
    "dist-tags": { latest },
    versions,
    access: null,
    _attachments: attachments,
  };
}

/**
 * PUTs a publish document. Returns { ok, status, ms, body } where ms covers sending the body
 * and reading the whole answer. Never throws for HTTP errors.
 */
export async function putPublish(registry, token, doc, { timeoutMs = 120_000 } = {}) {
  const base = registry.endsWith("/") ? registry : `${registry}/`;
  const body = JSON.stringify(doc);
  const start = process.hrtime.bigint();
  const res = await fetch(`${base}${escapeName(doc.name)}`, {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      authorization: `Bearer ${token}`,
      "npm-command": "publish",
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { ok: res.ok, status: res.status, ms: msSince(start), bytes: body.length, body: text.slice(0, 500) };
}

/** Publishes a doc and throws with the registry's answer when it is refused. */
export async function publishOrThrow(label, registry, token, doc) {
  const r = await putPublish(registry, token, doc);
  if (!r.ok) {
    throw new Error(`${label}: PUT ${registry}${escapeName(doc.name)} (${Object.keys(doc.versions).length} version(s), ` +
      `${r.bytes} bytes) -> ${r.status} ${r.body}`);
  }
  return r;
}
