// end-2 with Range (RFC 9110 section 14): partial blob reads, cold and cached, and 416 when unsatisfiable.
import { beforeAll, describe, expect, it } from "vitest";
import { content, OciClient, publisher, randomBytes, type Content } from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";

// workerWith waits for cache writes, so the second read of a blob really is served from a cache.
const reader = new OciClient(workerWith({}));
let oci: OciClient;
let blob: Content;
beforeAll(async () => {
  oci = await publisher();
  blob = await content(randomBytes(100_000));
  await oci.pushBlobs("range/app", blob);
});

const CASES: Array<[string, string, number, number]> = [
  ["a closed range", "bytes=0-99", 0, 99],
  ["a middle range", "bytes=1000-1999", 1000, 1999],
  ["an open range", "bytes=99000-", 99000, 99999],
  ["a suffix range", "bytes=-500", 99500, 99999],
  ["a range past the end, clipped", "bytes=99990-200000", 99990, 99999],
  ["a suffix longer than the blob", "bytes=-200000", 0, 99999],
];

async function expectPartial(res: Response, blob: Content, start: number, end: number): Promise<void> {
  expect(res.status).toBe(206);
  expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${blob.size}`);
  expect(res.headers.get("content-length")).toBe(String(end - start + 1));
  expect(res.headers.get("docker-content-digest")).toBe(blob.digest);
  expect(new Uint8Array(await res.arrayBuffer())).toEqual(blob.bytes.subarray(start, end + 1));
}

describe("end-2 GET /v2/<name>/blobs/<digest> with Range", () => {
  it.each(CASES)("answers 206 to %s on a cold read and on a cached one", async (_what, range, start, end) => {
    // A blob of its own per case, so the first read is cold in every tier.
    const own = await content(randomBytes(100_000));
    await oci.pushBlobs("range/cold", own);
    const cold = await reader.getBlob("range/cold", own.digest, { headers: { range } });
    expect(cold.headers.get("x-pkgedge-cache")).not.toBe("L1-HIT");
    await expectPartial(cold, own, start, end);
    const warm = await reader.getBlob("range/cold", own.digest, { headers: { range } });
    await expectPartial(warm, own, start, end);
  });

  it("answers a range from a blob already cached whole", async () => {
    expect((await reader.getBlob("range/app", blob.digest)).status).toBe(200);
    const res = await reader.getBlob("range/app", blob.digest, { headers: { range: "bytes=10-19" } });
    await expectPartial(res, blob, 10, 19);
  });

  it("answers ranges of a blob too large for the shield, streamed from the origin", async () => {
    // Blobs above SHIELD_MAX_OBJECT_BYTES are not kept at L2 and stream through.
    const streamed = new OciClient(workerWith({ SHIELD_MAX_OBJECT_BYTES: String(64 * 1024) }));
    const big = await content(randomBytes(300_000));
    await oci.pushBlobs("range/big", big);
    for (const [range, start, end] of [["bytes=100000-100099", 100000, 100099], ["bytes=-10", 299990, 299999]] as const) {
      for (let i = 0; i < 2; i++) await expectPartial(await streamed.getBlob("range/big", big.digest, { headers: { range } }), big, start, end);
    }
    for (let i = 0; i < 2; i++) {
      const whole = await streamed.getBlob("range/big", big.digest);
      expect([whole.status, whole.headers.get("content-length")]).toEqual([200, String(big.size)]);
      expect(new Uint8Array(await whole.arrayBuffer())).toEqual(big.bytes);
    }
  });

  it("serves the whole blob with 200 after partial reads", async () => {
    const res = await reader.getBlob("range/app", blob.digest);
    expect(res.status).toBe(200);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(blob.bytes);
  });

  it.each([
    ["a start past the end", "bytes=100000-"],
    ["a start past the end, closed", "bytes=200000-200010"],
  ])("answers 416 with the size for %s", async (_what, range) => {
    const res = await reader.getBlob("range/app", blob.digest, { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${blob.size}`);
    await res.arrayBuffer();
  });

  it("answers 416 to a zero-length suffix and to any range of an empty blob", async () => {
    // RFC 9110 section 14.1.2: a suffix of 0 bytes, or any range of nothing, cannot be satisfied.
    const zero = await reader.getBlob("range/app", blob.digest, { headers: { range: "bytes=-0" } });
    expect([zero.status, zero.headers.get("content-range")]).toEqual([416, `bytes */${blob.size}`]);
    await zero.arrayBuffer();
    const empty = await content(new Uint8Array(0));
    await oci.pushBlobs("range/app", empty);
    const res = await reader.getBlob("range/app", empty.digest, { headers: { range: "bytes=0-" } });
    expect([res.status, res.headers.get("content-range")]).toEqual([416, "bytes */0"]);
    await res.arrayBuffer();
  });

  it("ignores a Range it cannot parse and serves the whole blob", async () => {
    // RFC 9110 section 14.2: a server MAY ignore an invalid Range field.
    const res = await reader.getBlob("range/app", blob.digest, { headers: { range: "pages=1-2" } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(blob.size);
  });
});
