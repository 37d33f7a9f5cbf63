// Predictive prefetch for OCI: a manifest pull warms what the client pulls next, in the region
// that served it: an image's config and layers, an index's child manifests.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { imageIndex, publisher, randomImage, OciClient } from "../../helpers/oci";
import { worker, workerWith } from "../../helpers/worker";
import { originReads, prefetched } from "./helpers";

let pusher: OciClient;
beforeAll(async () => {
  pusher = await publisher(workerWith({}));
});

async function state(res: Response): Promise<string | null> {
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("x-pkgedge-cache");
}

describe("OCI predictive prefetch", () => {
  it("a manifest pull makes its config and layers shield hits, each read from the origin once", async () => {
    const region = "eu-west";
    const image = await randomImage({ layers: 3 });
    await pusher.pushImage("prefetch/app", "v1", image);
    const reads = await originReads(region);
    const blobs = await prefetched(region, "blob");
    const client = new OciClient(worker).inRegion(region);

    expect(await state(await client.getManifest("prefetch/app", "v1"))).toBe("MISS");
    await vi.waitFor(async () => expect(await prefetched(region, "blob")).toBe(blobs + 4), { timeout: 5000, interval: 50 });
    expect(await originReads(region)).toBe(reads + 1 + 4);
    for (const blob of [image.config, ...image.layers]) expect(await state(await client.getBlob("prefetch/app", blob.digest))).toBe("L2-HIT");
    expect(await originReads(region)).toBe(reads + 1 + 4);
  });

  it("an index pull warms its child manifests, not their layers", async () => {
    const region = "ap-south";
    const fetch = workerWith({});
    const images = [await randomImage(), await randomImage()];
    for (const [i, image] of images.entries()) await pusher.pushImage("prefetch/multi", `arch${i}`, image);
    const index = await imageIndex({ manifests: images.map((i) => i.manifest) });
    await pusher.pushManifest("prefetch/multi", "v1", index);
    const client = new OciClient(fetch).inRegion(region);

    await state(await client.getManifest("prefetch/multi", "v1"));
    expect(await state(await client.getBlob("prefetch/multi", images[0]!.layers[0]!.digest))).toBe("MISS");
    for (const image of images) expect(await state(await client.getManifest("prefetch/multi", image.manifest.digest))).toBe("L2-HIT");
  });

  it("warms at most PREFETCH_FANOUT blobs, and nothing with PREFETCH=false", async () => {
    const region = "us-east";
    const image = await randomImage({ layers: 4 });
    await pusher.pushImage("prefetch/fan", "v1", image);
    const bounded = new OciClient(workerWith({ PREFETCH_FANOUT: "2" })).inRegion(region);
    await state(await bounded.getManifest("prefetch/fan", "v1"));
    const states = [];
    for (const blob of [image.config, ...image.layers]) states.push(await state(await bounded.getBlob("prefetch/fan", blob.digest)));
    expect(states).toEqual(["L2-HIT", "L2-HIT", "MISS", "MISS", "MISS"]);

    const other = await randomImage({ layers: 2 });
    await pusher.pushImage("prefetch/off", "v1", other);
    const off = new OciClient(workerWith({ PREFETCH: "false" })).inRegion(region);
    await state(await off.getManifest("prefetch/off", "v1"));
    expect(await state(await off.getBlob("prefetch/off", other.layers[0]!.digest))).toBe("MISS");
  });
});
