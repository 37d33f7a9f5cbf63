// Mutable metadata at the shield: once its L2 lifetime is over, the shield asks the origin
// whether it changed (R2 conditional read) instead of trusting or refetching blindly.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ObjectStore } from "../../../shared/origin";
import { app } from "../../../workers/app";

// No L1 and an L2 lifetime of zero: every request reaches the shield and finds its copy expired.
const vars = { ...env, L1_METADATA_TTL: "0", L2_METADATA_TTL: "0" };

async function get(path: string): Promise<{ state: string | null; body: string }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://pkgedge.test${path}`), vars, ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  expect(res.status).toBe(200);
  return { state: res.headers.get("x-pkgedge-cache"), body };
}

function packument(name: string, versions: string[]): string {
  const v = Object.fromEntries(versions.map((version) => [version, {
    name, version, dist: { tarball: `/npm/${name}/-/${name}-${version}.tgz`, integrity: "sha512-x", shasum: "0" },
  }]));
  const time = Object.fromEntries(versions.map((version) => [version, "2026-01-01T00:00:00.000Z"]));
  return JSON.stringify({
    _id: name, name, _rev: `${versions.length}-a`, "dist-tags": { latest: versions.at(-1) }, versions: v,
    time: { created: "2026-01-01T00:00:00.000Z", modified: "2026-01-01T00:00:00.000Z", ...time },
  });
}

describe("shield revalidation", () => {
  it("keeps its copy when the origin's ETag is unchanged, and refetches when it changed", async () => {
    await env.BLOBS.put("npm/reval/packument.json", packument("reval", ["1.0.0"]));
    expect((await get("/npm/reval")).state).toBe("MISS");

    const again = await get("/npm/reval");
    expect(again.state).toBe("REVALIDATED");
    expect(Object.keys(JSON.parse(again.body).versions)).toEqual(["1.0.0"]);

    // A write that bypassed invalidation (as another region's origin write might) is still seen.
    await env.BLOBS.put("npm/reval/packument.json", packument("reval", ["1.0.0", "1.1.0"]));
    const changed = await get("/npm/reval");
    expect(changed.state).toBe("REVALIDATED");
    expect(Object.keys(JSON.parse(changed.body).versions)).toEqual(["1.0.0", "1.1.0"]);
  });
});

describe("ObjectStore.readIfChanged", () => {
  it("answers unchanged for the ETag it handed out, and the object once it changed", async () => {
    const store = new ObjectStore(env.BLOBS);
    await env.BLOBS.put("cond/doc", "one");
    const first = await store.read("cond/doc");
    expect(await store.readIfChanged("cond/doc", first!.etag)).toBe("unchanged");
    await env.BLOBS.put("cond/doc", "two");
    const changed = await store.readIfChanged("cond/doc", first!.etag);
    expect(changed).not.toBe("unchanged");
    expect(await new Response((changed as { body: ReadableStream }).body).text()).toBe("two");
    await env.BLOBS.delete("cond/doc");
    expect(await store.readIfChanged("cond/doc", first!.etag)).toBeNull();
  });
});
