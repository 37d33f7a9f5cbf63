// A token's package list limits it; an empty list never means "every name": it is refused at
// creation, and a stored one (written by an older release) matches nothing on npm or OCI.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateToken } from "../../../shared/auth/tokens";
import { TokenStore } from "../../../shared/origin";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { basic, bearerToken, expectOciError, OciClient, randomImage } from "../../helpers/oci";
import { ADMIN_SECRET, bearer } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({});

/** The key TokenStore files a secret under: its SHA-256 in hex. */
async function hashOf(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("an empty package list", () => {
  it("is refused with 400 on token creation, and no token is made", async () => {
    const before = (await (await fetch("/_/tokens", { headers: bearer(ADMIN_SECRET) })).json<{ tokens: unknown[] }>()).tokens.length;
    const res = await fetch("/_/tokens", { method: "POST", headers: bearer(ADMIN_SECRET), body: JSON.stringify({ name: "empty", scopes: ["publish"], packages: [] }) });
    await expectNpmError(res, 400, /packages must name at least one pattern/);
    expect((await (await fetch("/_/tokens", { headers: bearer(ADMIN_SECRET) })).json<{ tokens: unknown[] }>()).tokens.length).toBe(before);
  });

  it("stored anyway, matches no npm package and no repository", async () => {
    const secret = generateToken();
    await new TokenStore(env.TOKENS).put(await hashOf(secret), { id: crypto.randomUUID(), name: "legacy-empty", scopes: ["publish"], packages: [], createdAt: new Date().toISOString() });
    await expectNpmError(await new NpmClient(fetch, secret).publish("any-name-at-all", "1.0.0"), 403, /token may not publish any-name-at-all/);
    await expectOciError(await new OciClient(fetch, basic(secret)).request("/v2/any/repo/blobs/uploads/", { method: "POST" }), 403, "DENIED");
    // The token endpoint grants it nothing to push, and the grant pushes nothing.
    const grant = await bearerToken(["repository:any/repo:pull,push"], basic(secret), fetch);
    const viaGrant = new OciClient(fetch, `Bearer ${grant}`);
    await expect(viaGrant.pushImage("any/repo", "v1", await randomImage())).rejects.toThrow(/401/);
  });
});

describe("expiresIn", () => {
  it.each([1e300, Number.MAX_SAFE_INTEGER, 1e12])("of %d seconds is a 400, not a 500", async (expiresIn) => {
    const res = await fetch("/_/tokens", { method: "POST", headers: bearer(ADMIN_SECRET), body: JSON.stringify({ name: "far", scopes: ["read"], expiresIn }) });
    await expectNpmError(res, 400, /expiresIn must be a positive number of seconds, at most/);
  });

  it("of ten years is accepted", async () => {
    const res = await fetch("/_/tokens", { method: "POST", headers: bearer(ADMIN_SECRET), body: JSON.stringify({ name: "decade", scopes: ["read"], expiresIn: 10 * 365 * 24 * 3600 }) });
    expect(res.status).toBe(201);
  });
});
