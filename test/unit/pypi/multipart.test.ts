// The streaming multipart reader gives back every field and the file byte for byte however the
// body is cut into network chunks (a delimiter split across chunks included), and refuses a
// body that ends before its closing boundary.
import { describe, expect, it } from "vitest";
import { MultipartReader, boundaryOf } from "../../../workers/pypi/multipart";

const BOUNDARY = "----pkgedgeBoundary7MA4YWxkTrZu0gW";
const file = new Uint8Array(3000).map((_, i) => (i * 31 + 7) % 256);
// The file holds the start of a delimiter that does not complete: it must come back unchanged.
file.set(new TextEncoder().encode(`\r\n--${BOUNDARY.slice(0, 10)}`), 1000);

function body(): Uint8Array {
  const enc = new TextEncoder();
  const parts = [
    enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n`),
    enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="classifiers"\r\n\r\nA\r\n`),
    enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="classifiers"\r\n\r\nB\r\n`),
    enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="content"; filename="x-1.0.tar.gz"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    enc.encode(`\r\n--${BOUNDARY}--\r\n`),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({ pull(c) { if (at >= bytes.length) return c.close(); c.enqueue(bytes.slice(at, at + size)); at += size; } });
}

async function readAll(stream: ReadableStream<Uint8Array>) {
  const form = new MultipartReader(stream, BOUNDARY);
  const fields: Array<[string, string]> = [];
  let fileBytes: Uint8Array | null = null;
  let filename: string | undefined;
  for (let part = await form.next(); part; part = await form.next()) {
    if (part.filename === undefined) fields.push([part.name, await form.text(1024, part.name)]);
    else {
      filename = part.filename;
      fileBytes = new Uint8Array(await new Response(form.stream()).arrayBuffer());
    }
  }
  return { fields, fileBytes, filename };
}

describe("MultipartReader", () => {
  it.each([1, 2, 7, 41, 64, 1000, 100_000])("reads every part with %i-byte chunks", async (size) => {
    const { fields, fileBytes, filename } = await readAll(chunked(body(), size));
    expect(fields).toEqual([[":action", "file_upload"], ["classifiers", "A"], ["classifiers", "B"]]);
    expect(filename).toBe("x-1.0.tar.gz");
    expect(fileBytes).toEqual(file);
  });

  it("refuses a body cut off inside the file", async () => {
    const cut = body().subarray(0, 2000);
    await expect(readAll(chunked(cut, 100))).rejects.toThrow(/truncated/);
  });

  it.each([
    [`multipart/form-data; boundary=${BOUNDARY}`, BOUNDARY],
    [`multipart/form-data; charset=utf-8; boundary="quoted b"`, "quoted b"],
    ["application/json", null],
    ["multipart/form-data", null],
  ])("boundaryOf(%j)", (type, boundary) => expect(boundaryOf(type)).toBe(boundary));
});
