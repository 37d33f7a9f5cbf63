// BLAKE2b (RFC 7693) with a chosen digest length, streaming: what twine sends as
// `blake2_256_digest` (BLAKE2b with a 32-byte digest, unkeyed). 64-bit words are kept as pairs
// of 32-bit halves (low word first), as in the RFC's reference code ported to JavaScript.

const IV = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
  0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4], [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13], [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11], [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5], [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
].map((row) => row.map((i) => i * 2));

export class Blake2b {
  private readonly h = new Uint32Array(16);
  private readonly v = new Uint32Array(32);
  private readonly m = new Uint32Array(32);
  private readonly block = new Uint8Array(128);
  private filled = 0;
  private total = 0;

  constructor(private readonly outBytes = 32) {
    this.h.set(IV);
    // Parameter block: digest length, no key, fanout 1, depth 1.
    this.h[0]! ^= 0x01010000 ^ outBytes;
  }

  update(data: Uint8Array): this {
    for (let i = 0; i < data.length; i++) {
      // The last block is compressed by digest(), with the final flag: keep a full one until more comes.
      if (this.filled === 128) {
        this.total += 128;
        this.compress(false);
        this.filled = 0;
      }
      this.block[this.filled++] = data[i]!;
    }
    return this;
  }

  digest(): Uint8Array {
    this.total += this.filled;
    this.block.fill(0, this.filled);
    this.compress(true);
    const out = new Uint8Array(this.outBytes);
    for (let i = 0; i < this.outBytes; i++) out[i] = this.h[i >> 2]! >>> (8 * (i & 3));
    return out;
  }

  private compress(last: boolean): void {
    const { v, m, h, block } = this;
    v.set(h);
    v.set(IV, 16);
    v[24]! ^= this.total >>> 0;
    v[25]! ^= Math.floor(this.total / 0x100000000);
    if (last) {
      v[28] = ~v[28]!;
      v[29] = ~v[29]!;
    }
    for (let i = 0; i < 32; i++) m[i] = block[i * 4]! | (block[i * 4 + 1]! << 8) | (block[i * 4 + 2]! << 16) | (block[i * 4 + 3]! << 24);
    for (let r = 0; r < 12; r++) {
      const s = SIGMA[r % 10]!;
      this.g(0, 8, 16, 24, s[0]!, s[1]!);
      this.g(2, 10, 18, 26, s[2]!, s[3]!);
      this.g(4, 12, 20, 28, s[4]!, s[5]!);
      this.g(6, 14, 22, 30, s[6]!, s[7]!);
      this.g(0, 10, 20, 30, s[8]!, s[9]!);
      this.g(2, 12, 22, 24, s[10]!, s[11]!);
      this.g(4, 14, 16, 26, s[12]!, s[13]!);
      this.g(6, 8, 18, 28, s[14]!, s[15]!);
    }
    for (let i = 0; i < 16; i++) h[i]! ^= v[i]! ^ v[i + 16]!;
  }

  /** The mixing function G on words a, b, c, d with message words x, y (all as half-indices). */
  private g(a: number, b: number, c: number, d: number, x: number, y: number): void {
    const { v, m } = this;
    add(v, a, v[b]!, v[b + 1]!);
    add(v, a, m[x]!, m[x + 1]!);
    let lo = v[d]! ^ v[a]!, hi = v[d + 1]! ^ v[a + 1]!;
    v[d] = hi; v[d + 1] = lo; // rotate right 32
    add(v, c, v[d]!, v[d + 1]!);
    lo = v[b]! ^ v[c]!; hi = v[b + 1]! ^ v[c + 1]!;
    v[b] = (lo >>> 24) | (hi << 8); v[b + 1] = (hi >>> 24) | (lo << 8);
    add(v, a, v[b]!, v[b + 1]!);
    add(v, a, m[y]!, m[y + 1]!);
    lo = v[d]! ^ v[a]!; hi = v[d + 1]! ^ v[a + 1]!;
    v[d] = (lo >>> 16) | (hi << 16); v[d + 1] = (hi >>> 16) | (lo << 16);
    add(v, c, v[d]!, v[d + 1]!);
    lo = v[b]! ^ v[c]!; hi = v[b + 1]! ^ v[c + 1]!;
    // rotate right 63 = left 1
    v[b] = (lo << 1) | (hi >>> 31); v[b + 1] = (hi << 1) | (lo >>> 31);
  }
}

/** v[a] += (lo, hi) as 64-bit numbers (Uint32Array storage truncates each half). */
function add(v: Uint32Array, a: number, lo: number, hi: number): void {
  const sum = v[a]! + lo;
  v[a + 1] = v[a + 1]! + hi + (sum > 0xffffffff ? 1 : 0);
  v[a] = sum;
}
