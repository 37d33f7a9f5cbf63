// PyPI through the shared edge machinery: the request filter, rate limits and metrics know the
// protocol (answers in PyPI's format, requests labelled protocol="pypi"); a file larger than one
// R2 part streams in and back out intact; and bytes the project document does not list (a
// crashed upload's leftovers) are never served.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { metric } from "../../helpers/metrics";
import { createToken } from "../../helpers/tokens";
import { worker, workerWith } from "../../helpers/worker";
import { hexDigest, projectJson, upload, wheel, wheelName, zip, coreMetadata, type DistSpec } from "../../helpers/pypi";

let publisher: string;
beforeAll(async () => {
  publisher = (await createToken({ scopes: ["read", "publish"] })).token;
});

describe("request filter and rate limits", () => {
  it.each(["PUT", "DELETE", "PATCH"])("%s on /pypi/ is 405 with Allow, as an HTML status page", async (method) => {
    const res = await worker("/pypi/simple/anything/", { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toMatch(/method .* is not allowed/);
  });

  it("an upload over the publish limit gets 429 with Retry-After, as plain text", async () => {
    const fetch = workerWith({ RATE_LIMIT_CLAIM_FRACTION: "0.5", RATE_LIMIT_PUBLISH: "2/30s", RATE_LIMIT_READ: "off" });
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const s: DistSpec = { name: "rl-project", version: `1.${i}` };
      const res = await upload(s, wheel(s), { token: publisher, fetch });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(refused!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused!.headers.get("content-type")).toContain("text/plain");
    expect(await refused!.text()).toMatch(/rate limit exceeded \(publish/);
  });

  it("counts PyPI requests under protocol=\"pypi\"", async () => {
    const before = await metric("pkgedge_requests_total", { protocol: "pypi", status: "404" });
    expect((await worker("/pypi/simple/no-such-project/")).status).toBe(404);
    expect(await metric("pkgedge_requests_total", { protocol: "pypi", status: "404" })).toBe(before + 1);
  });
});

describe("storage", () => {
  it("a 20 MiB wheel streams into R2 in parts and comes back byte for byte", { timeout: 60_000 }, async () => {
    const spec: DistSpec = { name: "big-wheel", version: "1.0" };
    const payload = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = (i / 4096) % 251;
    const file = zip([
      ["big_wheel/data.bin", payload],
      ["big_wheel-1.0.dist-info/METADATA", coreMetadata(spec)],
      ["big_wheel-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"],
      ["big_wheel-1.0.dist-info/RECORD", ""],
    ]);
    const res = await upload(spec, file, { token: publisher });
    expect(res.status, await res.text()).toBe(200);
    const listed = (await projectJson("big-wheel"))!.files[0]!;
    expect(listed.size).toBe(file.length);
    const served = await worker(`/pypi/files/big-wheel/${wheelName(spec)}`);
    expect(await hexDigest("SHA-256", new Uint8Array(await served.arrayBuffer()))).toBe(listed.hashes.sha256);
  });

  it("serves no file the project document does not list, even when its bytes are in R2", async () => {
    const spec: DistSpec = { name: "leftover", version: "1.0" };
    expect((await upload(spec, wheel(spec), { token: publisher })).status).toBe(200);
    // What an upload killed before its document write leaves: bytes under a fresh upload id.
    const orphan: DistSpec = { name: "leftover", version: "2.0" };
    await env.BLOBS.put(`pypi/projects/leftover/files/crashed-upload/${wheelName(orphan)}`, wheel(orphan));
    expect((await worker(`/pypi/files/leftover/${wheelName(orphan)}`)).status).toBe(404);
    expect((await projectJson("leftover"))!.versions).toEqual(["1.0"]);
    // The same upload retried lands normally.
    expect((await upload(orphan, wheel(orphan), { token: publisher })).status).toBe(200);
    expect((await worker(`/pypi/files/leftover/${wheelName(orphan)}`)).status).toBe(200);
  });
});
