// /_/purge as an operator uses it: by exact key, by tag and by key prefix, hard (the next read
// goes to the origin: MISS) and soft (the next read is the stale copy, L2-STALE, then fresh), for
// npm and OCI objects. The purge applies in the region that received it before the 202; the
// other regions follow through the invalidation queue.
import { beforeAll, describe, expect, it } from "vitest";
import { blobCacheKey, tagCacheKey } from "../../../workers/oci/objects";
import { packumentCacheKey, tarballCacheKey } from "../../../workers/npm/objects";
import { NpmClient } from "../../helpers/npm-client";
import { bodyDigest, content, OciClient, publisher, randomBytes, randomImage } from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, postPurge, readPackument, sleep } from "./helpers";

const fetch = workerWith({});
let npm: NpmClient;
let oci: OciClient;
const reader = new OciClient(fetch);

beforeAll(async () => {
  npm = await npmPublisher(fetch);
  oci = await publisher(fetch);
});

async function tarballState(name: string, version: string, region = "us-east"): Promise<string | null> {
  const res = await npm.as(undefined).request(`/npm/${name}/-/${name}-${version}.tgz`, { headers: { "x-pkgedge-region": region } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("x-pkgedge-cache");
}

async function purge(body: Record<string, unknown>): Promise<{ id: string; mode: string }> {
  const res = await postPurge(fetch, body);
  expect(res.status, await res.clone().text()).toBe(202);
  return res.json();
}

/** Reads until the answer is no longer the stale copy (the background revalidation landed). */
async function untilFresh(read: () => Promise<string | null>): Promise<string[]> {
  const states: string[] = [];
  for (let i = 0; i < 100; i++) {
    const state = (await read()) ?? "none";
    states.push(state);
    if (state !== "L2-STALE") return states;
    await sleep(20);
  }
  return states;
}

async function cachedPackage(name: string): Promise<void> {
  expect((await npm.publish(name, "1.0.0")).status).toBe(201);
  for (const region of ["us-east", "eu-west"]) {
    await readPackument(fetch, name, region);
    expect((await readPackument(fetch, name, region)).state).toBe("L1-HIT");
    await tarballState(name, "1.0.0", region);
    expect(await tarballState(name, "1.0.0", region)).toBe("L1-HIT");
  }
}

describe("npm", () => {
  it("hard by key: the next read of the tarball is a MISS, here at once and in other regions via the queue", async () => {
    await cachedPackage("purge-key-hard");
    const answer = await purge({ keys: [tarballCacheKey("purge-key-hard", "purge-key-hard-1.0.0.tgz")], mode: "hard" });
    expect(answer).toMatchObject({ mode: "hard", keys: [tarballCacheKey("purge-key-hard", "purge-key-hard-1.0.0.tgz")], tags: [], prefix: null });
    expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await tarballState("purge-key-hard", "1.0.0")).toBe("MISS");
    expect(await tarballState("purge-key-hard", "1.0.0")).toBe("L1-HIT");
    // The packument was not named: still an L1 hit.
    expect((await readPackument(fetch, "purge-key-hard", "us-east")).state).toBe("L1-HIT");
    let state: string | null = "L1-HIT";
    for (let i = 0; i < 100 && state === "L1-HIT"; i++) {
      await sleep(20);
      state = await tarballState("purge-key-hard", "1.0.0", "eu-west");
    }
    expect(state, "eu-west after the queue").toBe("MISS");
  });

  it("soft by key: the packument's next read is L2-STALE with the same content, then fresh", async () => {
    await cachedPackage("purge-key-soft");
    await purge({ keys: [packumentCacheKey("purge-key-soft")], mode: "soft" });
    const stale = await readPackument(fetch, "purge-key-soft", "us-east");
    expect(stale).toMatchObject({ state: "L2-STALE", versions: ["1.0.0"] });
    const states = await untilFresh(async () => (await readPackument(fetch, "purge-key-soft", "us-east")).state);
    expect(states.at(-1)).toBe("L2-HIT");
  });

  it("hard by tag: the package's packument and tarballs are MISSes", async () => {
    await cachedPackage("purge-tag-hard");
    await purge({ tags: ["npm:purge-tag-hard"], mode: "hard" });
    expect((await readPackument(fetch, "purge-tag-hard", "us-east")).state).toBe("MISS");
    expect(await tarballState("purge-tag-hard", "1.0.0")).toBe("MISS");
  });

  it("soft by scope tag: every package of the scope is served stale once, then fresh", async () => {
    for (const name of ["@purge/one", "@purge/two"]) {
      expect((await npm.publish(name, "1.0.0")).status).toBe(201);
      await readPackument(fetch, name, "us-east");
      expect((await readPackument(fetch, name, "us-east")).state).toBe("L1-HIT");
    }
    await purge({ tags: ["npm:@purge"], mode: "soft" });
    for (const name of ["@purge/one", "@purge/two"]) {
      expect((await readPackument(fetch, name, "us-east")).state, name).toBe("L2-STALE");
      expect((await untilFresh(async () => (await readPackument(fetch, name, "us-east")).state)).at(-1), name).toBe("L2-HIT");
    }
  });

  it("hard by prefix: every tarball of the package is a MISS, the packument is untouched", async () => {
    await cachedPackage("purge-prefix");
    await purge({ prefix: "npm:tarball:purge-prefix/", mode: "hard" });
    expect(await tarballState("purge-prefix", "1.0.0")).toBe("MISS");
    expect((await readPackument(fetch, "purge-prefix", "us-east")).state).toBe("L1-HIT");
  });
});

describe("OCI", () => {
  it("hard by key: a blob's next pull is a MISS with the same bytes", async () => {
    const blob = await content(randomBytes(10_000));
    await oci.pushBlobs("purge/blob", blob);
    await (await reader.getBlob("purge/blob", blob.digest)).arrayBuffer();
    expect((await reader.getBlob("purge/blob", blob.digest)).headers.get("x-pkgedge-cache")).toBe("L1-HIT");
    await purge({ keys: [blobCacheKey("purge/blob", blob.digest)], mode: "hard" });
    const res = await reader.getBlob("purge/blob", blob.digest);
    expect(res.headers.get("x-pkgedge-cache")).toBe("MISS");
    expect(await bodyDigest(res)).toBe(blob.digest);
  });

  it("soft by repository tag: the tag's next pull is L2-STALE, then fresh", async () => {
    const image = await randomImage();
    await oci.pushImage("purge/repo", "v1", image);
    await (await reader.getManifest("purge/repo", "v1")).arrayBuffer();
    expect((await reader.getManifest("purge/repo", "v1")).headers.get("x-pkgedge-cache")).toBe("L1-HIT");
    await purge({ tags: ["oci:purge/repo"], mode: "soft" });
    const stale = await reader.getManifest("purge/repo", "v1");
    expect(stale.headers.get("x-pkgedge-cache")).toBe("L2-STALE");
    expect(await bodyDigest(stale)).toBe(image.manifest.digest);
    const states = await untilFresh(async () => {
      const res = await reader.getManifest("purge/repo", "v1");
      await res.arrayBuffer();
      return res.headers.get("x-pkgedge-cache");
    });
    expect(states.at(-1)).toBe("L2-HIT");
  });

  it("hard by prefix: every tag of the repository is a MISS, other repositories untouched", async () => {
    const image = await randomImage();
    await oci.pushImage("purge/prefix", "a", image);
    await oci.pushImage("purge/other", "a", image);
    for (const repo of ["purge/prefix", "purge/other"]) {
      await (await reader.getManifest(repo, "a")).arrayBuffer();
      expect((await reader.getManifest(repo, "a")).headers.get("x-pkgedge-cache")).toBe("L1-HIT");
    }
    await purge({ prefix: tagCacheKey("purge/prefix", ""), mode: "hard" });
    expect((await reader.getManifest("purge/prefix", "a")).headers.get("x-pkgedge-cache")).toBe("MISS");
    expect((await reader.getManifest("purge/other", "a")).headers.get("x-pkgedge-cache")).toBe("L1-HIT");
  });
});
