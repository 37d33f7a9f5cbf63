// Hot keys: with HOT_KEY_THRESHOLD=5 a key asked for many times a second is spread over several
// shards of its region (filled from the owner shard, so still one origin read), and after
// HOT_KEY_COOLDOWN_SECONDS of low traffic it goes back to its owner shard alone. L1 is out of
// the way (L1_METADATA_TTL=0 keeps packuments out of it) so every request reaches a shard.
import { expect, it } from "vitest";
import { shardFor } from "../../../shared/tiers/hash-ring";
import { packumentCacheKey } from "../../../workers/npm/objects";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, originReads, readPackument, shardStats, sleep } from "./helpers";

const vars = { HOT_KEY_THRESHOLD: "5", HOT_KEY_REPLICAS: "3", HOT_KEY_COOLDOWN_SECONDS: "1", L1_METADATA_TTL: "0" };
const fetch = workerWith(vars);
const REGION = "ap-south";

async function servedBy(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [id, s] of await shardStats()) if (id.startsWith(`${REGION}/`)) out.set(id, s.hits + s.misses + s.coalesced + s.staleServed + s.originFetches.metadata);
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([id, n]) => [id, n - (before.get(id) ?? 0)]).filter(([, n]) => (n as number) > 0) as Array<[string, number]>);
}

// Sleeps 3.7 s by design (cooldown, rate window): more than the default 5 s budget on a busy machine.
it("a hot key spreads over several shards with one origin read, then cools back to its owner", { timeout: 20_000 }, async () => {
  const name = "hot-key";
  const npm = await npmPublisher(fetch);
  expect((await npm.publish(name, "1.0.0")).status).toBe(201);
  const owner = shardFor(REGION, 4, packumentCacheKey(name));

  const reads = await originReads(REGION);
  const before = await servedBy();
  for (let i = 0; i < 60; i++) expect((await readPackument(fetch, name, REGION)).status).toBe(200);
  const spread = delta(before, await servedBy());
  expect(await originReads(REGION)).toBe(reads + 1);
  expect(spread.size, JSON.stringify([...spread])).toBeGreaterThan(1);
  expect(spread.get(owner)).toBeGreaterThan(0);
  console.log("60 hot requests served by shards:", JSON.stringify(Object.fromEntries(spread)));

  // Quiet for longer than the cooldown (and the shards' one-second rate window), then slow traffic.
  await sleep(2500);
  const calm = await servedBy();
  for (let i = 0; i < 4; i++) {
    expect((await readPackument(fetch, name, REGION)).status).toBe(200);
    await sleep(300);
  }
  expect([...delta(calm, await servedBy()).keys()]).toEqual([owner]);
  expect(await originReads(REGION)).toBe(reads + 1);
});

// Invalidations go to a key's owner shard alone, which passes them on to the replicas that
// loaded from it: every replica must have the change, in this region at once and in the others
// (eager everywhere here: a lazy region serves each stale copy once by design).
it("a publish reaches every replica of a hot key, in the writer's region and the others", { timeout: 20_000 }, async () => {
  const name = "hot-key-publish";
  const fetch = workerWith({ ...vars, INVALIDATION_STRATEGY: "us-east:eager,eu-west:eager,ap-south:eager" });
  const npm = await npmPublisher(fetch);
  expect((await npm.publish(name, "1.0.0")).status).toBe(201);
  for (const region of ["us-east", REGION]) {
    const before = new Map([...await shardStats()].filter(([id]) => id.startsWith(`${region}/`)).map(([id, s]) => [id, s.hits]));
    for (let i = 0; i < 60; i++) expect((await readPackument(fetch, name, region)).versions).toEqual(["1.0.0"]);
    const hitBy = [...await shardStats()].filter(([id, s]) => id.startsWith(`${region}/`) && s.hits > (before.get(id) ?? 0));
    expect(hitBy.length, `${region}: copies served by more than the owner`).toBeGreaterThan(1);
  }

  expect((await npm.publish(name, "1.1.0")).status).toBe(201);
  for (const region of ["us-east", REGION]) {
    // Still hot, so these spread over the owner and its replicas: none may answer the old version.
    for (let i = 0; i < 40; i++) expect((await readPackument(fetch, name, region)).versions, `${region} read ${i}`).toEqual(["1.0.0", "1.1.0"]);
  }
});
