// A failing origin (ORIGIN_FAULT_RATE=1, dev only; DEV_MODE is true in the pool): what is cached
// keeps being served (mutable metadata past its L2 lifetime as L2-STALE, stale-if-error),
// what is not gets a 503 in the protocol's own error format, and nothing cached is lost.
import { describe, expect, it } from "vitest";
import { EdgeCache } from "../../../shared/tiers/edge-cache";
import { tarballCacheKey } from "../../../workers/npm/objects";
import { blobCacheKey } from "../../../workers/oci/objects";
import { expectNpmError } from "../../helpers/npm-expect";
import { bodyDigest, content, expectOciError, OciClient, publisher, randomBytes, randomImage } from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, originReads, readPackument, sleep } from "./helpers";

// Mutable metadata lives 1 s at the shield and is never kept at L1, so after a short wait every
// packument or tag read reaches an expired shield copy and needs the origin.
const base = { L2_METADATA_TTL: "1", L1_METADATA_TTL: "0" };
const healthy = workerWith(base);
const failing = workerWith({ ...base, ORIGIN_FAULT_RATE: "1" });
const REGION = "eu-west";

async function tarball(fetch: typeof healthy, name: string): Promise<Response> {
  return fetch(`/npm/${name}/-/${name}-1.0.0.tgz`, { headers: { "x-pkgedge-region": REGION } });
}

describe("origin failing", () => {
  it("npm: cached packuments are served stale, cached tarballs from the caches, uncached ones 503 {error}; nothing lost", async () => {
    const npm = await npmPublisher(healthy);
    for (const name of ["fault-cached", "fault-uncached"]) expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    expect((await readPackument(healthy, "fault-cached", REGION)).state).toBe("MISS");
    expect((await tarball(healthy, "fault-cached")).headers.get("x-pkgedge-cache")).toBe("MISS");
    await sleep(1100);

    for (let i = 0; i < 3; i++) {
      expect(await readPackument(failing, "fault-cached", REGION)).toMatchObject({ status: 200, state: "L2-STALE", versions: ["1.0.0"] });
      const res = await tarball(failing, "fault-cached");
      expect([res.status, res.headers.get("x-pkgedge-cache")]).toEqual([200, "L1-HIT"]);
    }
    // The tarball from the shield too, not only from L1.
    await (await EdgeCache.open(REGION)).delete(tarballCacheKey("fault-cached", "fault-cached-1.0.0.tgz"));
    expect((await tarball(failing, "fault-cached")).headers.get("x-pkgedge-cache")).toBe("L2-HIT");

    const uncached = await failing(`/npm/fault-uncached`, { headers: { "x-pkgedge-region": REGION } });
    expect(uncached.headers.get("retry-after")).toBe("1");
    await expectNpmError(uncached, 503, /unavailable/);
    await expectNpmError(await tarball(failing, "fault-uncached"), 503, /unavailable/);

    // The fault clears: the packument is revalidated (kept, not refetched), the tarball is a hit.
    const before = await originReads(REGION);
    await (await EdgeCache.open(REGION)).delete(tarballCacheKey("fault-cached", "fault-cached-1.0.0.tgz"));
    expect((await tarball(healthy, "fault-cached")).headers.get("x-pkgedge-cache")).toBe("L2-HIT");
    expect(await originReads(REGION)).toBe(before);
    expect(await readPackument(healthy, "fault-cached", REGION)).toMatchObject({ status: 200, state: "REVALIDATED", versions: ["1.0.0"] });
    // And what was never cached is there once the origin answers.
    expect((await readPackument(healthy, "fault-uncached", REGION)).state).toBe("MISS");
  });

  it("OCI: a cached tag is served stale and its blobs from the caches; an uncached blob is 503 in the OCI envelope", async () => {
    const oci = await publisher(healthy);
    const reader = new OciClient(healthy).inRegion(REGION);
    const broken = new OciClient(failing).inRegion(REGION);
    const image = await randomImage();
    await oci.pushImage("fault/app", "v1", image);
    const cold = await content(randomBytes(5000));
    await oci.pushBlobs("fault/app", cold);
    const warm = await reader.getManifest("fault/app", "v1");
    expect(warm.status, await warm.clone().text()).toBe(200);
    expect(await bodyDigest(warm)).toBe(image.manifest.digest);
    const layer = image.layers[0]!;
    expect(await bodyDigest(await reader.getBlob("fault/app", layer.digest))).toBe(layer.digest);
    await sleep(1100);

    const tag = await broken.getManifest("fault/app", "v1");
    expect([tag.status, tag.headers.get("x-pkgedge-cache")]).toEqual([200, "L2-STALE"]);
    expect(await bodyDigest(tag)).toBe(image.manifest.digest);
    const blob = await broken.getBlob("fault/app", layer.digest);
    expect([blob.status, blob.headers.get("x-pkgedge-cache")]).toEqual([200, "L1-HIT"]);
    expect(await bodyDigest(blob)).toBe(layer.digest);

    const error = await expectOciError(await broken.getBlob("fault/app", cold.digest), 503, "UNSUPPORTED");
    expect(error.errors[0]!.message).toMatch(/unavailable/);

    const before = await originReads(REGION);
    await (await EdgeCache.open(REGION)).delete(blobCacheKey("fault/app", layer.digest));
    const again = await reader.getBlob("fault/app", layer.digest);
    expect(again.headers.get("x-pkgedge-cache")).toBe("L2-HIT");
    expect(await bodyDigest(again)).toBe(layer.digest);
    expect(await originReads(REGION)).toBe(before);
  });
});
