// `?write=true` reads (npm's read before a read-modify-write) bypass every cache.
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient, escapedName } from "../../helpers/npm-client";
import { createToken } from "../../helpers/tokens";

describe("GET packument ?write=true", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it("answers from the origin with no-store, while plain reads are cached", async () => {
    expect((await npm.publish("fresh-rev", "1.0.0")).status).toBe(201);
    await npm.getPackument("fresh-rev");
    const cached = await npm.getPackument("fresh-rev");
    expect(cached.headers.get("x-pkgedge-cache")).toBe("L1-HIT");

    const write = await npm.request(`/npm/${escapedName("fresh-rev")}?write=true`);
    expect(write.status).toBe(200);
    expect(write.headers.get("cache-control")).toBe("no-store");
    expect(write.headers.get("x-pkgedge-cache")).toBe("BYPASS");
    const doc = await write.json<{ _rev: string; versions: Record<string, unknown> }>();
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc._rev).toMatch(/^1-/);
  });

  it("needs read access like any read", async () => {
    expect((await npm.publish("guarded-rev", "1.0.0")).status).toBe(201);
    const res = await npm.as("pke_notarealtokennotarealtokennotareal").request(`/npm/guarded-rev?write=true`);
    expect(res.status).toBe(401);
  });
});
