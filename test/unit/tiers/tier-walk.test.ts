// The tier walk called directly (no HTTP, no protocol): an object is read from the origin once
// and then served from L1; concurrent misses share one shield call; a rendering is what L1
// keeps, a document the renderer calls absent is "not found" (remembered), and invalidating the
// document drops every rendering of it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { Tiers, type Served, type TierRequest, type Variant } from "../../../shared/tiers";
import { EdgeCache } from "../../../shared/tiers/edge-cache";

const REGION = "us-east";

/** The tiers as one request sees them, and a way to wait for the work it left in the background. */
function walk() {
  const background: Promise<unknown>[] = [];
  const tiers = new Tiers(env, loadConfig(env), REGION, (p) => background.push(p));
  return { tiers, settled: () => Promise.all(background.splice(0)) };
}

const request = (name: string): TierRequest => ({ key: `unit:${name}`, originKey: `unit-walk/${name}`, kind: "metadata", immutable: false, tags: ["unit-walk"] });

async function bodyText(served: Served): Promise<string> {
  if (!served.found) return `(${served.state})`;
  return served.body instanceof Uint8Array ? new TextDecoder().decode(served.body) : new Response(served.body).text();
}

/** Upper-cases the stored text; "gone" documents are absent (as an unpublished package's tombstone). */
const shout: Variant = {
  suffix: "shout",
  render: (bytes, meta) => {
    const text = new TextDecoder().decode(bytes);
    if (text === "gone") return null;
    const out = new TextEncoder().encode(text.toUpperCase());
    return { bytes: out, meta: { ...meta, size: out.byteLength, etag: `"${meta.etag}-shout"` }, document: { text } };
  },
};

describe("Tiers.get", () => {
  it("reads the origin through the shield once, then answers from L1", async () => {
    const req = request("plain");
    await env.BLOBS.put(req.originKey, "hello");
    const first = walk();
    const miss = await first.tiers.get(req);
    expect([miss.state, await bodyText(miss)]).toEqual(["MISS", "hello"]);
    await first.settled();
    const hit = await walk().tiers.get(req);
    expect([hit.state, await bodyText(hit)]).toEqual(["L1-HIT", "hello"]);
  });

  it("concurrent misses share one shield call", async () => {
    const req = request("herd");
    await env.BLOBS.put(req.originKey, "herd");
    const { tiers, settled } = walk();
    const served = await Promise.all(Array.from({ length: 8 }, () => tiers.get(req)));
    expect(served.map((s) => s.state).sort()).toEqual(["COALESCED", "COALESCED", "COALESCED", "COALESCED", "COALESCED", "COALESCED", "COALESCED", "MISS"]);
    expect(await Promise.all(served.map(bodyText))).toEqual(Array(8).fill("herd"));
    await settled();
    const stats = await tiers.shieldStats();
    expect(stats.reduce((n, s) => n + s.stats.hits, 0)).toBe(0);
  });

  it("a missing object is not found, then remembered at L1 (NEGATIVE)", async () => {
    const req = request("absent");
    const first = walk();
    expect(await first.tiers.get(req)).toEqual({ found: false, state: "MISS" });
    await first.settled();
    expect(await walk().tiers.get(req)).toEqual({ found: false, state: "NEGATIVE" });
  });
});

describe("Tiers.render", () => {
  it("L1 keeps the rendering, not the document, and hands back what the renderer parsed", async () => {
    const req = request("doc");
    await env.BLOBS.put(req.originKey, "doc");
    const first = walk();
    const cold = await first.tiers.render(req, shout);
    expect([cold.state, await bodyText(cold)]).toEqual(["MISS", "DOC"]);
    expect(cold.found && cold.document).toEqual({ text: "doc" });
    await first.settled();
    const warm = await walk().tiers.render(req, shout);
    expect([warm.state, await bodyText(warm)]).toEqual(["L1-HIT", "DOC"]);
    expect(await (await EdgeCache.open(REGION)).match(req.key)).toBeNull();
  });

  it("a document the renderer calls absent is not found, and the answer is remembered", async () => {
    const req = request("tombstone");
    await env.BLOBS.put(req.originKey, "gone");
    const first = walk();
    expect((await first.tiers.render(req, shout)).found).toBe(false);
    await first.settled();
    expect(await walk().tiers.render(req, shout)).toEqual({ found: false, state: "NEGATIVE" });
  });

  it("invalidating the document drops its renderings from L1", async () => {
    const req = request("changing");
    await env.BLOBS.put(req.originKey, "v1");
    const first = walk();
    await first.tiers.render(req, shout);
    await first.settled();
    await env.BLOBS.put(req.originKey, "v2");
    await walk().tiers.invalidate({ keys: [req.key] });
    const after = await walk().tiers.render(req, shout);
    expect([after.state, await bodyText(after)]).toEqual(["MISS", "V2"]);
  });
});
