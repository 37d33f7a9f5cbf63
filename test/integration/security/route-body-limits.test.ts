// Each route's body limit, from the declared Content-Length, as a client meets it: the router
// picks the limit, so a repository whose name contains `blobs/uploads` or `manifests` gets the
// limit of the route it is really calling, publishes get MAX_PUBLISH_BYTES, blob uploads stream,
// and every other route takes MAX_REQUEST_BODY_BYTES. Limits are small here so bodies stay small.
import { beforeAll, describe, expect, it } from "vitest";
import { expectNpmError } from "../../helpers/npm-expect";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const limited = workerWith({ MAX_PUBLISH_BYTES: "4000", OCI_MAX_MANIFEST_BYTES: "3000", MAX_REQUEST_BODY_BYTES: "2000" });

let token: string;
beforeAll(async () => {
  token = (await createToken({ scopes: ["publish"] }, limited)).token;
});

/** A request with a body of `size` bytes and that Content-Length (app.fetch does not add one). */
function send(path: string, method: string, size: number, auth = bearer(token)): Promise<Response> {
  return limited(path, { method, headers: { ...auth, "content-type": "application/json", "content-length": String(size) }, body: new Uint8Array(size).fill(0x20) });
}

/** The status, and the limit the 413 message names (null for any other answer). */
async function outcome(res: Response): Promise<{ status: number; limit: number | null }> {
  const text = await res.text();
  const m = /exceeds the limit of (\d+) bytes for this route/.exec(text);
  return { status: res.status, limit: res.status === 413 && m ? Number(m[1]) : null };
}

describe("body limits by route", () => {
  it.each([
    ["npm publish", "/npm/sized", "PUT", 4000],
    ["npm publish of a scoped package", "/npm/@scope%2fsized", "PUT", 4000],
    ["npm metadata update (-rev)", "/npm/sized/-rev/1-abc", "PUT", 4000],
    ["npm dist-tag move", "/npm/-/package/sized/dist-tags/beta", "PUT", 2000],
    ["npm unpublish", "/npm/sized/-rev/1-abc", "DELETE", 2000],
    ["OCI manifest", "/v2/library/sized/manifests/latest", "PUT", 3000],
    ["OCI manifest of a repository named .../blobs/uploads", "/v2/a/blobs/uploads/manifests/latest", "PUT", 3000],
    ["OCI blob delete", "/v2/library/sized/blobs/sha256:00", "DELETE", 2000],
  ])("%s: refused one byte over its limit", async (_what, path, method, limit) => {
    expect(await outcome(await send(path, method, limit + 1))).toEqual({ status: 413, limit });
  });

  it("answers an admin call over the limit in the admin format", async () => {
    const res = await send("/_/tokens", "POST", 2001, bearer(ADMIN_SECRET));
    expect([res.status, await res.json()]).toEqual([413, { error: "request body of 2001 bytes exceeds the limit of 2000 bytes for this route" }]);
  });

  it("answers an OCI manifest over the limit with SIZE_INVALID", async () => {
    const res = await send("/v2/library/sized/manifests/latest", "PUT", 3001);
    expect([res.status, await res.json()]).toEqual([413, { errors: [{ code: "SIZE_INVALID", message: expect.stringContaining("limit of 3000 bytes") }] }]);
  });

  it.each([
    ["a publish under MAX_PUBLISH_BYTES", "/npm/sized", "PUT", 3000],
    ["an OCI upload start (end-4a)", "/v2/library/sized/blobs/uploads/", "POST", 5000],
    ["an OCI chunk (end-5)", "/v2/library/sized/blobs/uploads/00000000-0000-0000-0000-000000000000", "PATCH", 5000],
    ["an OCI upload close (end-6)", "/v2/library/sized/blobs/uploads/00000000-0000-0000-0000-000000000000", "PUT", 5000],
    ["an OCI chunk to a repository named .../manifests", "/v2/a/manifests/blobs/uploads/00000000-0000-0000-0000-000000000000", "PATCH", 5000],
  ])("lets %s through to its handler", async (_what, path, method, size) => {
    expect(await outcome(await send(path, method, size))).toMatchObject({ limit: null });
  });

  it("refuses a publish over MAX_PUBLISH_BYTES in npm's format", async () => {
    await expectNpmError(await send("/npm/sized", "PUT", 4001), 413, "request body of 4001 bytes exceeds the limit of 4000 bytes for this route");
  });
});
