// Tokens at every region: revocation and expiry are refused everywhere within the documented
// bound (README "Security": TOKEN_CACHE_SECONDS in an isolate that did not revoke it, plus KV's
// edge cache and propagation in production), and the admin secret is compared in constant time.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { secretsEqual } from "../../../shared/auth/tokens";
import { sha256Hex } from "../../../shared/digest";
import { TokenStore } from "../../../shared/origin";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { basic, bearerToken, expectOciError, OciClient, randomImage } from "../../helpers/oci";
import { ADMIN_SECRET, bearer, createToken, revokeToken } from "../../helpers/tokens";
import { workerWith, type Fetch } from "../../helpers/worker";

const REGIONS = ["us-east", "eu-west", "ap-south"] as const;

/** A Fetch that plays one PoP (dev region header). */
const inRegion = (fetch: Fetch, region: string): Fetch => (path, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("x-pkgedge-region", region);
  return fetch(path, { ...init, headers });
};

/** Status of `npm whoami` with this token in each region. */
async function whoamiEverywhere(fetch: Fetch, token: string): Promise<number[]> {
  return Promise.all(REGIONS.map(async (r) => (await inRegion(fetch, r)("/npm/-/whoami", { headers: bearer(token) })).status));
}

describe.each([
  ["the default token cache (30 s)", {}],
  ["TOKEN_CACHE_SECONDS=0", { TOKEN_CACHE_SECONDS: "0" }],
])("revocation through /_/tokens with %s", (_what, vars) => {
  const fetch = workerWith({ ANONYMOUS_READ: "false", ...vars });
  let publisher: { id: string; token: string };
  beforeAll(async () => {
    publisher = await createToken({ name: "soon-revoked", scopes: ["publish"] }, fetch);
    expect((await new NpmClient(fetch, publisher.token).publish(`revoked-${Object.keys(vars).length}`, "1.0.0")).status).toBe(201);
  });

  it("is refused at once in every region, for reads and writes", async () => {
    // Warm every region's view of the token (and the isolate cache) first.
    expect(await whoamiEverywhere(fetch, publisher.token)).toEqual([200, 200, 200]);
    await revokeToken(publisher.id, fetch);
    expect(await whoamiEverywhere(fetch, publisher.token)).toEqual([401, 401, 401]);
    for (const region of REGIONS) {
      const npm = new NpmClient(inRegion(fetch, region), publisher.token);
      await expectNpmError(await npm.getPackument(`revoked-${Object.keys(vars).length}`), 401, "invalid, expired or revoked token");
      await expectNpmError(await npm.publish(`after-revoke-${region}`, "1.0.0"), 401, "invalid, expired or revoked token");
    }
  });
});

describe("revocation by another PoP (this isolate's cache is not told)", () => {
  // One second of isolate cache so the bound can be measured in a test; production uses 30.
  const fetch = workerWith({ TOKEN_CACHE_SECONDS: "1" });

  it("is refused in every region within TOKEN_CACHE_SECONDS", async () => {
    const { token } = await createToken({ scopes: ["read"] }, fetch);
    expect(await whoamiEverywhere(fetch, token)).toEqual([200, 200, 200]);
    // What DELETE /_/tokens/:id does in another isolate: the KV records go, nothing here is told.
    const hash = await sha256Hex(token);
    const record = await new TokenStore(env.TOKENS).findByHash(hash);
    const revokedAt = Date.now();
    expect(await new TokenStore(env.TOKENS).revoke(record!.id)).toBe(hash);
    // The cache is real: right after, this isolate still trusts the token...
    expect(await whoamiEverywhere(fetch, token)).toEqual([200, 200, 200]);
    // ...and within the bound every region refuses it.
    let statuses: number[] = [];
    while (Date.now() - revokedAt < 3000) {
      statuses = await whoamiEverywhere(fetch, token);
      if (statuses.every((s) => s === 401)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const lag = Date.now() - revokedAt;
    expect(statuses).toEqual([401, 401, 401]);
    expect(lag).toBeLessThanOrEqual(1000 + 500);
  });
});

describe("revocation at /v2/", () => {
  // Grants live their default 300 s: revocation, not expiry, must end them.
  const fetch = workerWith({ ANONYMOUS_READ: "false" });

  it("refuses the revoked token and the grants it minted at once in every region", async () => {
    const { id, token } = await createToken({ scopes: ["publish"] }, fetch);
    const image = await randomImage();
    await new OciClient(fetch, basic(token)).pushImage("revoked/app", "v1", image);
    const grant = await bearerToken(["repository:revoked/app:pull"], basic(token), fetch);
    const withGrant = new OciClient(fetch, `Bearer ${grant}`);
    expect((await withGrant.getManifest("revoked/app", "v1")).status).toBe(200);

    await revokeToken(id, fetch);
    for (const region of REGIONS) {
      const oci = new OciClient(fetch, basic(token)).inRegion(region);
      await expectOciError(await oci.getManifest("revoked/app", "v1"), 401, "UNAUTHORIZED");
      await expectOciError(await oci.request("/v2/"), 401, "UNAUTHORIZED");
      await expectOciError(await fetch("/v2/token?service=pkgedge&scope=repository:revoked/app:pull", { headers: { authorization: basic(token), "x-pkgedge-region": region } }), 401, "UNAUTHORIZED");
    }
    // A grant dies with its token: in the revoking isolate at once, in every region.
    for (const region of REGIONS) await expectOciError(await withGrant.inRegion(region).getManifest("revoked/app", "v1"), 401, "UNAUTHORIZED");
  });
});

describe("expiry", () => {
  const fetch = workerWith({});

  it("is enforced in every region even while the token is cached", async () => {
    const { token } = await createToken({ scopes: ["publish"], expiresIn: 1 }, fetch);
    expect(await whoamiEverywhere(fetch, token)).toEqual([200, 200, 200]);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await whoamiEverywhere(fetch, token)).toEqual([401, 401, 401]);
    await expectNpmError(await new NpmClient(fetch, token).publish("published-after-expiry", "1.0.0"), 401, "invalid, expired or revoked token");
  });
});

describe("the admin secret", () => {
  const fetch = workerWith({});

  it("opens the admin API only when it matches exactly", async () => {
    expect((await fetch("/_/tokens", { headers: bearer(ADMIN_SECRET) })).status).toBe(200);
    const near = [ADMIN_SECRET.slice(0, -1), `${ADMIN_SECRET}x`, ADMIN_SECRET.toUpperCase(), `x${ADMIN_SECRET}`, ""];
    for (const guess of near) expect((await fetch("/_/tokens", { headers: bearer(guess) })).status, guess).toBe(401);
    // Basic auth with the secret as the password is the same credential.
    expect((await fetch("/_/tokens", { headers: { authorization: `Basic ${btoa(`any:${ADMIN_SECRET}`)}` } })).status).toBe(200);
  });

  it("is compared by secretsEqual, which is right for equal, unequal and different lengths", async () => {
    expect(await secretsEqual("abc", "abc")).toBe(true);
    expect(await secretsEqual("abc", "abd")).toBe(false);
    expect(await secretsEqual("abc", "abcd")).toBe(false);
    expect(await secretsEqual("", "")).toBe(true);
    expect(await secretsEqual("", "a")).toBe(false);
  });
});

describe("malformed Authorization headers", () => {
  // A header that carries a valid token plus anything else is refused, not read as the token,
  // and a broken one is refused, not quietly treated as anonymous.
  it.each([
    ["a valid Bearer token followed by junk", (t: string) => `Bearer ${t} junk`],
    ["Basic with bytes that are not base64", () => "Basic %%%"],
    ["Basic without a password", () => `Basic ${btoa("user:")}`],
    ["Bearer without a value", () => "Bearer"],
  ])("401 for %s, on npm and OCI", async (_what, header) => {
    const fetch = workerWith({});
    const { token } = await createToken({ scopes: ["read", "publish"] }, fetch);
    const npm = await fetch("/npm/-/whoami", { headers: { authorization: header(token) } });
    await expectNpmError(npm, 401, /invalid, expired or revoked token/);
    await expectOciError(await fetch("/v2/", { headers: { authorization: header(token) } }), 401, "UNAUTHORIZED");
  });

  it("still reads the token from a well-formed header", async () => {
    const fetch = workerWith({});
    const { token } = await createToken({ scopes: ["read"] }, fetch);
    expect((await fetch("/npm/-/whoami", { headers: { authorization: `  Bearer   ${token} ` } })).status).toBe(200);
  });
});
