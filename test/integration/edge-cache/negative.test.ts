// Negative caching: a 404 from the origin is remembered (the next request is answered without
// an origin read), and publishing the name clears it at once in every region.
import { expect, it } from "vitest";
import { metric } from "../../helpers/metrics";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, originReads, readPackument, REGIONS } from "./helpers";

const fetch = workerWith({});

const negativeHits = (region: string) => metric("pkgedge_negative_hits_total", { region });

it("a 404 is remembered in each region, and publishing the name is seen at once in all three", async () => {
  const name = "neg-later";
  for (const region of REGIONS) {
    const reads = await originReads(region);
    const hits = await negativeHits(region);
    expect((await readPackument(fetch, name, region)).status).toBe(404);
    expect(await originReads(region), region).toBe(reads + 1);
    for (let i = 0; i < 3; i++) expect((await readPackument(fetch, name, region)).status).toBe(404);
    expect(await originReads(region), `${region}: no origin read after the first 404`).toBe(reads + 1);
    expect(await negativeHits(region), region).toBe(hits + 3);
  }

  const npm = await npmPublisher(fetch);
  expect((await npm.publish(name, "1.0.0")).status).toBe(201);
  // Not waiting for the queue: the first read anywhere already finds the package.
  for (const region of REGIONS) expect(await readPackument(fetch, name, region), region).toMatchObject({ status: 200, versions: ["1.0.0"] });
});
