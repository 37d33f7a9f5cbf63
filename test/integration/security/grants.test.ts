// OCI bearer grants (/v2/token) are an OCI credential only: npm and the admin API refuse them;
// each counts against the rate limits of the token that minted it; and it dies with that token.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TokenStore } from "../../../shared/origin";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { basic, bearerToken, expectOciError, OciClient, randomImage } from "../../helpers/oci";
import { bearer, createToken, revokeToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

describe("grants on npm routes", () => {
  const fetch = workerWith({});

  it("are refused as credentials: whoami, reads and publishes answer 401", async () => {
    const { token } = await createToken({ scopes: ["publish"] }, fetch);
    expect((await new NpmClient(fetch, token).publish("grant-target", "1.0.0")).status).toBe(201);
    const grant = await bearerToken(["repository:grant-target:pull,push"], basic(token), fetch);
    const viaGrant = new NpmClient(fetch, grant);
    await expectNpmError(await viaGrant.request("/npm/-/whoami"), 401, /invalid, expired or revoked token/);
    await expectNpmError(await viaGrant.getPackument("grant-target"), 401, /invalid, expired or revoked token/);
    await expectNpmError(await viaGrant.publish("grant-target", "1.0.1"), 401, /invalid, expired or revoked token/);
    expect((await fetch("/_/tokens", { headers: bearer(grant) })).status).toBe(401);
    // The token itself still works.
    expect((await new NpmClient(fetch, token).request("/npm/-/whoami")).status).toBe(200);
  });
});

describe("grants and the token's rate limit", () => {
  const fetch = workerWith({ RATE_LIMIT_TOKEN: "10/60s" });

  it("count against the token that minted them, on OCI routes", async () => {
    const { token } = await createToken({ scopes: ["publish"] }, fetch);
    const grant = await bearerToken(["repository:limited/app:pull"], basic(token), fetch);
    const viaGrant = new OciClient(fetch, `Bearer ${grant}`);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await viaGrant.request("/v2/");
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    // The token endpoint call spent one of the ten; the grant spends the rest and then gets 429.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(10);
    expect(statuses.at(-1)).toBe(429);
    const refused = await viaGrant.request("/v2/");
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    await expectOciError(refused, 429, "TOOMANYREQUESTS");
    // The token meets the same limit: it is one budget.
    expect((await new NpmClient(fetch, token).request("/npm/-/whoami")).status).toBe(429);
  });
});

describe("grants and revocation", () => {
  const fetch = workerWith({ ANONYMOUS_READ: "false" });

  it("a grant stops working at once when its token is revoked, in every region", async () => {
    const { id, token } = await createToken({ scopes: ["publish"] }, fetch);
    const image = await randomImage();
    const grant = await bearerToken(["repository:revoked-grant/app:pull,push"], basic(token), fetch);
    const viaGrant = new OciClient(fetch, `Bearer ${grant}`);
    await viaGrant.pushImage("revoked-grant/app", "v1", image);
    expect((await viaGrant.getManifest("revoked-grant/app", "v1")).status).toBe(200);
    await revokeToken(id, fetch);
    for (const region of ["us-east", "eu-west", "ap-south"]) {
      await expectOciError(await viaGrant.inRegion(region).getManifest("revoked-grant/app", "v1"), 401, "UNAUTHORIZED");
      await expect(viaGrant.inRegion(region).pushManifest("revoked-grant/app", "v2", image.manifest)).rejects.toThrow(/: 401 .*UNAUTHORIZED/);
    }
  });

  it("a grant ends when its token expires, though the grant itself lives longer", async () => {
    const { token } = await createToken({ scopes: ["read"], expiresIn: 1 }, fetch);
    const grant = await bearerToken(["repository:expiring/app:pull"], basic(token), fetch);
    const viaGrant = new OciClient(fetch, `Bearer ${grant}`);
    expect((await viaGrant.request("/v2/")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    await expectOciError(await viaGrant.request("/v2/"), 401, "UNAUTHORIZED");
  });
});

describe("grants and revocation by another PoP (this isolate's cache is not told)", () => {
  const fetch = workerWith({ ANONYMOUS_READ: "false", TOKEN_CACHE_SECONDS: "1" });

  it("a grant is refused in every region within TOKEN_CACHE_SECONDS", async () => {
    const { id, token } = await createToken({ scopes: ["read"] }, fetch);
    const grant = await bearerToken(["repository:elsewhere/app:pull"], basic(token), fetch);
    const viaGrant = new OciClient(fetch, `Bearer ${grant}`);
    const everywhere = () => Promise.all(["us-east", "eu-west", "ap-south"].map(async (r) => {
      const res = await viaGrant.inRegion(r).request("/v2/");
      await res.arrayBuffer();
      return res.status;
    }));
    expect(await everywhere()).toEqual([200, 200, 200]);
    // What DELETE /_/tokens/:id does in another isolate: the KV records go, nothing here is told.
    await new TokenStore(env.TOKENS).revoke(id);
    const revokedAt = Date.now();
    let statuses: number[] = [];
    while (Date.now() - revokedAt < 3000) {
      statuses = await everywhere();
      if (statuses.every((s) => s === 401)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statuses).toEqual([401, 401, 401]);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(1000 + 500);
  }, 15_000);
});
