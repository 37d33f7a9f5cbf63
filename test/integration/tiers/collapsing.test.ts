// Thundering herds: concurrent cold requests for one object must reach the origin once.
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../../workers/app";
import { metric } from "../../helpers/metrics";

const BASE = "http://pkgedge.test";

function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Seeds a package straight into the origin (R2): these tests are about the tiers, not publish.
 * The packument names the version, as a tarball is served only while it does.
 */
async function seedTarball(name: string, version: string, bytes: Uint8Array): Promise<string> {
  const file = `${name}-${version}.tgz`;
  await env.BLOBS.put(`npm/${name}/-/${file}`, bytes, { httpMetadata: { contentType: "application/octet-stream" } });
  const manifest = { name, version, dist: { integrity: "", shasum: "", tarball: `/npm/${name}/-/${file}` } };
  const packument = { _id: name, name, _rev: "1-seed", "dist-tags": { latest: version }, versions: { [version]: manifest }, time: { created: "", modified: "", [version]: "" } };
  await env.BLOBS.put(`npm/${name}/packument.json`, JSON.stringify(packument), { httpMetadata: { contentType: "application/json" } });
  return `${BASE}/npm/${name}/-/${file}`;
}

describe("request collapsing", () => {
  it("100 concurrent requests for a cold tarball make exactly one origin read", async () => {
    const bytes = randomBytes(300 * 1024);
    const url = await seedTarball("herd", "1.0.0", bytes);
    const before = await metric("pkgedge_origin_fetches_total", { region: "us-east", kind: "blob" });

    const responses = await Promise.all(Array.from({ length: 100 }, () => exports.default.fetch(url)));
    const digests = await Promise.all(responses.map(async (r) => {
      expect(r.status).toBe(200);
      expect(r.headers.get("content-length")).toBe(String(bytes.byteLength));
      return sha256(await r.arrayBuffer());
    }));

    expect(new Set(digests)).toEqual(new Set([await sha256(bytes)]));
    expect(await metric("pkgedge_origin_fetches_total", { region: "us-east", kind: "blob" })).toBe(before + 1);
    const states = new Set(responses.map((r) => r.headers.get("x-pkgedge-cache")));
    expect(states.has("MISS")).toBe(true);
    // Everyone else waited on that read, or found it stored by the time they arrived.
    for (const s of states) expect(["MISS", "COALESCED", "L2-HIT", "L1-HIT"]).toContain(s);
  });

  it("a packument rendered for a cold request serves the requests after it until its L1 copy lands, with no second shield read", async () => {
    // Large enough that writing the rendering to L1 takes a while after the first answer.
    const name = "wide-doc";
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = { created: "", modified: "" };
    for (let i = 0; i < 2000; i++) {
      const v = `1.0.${i}`;
      versions[v] = { name, version: v, description: "x".repeat(200), dist: { integrity: "", shasum: "", tarball: `/npm/${name}/-/${name}-${v}.tgz` } };
      time[v] = "";
    }
    const doc = { _id: name, name, _rev: "1-seed", "dist-tags": { latest: "1.0.1999" }, versions, time };
    await env.BLOBS.put(`npm/${name}/packument.json`, JSON.stringify(doc), { httpMetadata: { contentType: "application/json" } });
    const get = async () => {
      const res = await exports.default.fetch(`${BASE}/npm/${name}`);
      return { state: res.headers.get("x-pkgedge-cache"), body: res.text() };
    };
    // The next requests come as soon as the first is answered, before its L1 write can land.
    const first = await get();
    const next = await Promise.all(Array.from({ length: 5 }, get));
    expect(first.state).toBe("MISS");
    const body = await first.body;
    for (const r of next) {
      expect(await r.body).toBe(body);
      // COALESCED: served from the rendering in memory; L1-HIT: its copy had landed.
      expect(["COALESCED", "L1-HIT", "HOT-HIT"]).toContain(r.state);
    }
  });

  it("each region has its own L1 and shields", async () => {
    const url = await seedTarball("regional", "1.0.0", randomBytes(1024));
    const get = async (region: string) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(url, { headers: { "x-pkgedge-region": region } }), env, ctx);
      await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return res.headers.get("x-pkgedge-cache");
    };
    expect(await get("eu-west")).toBe("MISS");
    expect(await get("eu-west")).toBe("L1-HIT");
    expect(await get("ap-south")).toBe("MISS");
    expect(await metric("pkgedge_origin_fetches_total", { region: "eu-west", kind: "blob" })).toBe(1);
    expect(await metric("pkgedge_origin_fetches_total", { region: "ap-south", kind: "blob" })).toBe(1);
  });

  it("streams objects larger than the shield keeps to every concurrent waiter from one read per isolate", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const url = await seedTarball("large", "1.0.0", bytes);
    // A shield limit below the object size forces the streaming path (nothing stored in SQLite).
    const small = { ...env, SHIELD_MAX_OBJECT_BYTES: String(1024 * 1024) };
    const before = await metric("pkgedge_origin_fetches_total", { region: "us-east", kind: "blob" });
    const results = await Promise.all(Array.from({ length: 10 }, async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(url), small, ctx);
      const digest = await sha256(await res.arrayBuffer());
      await waitOnExecutionContext(ctx);
      return { status: res.status, digest, state: res.headers.get("x-pkgedge-cache") };
    }));
    const expected = await sha256(bytes);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.digest).toBe(expected);
    }
    // The shield sizes the object with one ranged read (collapsed for all waiters) and sends the
    // edge to the origin; the edge streams it once for every request of this isolate that joined
    // while it was being read. (A request arriving after that stream ended reads again.)
    const misses = results.filter((r) => r.state === "MISS").length;
    expect(results.filter((r) => r.state === "COALESCED").length).toBeGreaterThan(0);
    expect(await metric("pkgedge_origin_fetches_total", { region: "us-east", kind: "blob" })).toBe(before + 1 + misses);
  });
});
