// Coded packuments through wrangler dev, as real clients decode them: a raw HTTP client asking
// for gzip sees one gzip layer whose bytes decode to exactly the uncoded JSON (the runtime and
// wrangler's proxy must not code our already-coded bytes again), one refusing codings gets the
// JSON itself, curl --compressed prints valid JSON, the coded ETag answers 304, and npm install,
// which asks for gzip, still installs.
import http from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHAIN, CHAIN_OUTPUT, describeRun, packagePath, publishAll, run, startRegistry, type Registry } from "./helpers";

let registry: Registry;

beforeAll(async () => {
  registry = await startRegistry();
  const token = await registry.createToken({ name: "e2e-compression", scopes: ["read", "publish"] });
  await publishAll(registry, token, CHAIN);
});
afterAll(() => registry?.stop());

/** One GET with node:http, which never decodes: the bytes exactly as sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

const json = (bytes: Buffer) => JSON.parse(bytes.toString("utf8"));

describe("coded packuments through wrangler dev", () => {
  // [Accept-Encoding as the client sends it (npm, a browser), package]
  const CLIENTS: Array<[string, string]> = [
    ["gzip,deflate", "@acme/c"],
    ["gzip, deflate, br", "b"],
  ];
  test.each(CLIENTS)("Accept-Encoding %j: one gzip layer, decoding to the uncoded document", async (accept, name) => {
    const coding = "gzip";
    const decode = gunzipSync;
    const url = `${registry.npmUrl}${packagePath(name)}`;
    const plain = await rawGet(url, { accept: "application/json", "accept-encoding": "identity" });
    expect(plain.status).toBe(200);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    let coded = await rawGet(url, { accept: "application/json", "accept-encoding": accept });
    // The coded copy is stored after the response that rendered it.
    for (let i = 0; i < 20 && coded.headers["content-encoding"] !== coding; i++) {
      await new Promise((r) => setTimeout(r, 100));
      coded = await rawGet(url, { accept: "application/json", "accept-encoding": accept });
    }
    expect([coded.status, coded.headers["content-encoding"]]).toEqual([200, coding]);
    expect(coded.headers.vary).toMatch(/accept-encoding/);
    expect(json(decode(coded.body))).toEqual(json(plain.body));
    expect(coded.headers.etag).not.toBe(plain.headers.etag);
    const revalidated = await rawGet(url, { accept: "application/json", "accept-encoding": accept, "if-none-match": coded.headers.etag! });
    expect([revalidated.status, revalidated.body.byteLength]).toEqual([304, 0]);
    // A client that refuses every coding still gets the JSON (the runtime decodes it for it).
    const identity = await rawGet(url, { accept: "application/json", "accept-encoding": "identity" });
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(json(identity.body)).toEqual(json(plain.body));
  });

  test("curl --compressed prints the packument as JSON", async () => {
    const url = `${registry.npmUrl}a`;
    let out = "";
    for (let i = 0; i < 3; i++) {
      const r = await run("curl", ["-sS", "--compressed", "-H", "accept: application/json", "-D", "-", url], { cwd: process.cwd() });
      expect(r.code, describeRun("curl", r)).toBe(0);
      out = r.stdout;
    }
    const [head, body] = out.split(/\r\n\r\n/);
    expect(head).toMatch(/content-encoding: (br|gzip)/i);
    expect(head).toMatch(/etag: "[^"]+-gzip"/i);
    expect(JSON.parse(body!).name).toBe("a");
  });

  test("npm install works from the coded packuments", async () => {
    // What npm asks for (npm-registry-fetch sends Accept-Encoding: gzip,deflate), stored coded first.
    const asNpm = { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*", "accept-encoding": "gzip,deflate" };
    for (const name of CHAIN.map((p) => p.name)) {
      let got = await rawGet(`${registry.npmUrl}${packagePath(name)}`, asNpm);
      for (let i = 0; i < 20 && got.headers["content-encoding"] !== "gzip"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = await rawGet(`${registry.npmUrl}${packagePath(name)}`, asNpm);
      }
      expect(got.headers["content-encoding"], `${name}: ${JSON.stringify(got.headers)}`).toBe("gzip");
      expect(json(gunzipSync(got.body)).name).toBe(name);
    }
    const client = registry.sandbox();
    const install = await client.npm(["install", "a"]);
    expect(install.code, describeRun("npm install a", install)).toBe(0);
    const program = await client.node("console.log(require('a'))");
    expect(program.stdout.trim()).toBe(CHAIN_OUTPUT);
  });
});
