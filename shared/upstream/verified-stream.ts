// Bytes from an upstream on their way into the origin, checked as they pass: the stream errors
// at its end when the digest differs from the one the upstream's metadata promised (or the
// length from the one it announced), before its last bytes go on, so the R2 put that reads it
// never has the whole object and fails: nothing is stored.
// Nothing is buffered: one chunk at a time, hashed incrementally.

export type DigestAlgorithm = "SHA-512" | "SHA-256" | "SHA-1";

export class DigestMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DigestMismatch";
  }
}

/** `body` with a known length (R2 needs one), failing at its end unless it hashes to `expected`. */
export function verifiedStream(body: ReadableStream<Uint8Array>, length: number, algorithm: DigestAlgorithm, expected: Uint8Array): ReadableStream<Uint8Array> {
  const digest = new crypto.DigestStream(algorithm);
  const writer = digest.getWriter();
  let seen = 0;
  // The last chunk is held back until the digest is checked: R2 may commit a put as soon as it
  // has every announced byte, so a mismatch found after passing them all on would come too late.
  let held: Uint8Array | null = null;
  const check = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > length) throw new DigestMismatch(`upstream sent more than the ${length} bytes it announced`);
      await writer.write(chunk);
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      await writer.close();
      const actual = new Uint8Array(await digest.digest);
      if (seen !== length) throw new DigestMismatch(`upstream sent ${seen} of the ${length} bytes it announced`);
      if (!sameBytes(actual, expected)) throw new DigestMismatch(`upstream content does not match its ${algorithm} digest`);
      if (held) controller.enqueue(held);
    },
  });
  return body.pipeThrough(check).pipeThrough(new FixedLengthStream(length));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}
