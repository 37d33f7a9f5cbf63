// Publish bodies: JSON or a 400, and never more than MAX_PUBLISH_BYTES read, whether or not the
// client declares a Content-Length. Nothing is stored for a refused body.
import { beforeAll, describe, expect, it } from "vitest";
import { plainTarball, publishBody, tarballBytes } from "../../helpers/npm-body";
import { escapedName, NpmClient } from "../../helpers/npm-client";
import { expectNoPackage, expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const LIMIT = 4096;
const encoder = new TextEncoder();

/** The bytes of a publish body whose tarball is `size` bytes (base64 makes it a third larger). */
async function bodyBytes(name: string, size: number): Promise<Uint8Array> {
  const tarball = plainTarball({ name, version: "1.0.0", description: `test package ${name}` }, size);
  return encoder.encode(JSON.stringify(await publishBody(name, "1.0.0", { tarball })));
}

/** A body the client streams in small chunks, as with chunked transfer encoding: no length up front. */
function streamed(bytes: Uint8Array, chunk = 512): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

describe("publish bodies", () => {
  // The app with a small MAX_PUBLISH_BYTES; the token is created through the same env.
  const limited = workerWith({ MAX_PUBLISH_BYTES: String(LIMIT) });
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(limited, (await createToken({ scopes: ["publish"] }, limited)).token);
  });

  const put = (name: string, body: BodyInit, headers: Record<string, string> = {}) =>
    npm.request(`/npm/${escapedName(name)}`, { method: "PUT", headers: { "content-type": "application/json", ...headers }, body });

  it("answers 400 for a body that is not JSON", async () => {
    const json = JSON.stringify(await publishBody("malformed", "1.0.0"));
    await expectNpmError(await put("malformed", json.slice(0, -5)), 400, /not valid JSON/);
    await expectNoPackage(npm, "malformed");
  });

  it.each([["an array", "[]"], ["a string", '"left-pad"'], ["null", "null"]])("answers 400 for JSON that is %s", async (_what, json) => {
    await expectNpmError(await put("not-an-object", json), 400, /must be a JSON object/);
    await expectNoPackage(npm, "not-an-object");
  });

  it("accepts a body just under the limit", async () => {
    const bytes = await bodyBytes("small-enough", 2048);
    expect(bytes.byteLength).toBeLessThanOrEqual(LIMIT);
    const res = await put("small-enough", bytes, { "content-length": String(bytes.byteLength) });
    expect(res.status).toBe(201);
  });

  it("answers 413 from the declared Content-Length, before reading the body", async () => {
    const bytes = await bodyBytes("declared-too-big", 8192);
    const res = await put("declared-too-big", bytes, { "content-length": String(bytes.byteLength) });
    await expectNpmError(res, 413, `body of ${bytes.byteLength} bytes exceeds the limit of ${LIMIT} bytes`);
    await expectNoPackage(npm, "declared-too-big");
  });

  it("answers 413 for a streamed body without Content-Length once it passes the limit", async () => {
    const bytes = await bodyBytes("streamed-too-big", 8192);
    const res = await put("streamed-too-big", streamed(bytes));
    await expectNpmError(res, 413, `exceeds the limit of ${LIMIT} bytes`);
    await expectNoPackage(npm, "streamed-too-big");
  });

  it("answers 413 when the Content-Length understates a body over the limit", async () => {
    const bytes = await bodyBytes("understated", 8192);
    const res = await put("understated", streamed(bytes), { "content-length": "1000" });
    await expectNpmError(res, 413, `exceeds the limit of ${LIMIT} bytes`);
    await expectNoPackage(npm, "understated");
  });

  it("accepts a streamed body under the limit", async () => {
    const res = await put("streamed-ok", streamed(await bodyBytes("streamed-ok", 2048)));
    expect(res.status).toBe(201);
    expect(new Uint8Array(await (await npm.getTarball("streamed-ok", "1.0.0")).arrayBuffer()).byteLength).toBe(2048);
  });

  it("leaves the limit of the Worker as wrangler.toml configures it alone", async () => {
    const npmDefault = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
    expect((await npmDefault.publish("default-limit", "1.0.0", { tarball: tarballBytes("x".repeat(5000), { name: "default-limit", version: "1.0.0" }) })).status).toBe(201);
  });
});
