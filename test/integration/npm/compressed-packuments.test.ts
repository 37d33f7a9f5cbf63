// Packuments are stored gzip-coded as well when L1 is filled, and served coded to clients that
// accept gzip (brotli is not stored: the runtime's CompressionStream lacks it): the bytes decode to exactly the uncoded rendering, each coding
// of each form has its own ETag (a 304 for one never validates another), If-None-Match with the
// coded ETag answers 304, Vary names accept-encoding, and a publish reaches the coded copies too.
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { ABBREVIATED_TYPE } from "../../../workers/npm/packument";
import { NpmClient } from "../../helpers/npm-client";
import { workerWith } from "../../helpers/worker";
import { npmPublisher } from "../edge-cache/helpers";

const fetch = workerWith({});
let npm: NpmClient;
beforeAll(async () => {
  npm = await npmPublisher(fetch);
});

interface Got {
  status: number;
  state: string | null;
  encoding: string | null;
  etag: string | null;
  vary: string | null;
  length: string | null;
  raw: Uint8Array;
}

async function get(name: string, headers: Record<string, string>): Promise<Got> {
  const res = await fetch(`/npm/${name}`, { headers: { accept: "application/json", ...headers } });
  const h = (k: string) => res.headers.get(k);
  return { status: res.status, state: h("x-pkgedge-cache"), encoding: h("content-encoding"), etag: h("etag"), vary: h("vary"), length: h("content-length"), raw: new Uint8Array(await res.arrayBuffer()) };
}

function decoded(got: Got): unknown {
  const bytes = got.encoding === "gzip" ? gunzipSync(got.raw) : got.raw;
  return JSON.parse(new TextDecoder().decode(bytes));
}

// [Accept-Encoding, coding served once stored]
const CODINGS: Array<[string, string | null]> = [
  ["gzip", "gzip"],
  ["br, gzip", "gzip"],
  ["gzip;q=0.5, br", "gzip"],
  ["*", "gzip"],
  ["gzip;q=0", null],
  ["*, gzip;q=0", null],
  ["br", null],
  ["identity", null],
  ["deflate", null],
];

describe("coded packument renderings", () => {
  it.each(CODINGS)("Accept-Encoding %j: the first request renders uncoded, the next is served %s, decoding to the same document", async (accept, coding) => {
    const name = `coded-${accept.replace(/\W+/g, "-")}`;
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    const first = await get(name, { "accept-encoding": accept });
    expect([first.status, first.state, first.encoding]).toEqual([200, "MISS", null]);
    const next = await get(name, { "accept-encoding": accept });
    expect([next.status, next.state, next.encoding]).toEqual([200, "L1-HIT", coding]);
    expect(next.length).toBe(String(next.raw.byteLength));
    expect(next.vary).toMatch(/\baccept-encoding\b/);
    expect(decoded(next)).toEqual(decoded(first));
    if (coding) expect(next.raw.byteLength).toBeLessThan(first.raw.byteLength);
  });

  it("gives each coding of each form its own ETag, and answers If-None-Match per representation", async () => {
    const name = "coded-etags";
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    const etags = new Map<string, string>();
    for (const accept of ["application/json", ABBREVIATED_TYPE]) {
      for (const coding of ["", "gzip"]) {
        await get(name, { accept, "accept-encoding": coding });
        const got = await get(name, { accept, "accept-encoding": coding });
        expect(got.encoding ?? "").toBe(coding);
        etags.set(`${accept} ${coding}`, got.etag!);
      }
    }
    expect(new Set(etags.values()).size).toBe(4);
    const gzipEtag = etags.get("application/json gzip")!;
    expect(gzipEtag).toMatch(/-gzip"$/);
    // The coded ETag validates the coded representation: 304, no body, no coding header.
    const notModified = await get(name, { "accept-encoding": "gzip", "if-none-match": gzipEtag });
    expect([notModified.status, notModified.etag, notModified.raw.byteLength, notModified.encoding]).toEqual([304, gzipEtag, 0, null]);
    // ... but not the uncoded one, nor the other form: those answer 200 in full.
    const plain = await get(name, { "if-none-match": gzipEtag });
    expect([plain.status, plain.encoding, plain.etag]).toEqual([200, null, etags.get("application/json ")]);
    const plainEtag = etags.get("application/json ")!;
    expect((await get(name, { "if-none-match": plainEtag })).status).toBe(304);
    const coded = await get(name, { "accept-encoding": "gzip", "if-none-match": plainEtag });
    expect([coded.status, coded.encoding, coded.etag]).toEqual([200, "gzip", gzipEtag]);
    const abbreviated = await get(name, { accept: ABBREVIATED_TYPE, "accept-encoding": "gzip", "if-none-match": gzipEtag });
    expect([abbreviated.status, abbreviated.encoding]).toEqual([200, "gzip"]);
  });

  it("HEAD names the coded length without a body", async () => {
    const name = "coded-head";
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    await get(name, { "accept-encoding": "gzip" });
    const full = await get(name, { "accept-encoding": "gzip" });
    const res = await fetch(`/npm/${name}`, { method: "HEAD", headers: { accept: "application/json", "accept-encoding": "gzip" } });
    expect([res.status, res.headers.get("content-encoding"), res.headers.get("content-length"), (await res.arrayBuffer()).byteLength])
      .toEqual([200, "gzip", String(full.raw.byteLength), 0]);
  });

  it("a publish replaces the coded copies too: the next coded read has the new version", async () => {
    const name = "coded-publish";
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    for (let i = 0; i < 8; i++) await get(name, { "accept-encoding": "gzip" });
    const before = await get(name, { "accept-encoding": "gzip" });
    expect([before.state, before.encoding]).toEqual(["HOT-HIT", "gzip"]);
    expect((await npm.publish(name, "1.1.0")).status).toBe(201);
    const after = await get(name, { "accept-encoding": "gzip" });
    expect(after.state).toBe("MISS");
    expect(Object.keys((decoded(after) as { versions: object }).versions)).toEqual(["1.0.0", "1.1.0"]);
    const coded = await get(name, { "accept-encoding": "gzip" });
    expect([coded.state, coded.encoding]).toEqual(["L1-HIT", "gzip"]);
    expect(Object.keys((decoded(coded) as { versions: object }).versions)).toEqual(["1.0.0", "1.1.0"]);
    expect(coded.etag).not.toBe(before.etag);
  });
});
