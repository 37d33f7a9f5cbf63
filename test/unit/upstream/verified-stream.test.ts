// Upstream bytes are checked on their way into R2: a stream whose digest or length differs
// from what the upstream's metadata promised makes the put fail, and nothing is stored.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ObjectStore } from "../../../shared/origin";
import { verifiedStream, type DigestAlgorithm } from "../../../shared/upstream/verified-stream";

const bytes = new TextEncoder().encode("a tarball's bytes, arriving in more than one chunk ".repeat(500));

function chunked(data: Uint8Array, size = 1000): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.slice(offset, offset + size));
      offset += size;
    },
  });
}

async function digest(algorithm: DigestAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, data));
}

describe("verifiedStream into R2", () => {
  it.each(["SHA-512", "SHA-256", "SHA-1"] as const)("stores bytes that match their %s digest", async (algorithm) => {
    const store = new ObjectStore(env.BLOBS);
    const key = `test/verified/${algorithm}`;
    await store.createIfAbsent(key, verifiedStream(chunked(bytes), bytes.length, algorithm, await digest(algorithm, bytes)), "application/octet-stream");
    const stored = await env.BLOBS.get(key);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(bytes);
  });

  it.each([
    ["a different digest", async () => ({ length: bytes.length, expected: await digest("SHA-512", new TextEncoder().encode("other")) })],
    ["fewer bytes than announced", async () => ({ length: bytes.length + 10, expected: await digest("SHA-512", bytes) })],
    ["more bytes than announced", async () => ({ length: bytes.length - 10, expected: await digest("SHA-512", bytes) })],
  ])("stores nothing for %s", async (what, make) => {
    const { length, expected } = await make();
    const key = `test/verified/bad-${what.replace(/\W+/g, "-")}`;
    await expect(new ObjectStore(env.BLOBS).createIfAbsent(key, verifiedStream(chunked(bytes), length, "SHA-512", expected), "application/octet-stream")).rejects.toThrow();
    expect(await env.BLOBS.head(key)).toBeNull();
  });
});
