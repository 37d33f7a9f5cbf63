// Who may publish: a token with the publish scope, limited to its package patterns. Anything else
// is a 401 (no valid credentials) or a 403 (valid, but not allowed), and stores nothing.
import { describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { expectNoPackage, expectNpmError } from "../../helpers/npm-expect";
import { createToken, revokeToken } from "../../helpers/tokens";

const npm = new NpmClient();
const INVALID_TOKEN = /invalid, expired or revoked token/;

/** Publishing `name` with this token is refused with `status`, and leaves no trace. */
async function expectPublishRefused(token: string | undefined, name: string, status: number, message: RegExp): Promise<void> {
  await expectNpmError(await npm.as(token).publish(name, "1.0.0"), status, message);
  await expectNoPackage(npm, name);
}

describe("publish authorization", () => {
  it("answers 401 without a token", async () => {
    await expectPublishRefused(undefined, "no-token", 401, /authentication required to publish/);
  });

  it("answers 403 for a read-only token", async () => {
    const { token } = await createToken({ scopes: ["read"] });
    await expectPublishRefused(token, "read-only", 403, /token may not publish read-only/);
  });

  it("holds a token to its package patterns", async () => {
    const { token } = await createToken({ scopes: ["publish"], packages: ["@acme/*"] });
    await expectPublishRefused(token, "left-pad", 403, /token may not publish left-pad/);
    await expectPublishRefused(token, "@other/x", 403, /token may not publish @other\/x/);
    expect((await npm.as(token).publish("@acme/x", "1.0.0")).status).toBe(201);
    expect((await npm.getPackument("@acme/x")).status).toBe(200);
  });

  it("answers 401 for a revoked token right after revocation", async () => {
    const { id, token } = await createToken({ scopes: ["publish"] });
    // Used once first, so this isolate has the token in its verification cache.
    expect((await npm.as(token).publish("before-revocation", "1.0.0")).status).toBe(201);
    await revokeToken(id);
    await expectPublishRefused(token, "after-revocation", 401, INVALID_TOKEN);
  });

  it("answers 401 for an expired token", async () => {
    const { token } = await createToken({ scopes: ["publish"], expiresIn: 1 });
    expect((await npm.as(token).publish("before-expiry", "1.0.0")).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1200));
    await expectPublishRefused(token, "after-expiry", 401, INVALID_TOKEN);
  });

  it.each([
    ["garbage", "garbage"],
    ["well-formed but unknown", `pke_${"A".repeat(40)}`],
  ])("answers 401 for a %s token", async (what, token) => {
    await expectPublishRefused(token, `${what.split(" ")[0]}-token`, 401, INVALID_TOKEN);
  });

  it("answers 401 for a real token with its last character changed", async () => {
    const { token } = await createToken({ scopes: ["publish"] });
    const forged = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
    await expectPublishRefused(forged, "forged-token", 401, INVALID_TOKEN);
  });
});
