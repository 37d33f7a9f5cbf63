// The blake2b the upload streams through (@noble/hashes, as workers/pypi/upload.ts uses it)
// agrees with Python's hashlib.blake2b (the digests twine sends) for empty, short, block-sized
// and multi-block inputs, however the input is split across update() calls.
import { blake2b } from "@noble/hashes/blake2b";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../shared/digest";

const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + 7) % 256);

// [label, input, digest bytes, hashlib.blake2b(input, digest_size=...).hexdigest()]
const VECTORS: Array<[string, Uint8Array, number, string]> = [
  ["empty", new Uint8Array(0), 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"],
  ["abc", new TextEncoder().encode("abc"), 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"],
  ["one zero block", new Uint8Array(128), 32, "378d0caaaa3855f1b38693c1d6ef004fd118691c95c959d4efa950d6d6fcf7c1"],
  ["1,000,003 bytes", pattern(1_000_003), 32, "30456411c3fbd41de6bd3f9297ee049b893da8fd581d4b7e07d9d4659878804d"],
  ["abc, 64-byte digest", new TextEncoder().encode("abc"), 64, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"],
];

describe("blake2b", () => {
  it.each(VECTORS)("%s", (_label, input, bytes, hex) => {
    expect(toHex(blake2b.create({ dkLen: bytes }).update(input).digest())).toBe(hex);
    for (const size of [1, 127, 128, 129, 65_536]) {
      const h = blake2b.create({ dkLen: bytes });
      for (let i = 0; i < input.length; i += size) h.update(input.subarray(i, i + size));
      expect(toHex(h.digest())).toBe(hex);
    }
  });
});
