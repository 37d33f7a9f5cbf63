// The queue as the backstop of the writer's push: a region whose shields the push cannot reach
// (SHIELD_FAULT_REGIONS, dev only, makes the writer's calls there fail) still applies the change,
// through the INVALIDATIONS queue, whose consumer runs with the pool's own settings (no fault).
import { expect, it } from "vitest";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, readPackument, sleep } from "./helpers";

// Packuments stay out of L1 so every read asks its region's shield.
const common = { L1_METADATA_TTL: "0" };
const healthy = workerWith(common);
const apSouthUnreachable = workerWith({ ...common, SHIELD_FAULT_REGIONS: "ap-south" });

it("a region the writer's push missed gets the change from the queue", async () => {
  const npm = await npmPublisher(healthy);
  expect((await npm.publish("backstop-pkg", "1.0.0")).status).toBe(201);
  expect((await readPackument(healthy, "backstop-pkg", "ap-south")).versions).toEqual(["1.0.0"]);

  // Published from us-east while ap-south's shields fail for the writer: its push there fails.
  const writer = await npmPublisher(apSouthUnreachable);
  expect((await writer.publish("backstop-pkg", "1.1.0")).status).toBe(201);
  let seen: string[] = [];
  for (let i = 0; i < 100 && !seen.includes("1.1.0"); i++) {
    seen = (await readPackument(healthy, "backstop-pkg", "ap-south")).versions;
    if (!seen.includes("1.1.0")) await sleep(50);
  }
  expect(seen).toEqual(["1.0.0", "1.1.0"]);
  // eu-west, which the push did reach, has it too.
  expect((await readPackument(healthy, "backstop-pkg", "eu-west")).versions).toEqual(["1.0.0", "1.1.0"]);
});
