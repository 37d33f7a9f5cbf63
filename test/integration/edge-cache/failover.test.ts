// Shield failover: with eu-west's shields broken (SHIELD_FAULT_REGIONS, dev only), requests in
// eu-west keep succeeding through its failover region's shields (us-east); once the fault is
// gone, eu-west's own shields serve again after FAILOVER_RECOVERY_SECONDS.
import { expect, it } from "vitest";
import { degradedRegions } from "../../../shared/tiers/health";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, readPackument, shardStats, sleep } from "./helpers";

// Packuments stay out of L1 so every request asks a shield.
const common = { L1_METADATA_TTL: "0", FAILOVER_RECOVERY_SECONDS: "1" };
const broken = workerWith({ ...common, SHIELD_FAULT_REGIONS: "eu-west" });
const repaired = workerWith(common);

async function answered(region: string): Promise<number> {
  let n = 0;
  for (const [id, s] of await shardStats()) if (id.startsWith(`${region}/`)) n += s.hits + s.misses + s.coalesced + s.staleServed + s.originFetches.metadata;
  return n;
}

it("eu-west fails over to us-east while broken and comes back after the recovery interval", async () => {
  const npm = await npmPublisher(repaired);
  expect((await npm.publish("failover-pkg", "1.0.0")).status).toBe(201);
  const usEast = await answered("us-east");
  for (let i = 0; i < 12; i++) {
    expect(await readPackument(broken, "failover-pkg", "eu-west"), `request ${i}`).toMatchObject({ status: 200, versions: ["1.0.0"] });
  }
  expect(degradedRegions()).toContain("eu-west");
  expect(await answered("us-east")).toBeGreaterThanOrEqual(usEast + 12);

  // Fault gone, but within the recovery interval eu-west still goes to us-east.
  const euWest = await answered("eu-west");
  expect((await readPackument(repaired, "failover-pkg", "eu-west")).status).toBe(200);
  expect(await answered("eu-west")).toBe(euWest);
  await sleep(1100);
  for (let i = 0; i < 3; i++) expect((await readPackument(repaired, "failover-pkg", "eu-west")).status).toBe(200);
  expect(degradedRegions()).not.toContain("eu-west");
  expect(await answered("eu-west")).toBe(euWest + 3);
});
