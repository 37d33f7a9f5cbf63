// end-12a/end-12b: the referrers API lists manifests whose subject is a digest, with an artifactType filter.
import { beforeAll, describe, expect, it } from "vitest";
import {
  content, emptyConfig, expectOciError, imageIndex, imageManifest, manifestDescriptor, MEDIA, OciClient, publisher, randomBytes,
  randomImage, type Descriptor, type Manifest,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

const SIGNATURE = "application/vnd.example.signature.v1";
const SBOM = "application/vnd.example.sbom.v1";

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

/** Pushes an artifact manifest (empty config, one small layer) whose subject is `subject`. */
async function pushReferrer(name: string, subject: Manifest, artifactType: string | undefined, annotations?: Record<string, string>, configMediaType = MEDIA.empty as string): Promise<Manifest> {
  const config = configMediaType === MEDIA.empty ? await emptyConfig() : await content(JSON.stringify({ kind: configMediaType }));
  const layer = await content(randomBytes(32));
  await oci.pushBlobs(name, config, layer);
  const manifest = await imageManifest({ config, configMediaType, layers: [layer], artifactType, annotations, subject: manifestDescriptor(subject) });
  await oci.pushManifest(name, manifest.digest, manifest);
  return manifest;
}

async function referrersOf(name: string, digest: string, artifactType?: string): Promise<{ res: Response; index: ReferrersIndex }> {
  const res = await anonymous.referrers(name, digest, artifactType);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe(MEDIA.index);
  return { res, index: await res.json<ReferrersIndex>() };
}

const byDigest = (a: Descriptor, b: Descriptor) => a.digest.localeCompare(b.digest);

describe("end-12a GET /v2/<name>/referrers/<digest>", () => {
  it("lists each referrer's descriptor with its artifactType and annotations", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/app", "v1", image);
    const sig = await pushReferrer("refs/app", image.manifest, SIGNATURE, { "org.example.signer": "alice" });
    const sbom = await pushReferrer("refs/app", image.manifest, SBOM, { "org.opencontainers.image.created": "2026-11-23T00:00:00Z" });

    const { index } = await referrersOf("refs/app", image.manifest.digest);
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(MEDIA.index);
    const expected: Descriptor[] = [
      { mediaType: MEDIA.manifest, digest: sig.digest, size: sig.size, artifactType: SIGNATURE, annotations: { "org.example.signer": "alice" } },
      { mediaType: MEDIA.manifest, digest: sbom.digest, size: sbom.size, artifactType: SBOM, annotations: { "org.opencontainers.image.created": "2026-11-23T00:00:00Z" } },
    ];
    expect(index.manifests.sort(byDigest)).toEqual(expected.sort(byDigest));
  });

  it("takes the artifactType from the config media type when the manifest has none", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/config-type", "v1", image);
    const legacy = await pushReferrer("refs/config-type", image.manifest, undefined, undefined, "application/vnd.example.legacy.config");
    const { index } = await referrersOf("refs/config-type", image.manifest.digest);
    expect(index.manifests).toEqual([expect.objectContaining({ digest: legacy.digest, artifactType: "application/vnd.example.legacy.config" })]);
  });

  it("lists an index whose subject is the digest", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/index", "v1", image);
    const part = await pushReferrer("refs/index", image.manifest, SIGNATURE);
    const index = await imageIndex({ manifests: [part], subject: manifestDescriptor(image.manifest), artifactType: "application/vnd.example.bundle" });
    const put = await oci.putManifest("refs/index", index.digest, index);
    expect([put.status, put.headers.get("oci-subject")]).toEqual([201, image.manifest.digest]);
    const { index: listed } = await referrersOf("refs/index", image.manifest.digest);
    expect(listed.manifests).toContainEqual(expect.objectContaining({ mediaType: MEDIA.index, digest: index.digest, size: index.size, artifactType: "application/vnd.example.bundle" }));
  });

  it("answers 200 with an empty list when nothing refers to the digest", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/lonely", "v1", image);
    const { index } = await referrersOf("refs/lonely", image.manifest.digest);
    expect(index.manifests).toEqual([]);
    // Also for a digest that is not a manifest here at all: the spec forbids a 404.
    const { index: none } = await referrersOf("refs/lonely", (await content("nothing")).digest);
    expect(none.manifests).toEqual([]);
  });

  it("forgets a referrer once its manifest is deleted", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/deleted", "v1", image);
    const sig = await pushReferrer("refs/deleted", image.manifest, SIGNATURE);
    const kept = await pushReferrer("refs/deleted", image.manifest, SBOM);
    expect((await referrersOf("refs/deleted", image.manifest.digest)).index.manifests).toHaveLength(2);
    expect((await oci.deleteManifest("refs/deleted", sig.digest)).status).toBe(202);
    const { index } = await referrersOf("refs/deleted", image.manifest.digest);
    expect(index.manifests.map((d) => d.digest)).toEqual([kept.digest]);
  });

  it("lists only referrers in the same repository", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/here", "v1", image);
    await oci.pushImage("refs/there", "v1", image);
    await pushReferrer("refs/there", image.manifest, SIGNATURE);
    expect((await referrersOf("refs/here", image.manifest.digest)).index.manifests).toEqual([]);
  });

  it("answers 400 DIGEST_INVALID for a malformed digest", async () => {
    await expectOciError(await anonymous.referrers("refs/app", "sha256:short"), 400, "DIGEST_INVALID");
  });
});

describe("end-12b GET /v2/<name>/referrers/<digest>?artifactType=<type>", () => {
  it("keeps only that artifact type and says the filter was applied", async () => {
    const image = await randomImage();
    await oci.pushImage("refs/filter", "v1", image);
    const sig = await pushReferrer("refs/filter", image.manifest, SIGNATURE);
    await pushReferrer("refs/filter", image.manifest, SBOM);

    const { res, index } = await referrersOf("refs/filter", image.manifest.digest, SIGNATURE);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(index.manifests.map((d) => d.digest)).toEqual([sig.digest]);

    const { res: none, index: empty } = await referrersOf("refs/filter", image.manifest.digest, "application/vnd.example.absent");
    expect(none.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(empty.manifests).toEqual([]);

    const unfiltered = await referrersOf("refs/filter", image.manifest.digest);
    expect(unfiltered.res.headers.get("oci-filters-applied")).toBeNull();
    expect(unfiltered.index.manifests).toHaveLength(2);
  });
});
