// The OCI repository layout on the origin store: blobs by digest, manifests, tags, referrers and
// the catalog. It speaks in digests and names, never in HTTP.
import { crashPoint } from "../../shared/crash-point";
import type { ObjectStore, ResolvedObject } from "../../shared/origin";
import {
  CATALOG_PREFIX, blobObject, catalogObject, manifestObject, referrerObject, referrerPrefix,
  repoBlobObject, tagObject, tagPrefix,
} from "./keys";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  /** The manifest this one refers to (its `subject`), which lists it among its referrers. */
  subject?: string;
  referrer?: Descriptor;
}

export class RepositoryStore {
  constructor(private readonly store: ObjectStore) {}

  /**
   * Makes uploaded bytes the blob `digest` of repository `name`. The first upload of a digest
   * becomes the shared copy; a later identical upload is dropped in its favour. Idempotent: an
   * interrupted commit of the same data object is completed by running it again.
   */
  async commitBlob(name: string, digest: string, dataKey: string): Promise<void> {
    let target = dataKey;
    if (await this.store.link(blobObject(digest), dataKey, { digest, createOnly: true })) {
      await crashPoint("oci-blob-linked");
    } else {
      const existing = await this.store.resolve(blobObject(digest));
      if (existing) {
        target = existing.key;
        // Ours is a second copy, unless this is the commit of the shared copy run again.
        if (existing.key !== dataKey) await this.store.delete(dataKey);
      } else {
        // The link was there but its data was not (a deleted data object): repoint it.
        await this.store.link(blobObject(digest), dataKey, { digest });
      }
    }
    await this.store.link(repoBlobObject(name, digest), target, { digest });
  }

  /** The repository's blob, or null if it was never pushed to (or mounted into) this repository. */
  blob(name: string, digest: string): Promise<ResolvedObject | null> {
    return this.store.resolve(repoBlobObject(name, digest));
  }

  /** Cross-repository mount (end-11): links `from`'s blob into `name` without moving bytes. */
  async mountBlob(name: string, from: string, digest: string): Promise<boolean> {
    const source = await this.store.resolve(repoBlobObject(from, digest));
    if (!source) return false;
    await this.store.link(repoBlobObject(name, digest), source.key, { digest });
    return true;
  }

  /** Removes the blob from this repository; other repositories sharing the bytes keep them. */
  async deleteBlob(name: string, digest: string): Promise<boolean> {
    if (!(await this.store.exists(repoBlobObject(name, digest)))) return false;
    await this.store.delete(repoBlobObject(name, digest));
    return true;
  }

  async hasManifest(name: string, digest: string): Promise<boolean> {
    return this.store.exists(manifestObject(name, digest));
  }

  /** Stores a validated manifest, records it as a referrer of its subject, then moves the tag. */
  async putManifest(name: string, manifest: StoredManifest, tag?: string): Promise<void> {
    const key = manifestObject(name, manifest.digest);
    await this.writeManifest(name, manifest);
    if (tag) {
      await this.store.link(tagObject(name, tag), key, { digest: manifest.digest });
      // A DELETE of this manifest may have removed it after we wrote it without seeing our tag
      // (it looks for tags again after deleting, so one linked earlier it removes itself). Then
      // this PUT comes after that DELETE: write the manifest again, and the tag is never dangling.
      if (!(await this.store.exists(key))) await this.writeManifest(name, manifest);
    }
    await this.store.write(catalogObject(name), "", { contentType: "text/plain", createOnly: true });
  }

  private async writeManifest(name: string, manifest: StoredManifest): Promise<void> {
    await this.store.write(manifestObject(name, manifest.digest), manifest.bytes, { contentType: manifest.mediaType, digest: manifest.digest });
    if (manifest.subject && manifest.referrer) {
      await this.store.write(referrerObject(name, manifest.subject, manifest.digest), JSON.stringify(manifest.referrer), {
        contentType: "application/json",
        metadata: { subject: manifest.subject },
      });
    }
  }

  async tagDigest(name: string, tag: string): Promise<string | null> {
    return (await this.store.resolve(tagObject(name, tag)))?.digest ?? null;
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    if (!(await this.store.exists(tagObject(name, tag)))) return false;
    await this.store.delete(tagObject(name, tag));
    return true;
  }

  /** Deletes a manifest, every tag that points at it and its entry among its subject's referrers. */
  async deleteManifest(name: string, digest: string): Promise<{ tags: string[] } | null> {
    const key = manifestObject(name, digest);
    const obj = await this.store.read(key);
    if (!obj) return null;
    const doc = await new Response(obj.body).json().catch(() => ({})) as { subject?: { digest?: string } };
    const tags = await this.tagsPointingAt(name, digest);
    const keys = [key, ...tags.map((t) => tagObject(name, t))];
    if (typeof doc.subject?.digest === "string") keys.push(referrerObject(name, doc.subject.digest, digest));
    await this.store.delete(keys);
    // A tag PUT racing us may have linked a tag after we listed them. Look again: unless that PUT
    // has already written the manifest back (see putManifest), its tag goes too.
    const late = (await this.tagsPointingAt(name, digest)).filter((t) => !tags.includes(t));
    if (late.length > 0 && !(await this.store.exists(key))) {
      await this.store.delete(late.map((t) => tagObject(name, t)));
      tags.push(...late);
    }
    return { tags };
  }

  /** Tags linked to `digest`, whether or not the manifest is still there. */
  private async tagsPointingAt(name: string, digest: string): Promise<string[]> {
    const tags: string[] = [];
    for (const tag of await this.allTags(name)) {
      if ((await this.store.recordedDigest(tagObject(name, tag))) === digest) tags.push(tag);
    }
    return tags;
  }

  async repositoryExists(name: string): Promise<boolean> {
    return this.store.exists(catalogObject(name));
  }

  /** Tags in lexical order after `last` (end-8b). */
  async listTags(name: string, limit: number, last?: string): Promise<{ tags: string[]; more: boolean }> {
    const prefix = tagPrefix(name);
    const page = await this.store.list(prefix, { limit, ...(last ? { startAfter: prefix + last } : {}) });
    return { tags: page.keys.map((k) => k.slice(prefix.length)), more: page.more };
  }

  /** Repository names in lexical order after `last`, keeping those `visible` accepts. */
  async listRepositories(limit: number, last: string | undefined, visible: (name: string) => boolean): Promise<{ names: string[]; more: boolean }> {
    const names: string[] = [];
    let after = last ? CATALOG_PREFIX + last : undefined;
    for (;;) {
      const page = await this.store.list(CATALOG_PREFIX, { limit: 1000, ...(after ? { startAfter: after } : {}) });
      for (const key of page.keys) {
        const name = key.slice(CATALOG_PREFIX.length);
        if (!visible(name)) continue;
        if (names.length === limit) return { names, more: true };
        names.push(name);
      }
      if (!page.more || page.keys.length === 0) return { names, more: false };
      after = page.keys[page.keys.length - 1];
    }
  }

  /** Descriptors of the manifests whose subject is `digest` (end-12a). */
  async referrers(name: string, digest: string): Promise<Descriptor[]> {
    const prefix = referrerPrefix(name, digest);
    const { keys } = await this.store.list(prefix, { limit: 10_000 });
    const docs = await Promise.all(keys.map((k) => this.store.readJson<Descriptor>(k)));
    return docs.flatMap((d) => (d ? [d.doc] : []));
  }

  private async allTags(name: string): Promise<string[]> {
    return (await this.listTags(name, 100_000)).tags;
  }
}
