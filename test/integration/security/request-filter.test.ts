// The request filter, seen from a client: methods, URL and header sizes, traversal and encoded
// slashes, and body limits by route class, each answered in the protocol's own error format.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { worker, workerWith } from "../../helpers/worker";

/** Asserts an OCI error envelope with this status and spec code. */
async function expectOciError(res: Response, status: number, code: string): Promise<void> {
  const body = await res.json<{ errors: Array<{ code: string; message: string }> }>();
  expect({ status: res.status, body }).toEqual({ status, body: { errors: [{ code, message: expect.any(String) }] } });
  expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
}

async function expectAdminError(res: Response, status: number): Promise<void> {
  expect([res.status, await res.json()]).toEqual([status, { error: expect.any(String) }]);
}

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.filter((k) => !k.startsWith("audit/"));
}

let publishToken: string;
beforeAll(async () => {
  publishToken = (await createToken({ scopes: ["publish"] })).token;
});

describe("methods", () => {
  it.each(["OPTIONS", "TRACE", "PROPFIND", "PATCH"])("%s on /npm/ is 405 in npm's format with Allow", async (method) => {
    const res = await worker("/npm/left-pad", { method });
    expect(res.headers.get("allow")).toBe("GET, HEAD, PUT, DELETE, POST");
    await expectNpmError(res, 405, `method ${method} is not allowed`);
  });

  it.each(["OPTIONS", "TRACE", "PROPFIND"])("%s on /v2/ is 405 UNSUPPORTED in the OCI envelope", async (method) => {
    const res = await worker("/v2/library/alpine/manifests/latest", { method });
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE");
    await expectOciError(res, 405, "UNSUPPORTED");
  });

  it.each(["PUT", "PATCH", "OPTIONS"])("%s on /_/ is 405 even with the admin secret", async (method) => {
    const res = await worker("/_/tokens", { method, headers: bearer(ADMIN_SECRET) });
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST, DELETE");
    await expectAdminError(res, 405);
  });

  it("lets every method a protocol uses reach its router", async () => {
    expect((await worker("/npm/-/ping")).status).toBe(200);
    expect((await worker("/npm/-/ping", { method: "HEAD" })).status).toBe(200);
    expect((await worker("/_/health", { method: "HEAD" })).status).toBe(200);
    // Not refused by the filter: the router answers (404 for an unknown npm POST).
    expect((await worker("/npm/-/npm/v1/security/audits/quick", { method: "POST", body: "{}" })).status).toBe(404);
    expect((await worker("/v2/library/alpine/blobs/uploads/x", { method: "PATCH", body: "abc" })).status).not.toBe(405);
  });
});

describe("URL and header sizes", () => {
  it("answers 414 to a URL over MAX_URL_LENGTH, in each protocol's format", async () => {
    await expectNpmError(await worker(`/npm/${"a".repeat(9000)}`), 414, "the limit is 8192");
    await expectOciError(await worker(`/v2/${"a".repeat(9000)}/tags/list`), 414, "UNSUPPORTED");
    await expectAdminError(await worker(`/_/health?${"q".repeat(9000)}`), 414);
  });

  it("passes a URL just under the limit on to the router", async () => {
    const path = `/npm/${"A".repeat(200)}?pad=${"x".repeat(8192 - 300)}`;
    expect(`http://pkgedge.test${path}`.length).toBeLessThanOrEqual(8192);
    await expectNpmError(await worker(path), 400, "invalid package name");
  });

  it("answers 431 to a header block over MAX_HEADER_BYTES", async () => {
    await expectNpmError(await worker("/npm/left-pad", { headers: { "x-pad": "p".repeat(17_000) } }), 431, "the limit is 16384");
    // Many small headers add up the same way.
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v".repeat(90)]));
    await expectOciError(await worker("/v2/", { headers: many }), 431, "UNSUPPORTED");
    expect((await worker("/npm/-/ping", { headers: { "x-pad": "p".repeat(8000) } })).status).toBe(200);
  });
});

describe("paths", () => {
  // Each is sent as a publish (PUT with a publish token): none may store anything.
  const NPM_HOSTILE = [
    "/npm/%252e%252e/_/tokens", // double-encoded dot segment
    "/npm/..%2f..%2f_%2ftokens", // encoded slashes around dots
    "/npm/%2e%2e%2fescape", // encoded dots and slash in one segment
    "/npm/%40acme%2f..", // scope with a dot-segment name
    "/npm/@acme%2f..%2fother", // two encoded slashes
    "/npm/@acme%252fpkg", // double-encoded slash
    "/npm/left-pad%5c..%5cetc", // encoded backslash
    "/npm/left-pad%00.tgz", // NUL
    "/npm/left%0d%0apad", // CR LF (header injection)
    "/npm/left%7fpad", // DEL
    "/npm/left%c0%ae%c0%aepad", // overlong UTF-8 dots
    "/npm/left%zzpad", // malformed escape
    "/npm/left-pad/-/left-pad%2f..%2f..%2fx.tgz",
  ];

  it.each(NPM_HOSTILE)("refuses %s with an npm 400 and stores nothing", async (path) => {
    const before = await allKeys();
    const res = await worker(path, { method: "PUT", headers: { ...bearer(publishToken), "content-type": "application/json" }, body: "{}" });
    await expectNpmError(res, 400, /^refused: /);
    await expectNpmError(await worker(path), 400, /^refused: /);
    expect(await allKeys()).toEqual(before);
  });

  it.each([
    "/v2/library%2falpine/manifests/latest",
    "/v2/library/alpine/manifests/%252e%252e",
    "/v2/library/alpine%5c..%5cx/tags/list",
    "/v2/library/alpine/blobs/sha256%3a%00",
    "/v2/a%252fb/blobs/uploads/",
  ])("refuses %s with 400 NAME_INVALID in the OCI envelope", async (path) => {
    const before = await allKeys();
    await expectOciError(await worker(path, { method: "PUT", headers: bearer(publishToken), body: "{}" }), 400, "NAME_INVALID");
    await expectOciError(await worker(path), 400, "NAME_INVALID");
    expect(await allKeys()).toEqual(before);
  });

  it.each(["/_/tokens/..%2f..%2fhealth", "/_/tokens/%252e%252e", "/_/audit%00"])("refuses %s on the admin API", async (path) => {
    await expectAdminError(await worker(path, { headers: bearer(ADMIN_SECRET) }), 400);
  });

  it("keeps npm's own `@scope%2fname` working, in either case", async () => {
    const npm = new NpmClient(worker, publishToken);
    expect((await npm.publish("@filter/ok", "1.0.0")).status).toBe(201);
    expect((await worker("/npm/@filter%2fok")).status).toBe(200);
    expect((await worker("/npm/@filter%2Fok")).status).toBe(200);
    expect((await worker("/npm/-/package/@filter%2fok/dist-tags")).status).toBe(200);
  });
});

describe("body sizes by route class (Content-Length)", () => {
  const big = (n: number) => new Uint8Array(n).fill(0x20);

  it("holds an npm publish to MAX_PUBLISH_BYTES before reading it", async () => {
    const small = workerWith({ MAX_PUBLISH_BYTES: "4096" });
    const token = (await createToken({ scopes: ["publish"] }, small)).token;
    // Called without the runtime's own request serialisation, so the length is declared by hand.
    const res = await small("/npm/too-big", { method: "PUT", headers: { ...bearer(token), "content-type": "application/json", "content-length": "5000" }, body: big(5000) });
    await expectNpmError(res, 413, "exceeds the limit of 4096 bytes for this route");
    expect(await allKeys()).not.toContain("npm/too-big/package.json");
  });

  it("holds dist-tags, admin calls and OCI manifests to their smaller limits", async () => {
    const tag = await worker("/npm/-/package/x/dist-tags/beta", { method: "PUT", headers: bearer(publishToken), body: big(1024 * 1024 + 1) });
    await expectNpmError(tag, 413, "limit of 1048576 bytes");
    const adminCall = await worker("/_/tokens", { method: "POST", headers: bearer(ADMIN_SECRET), body: big(1024 * 1024 + 1) });
    await expectAdminError(adminCall, 413);
    const manifest = await worker("/v2/library/alpine/manifests/latest", {
      method: "PUT",
      headers: { ...bearer(publishToken), "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: big(4 * 1024 * 1024 + 1),
    });
    await expectOciError(manifest, 413, "SIZE_INVALID");
  });

  it("leaves OCI blob uploads to their streaming path", async () => {
    const res = await worker("/v2/library/alpine/blobs/uploads/00000000-0000-0000-0000-000000000000", { method: "PATCH", headers: bearer(publishToken), body: big(2 * 1024 * 1024) });
    expect(res.status).not.toBe(413);
    await res.body?.cancel();
  });
});
