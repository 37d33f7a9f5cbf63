// The one hex encoder: lowercase, two digits per byte, only the bytes a view covers, and SHA-256
// hex that matches the published test vectors (FIPS 180-2 appendix B.1).
import { describe, expect, it } from "vitest";
import { sha256Hex, toHex } from "../../../shared/digest";

describe("toHex", () => {
  it("writes each byte as two lowercase digits, leading zeros kept", () => {
    expect(toHex(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe("00010f10abff");
    expect(toHex(new Uint8Array([0xde, 0xad]).buffer)).toBe("dead");
    expect(toHex(new Uint8Array())).toBe("");
  });

  it("encodes only the bytes a view covers, not its whole buffer", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    expect(toHex(bytes.subarray(1, 3))).toBe("0203");
    expect(toHex(new DataView(bytes.buffer, 3, 2))).toBe("0405");
  });
});

describe("sha256Hex", () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  it("hashes a string as UTF-8 and bytes as given", async () => {
    expect(await sha256Hex("abc")).toBe(abc);
    expect(await sha256Hex(new TextEncoder().encode("abc"))).toBe(abc);
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});
