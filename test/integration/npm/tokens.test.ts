// The admin token API and how tokens are kept: only the admin secret (or an admin token) may use
// it, secrets are shown once, and KV holds nothing but their SHA-256.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectNpmError } from "../../helpers/npm-expect";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { worker } from "../../helpers/worker";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Buffer.from(digest).toString("hex");
}

const listTokens = (headers: Record<string, string> = bearer(ADMIN_SECRET)) => worker("/_/tokens", { headers });

describe("admin token API", () => {
  it.each([
    ["no credentials", {}, /send the admin secret/],
    ["a wrong secret", bearer("not-the-admin-secret"), /invalid, expired or revoked token/],
    ["the secret as Basic auth with a typo", { authorization: `Basic ${btoa(`admin:${ADMIN_SECRET}x`)}` }, /invalid/],
  ])("answers 401 with %s", async (_what, headers, message) => {
    const before = (await env.TOKENS.list()).keys.length;
    await expectNpmError(await listTokens(headers), 401, message);
    const create = await worker("/_/tokens", { method: "POST", headers, body: JSON.stringify({ name: "x", scopes: ["admin"] }) });
    await expectNpmError(create, 401, message);
    expect((await env.TOKENS.list()).keys).toHaveLength(before);
  });

  it("answers 403 to a token without the admin scope", async () => {
    const { token } = await createToken({ scopes: ["publish", "read"] });
    await expectNpmError(await listTokens(bearer(token)), 403, /admin scope/);
  });

  it("creates tokens of the documented format and stores only their SHA-256", async () => {
    const { id, token } = await createToken({ name: "ci", scopes: ["publish"], packages: ["@acme/*"] });
    expect(token).toMatch(/^pke_[A-Za-z0-9]{32,}$/);

    const { keys } = await env.TOKENS.list();
    const values = await Promise.all(keys.map((k) => env.TOKENS.get(k.name)));
    const everything = JSON.stringify({ keys, values });
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(4));
    expect(keys.map((k) => k.name)).toContain(`token:${await sha256Hex(token)}`);
    expect(everything).toContain(id);
  });

  it("never lists secrets or their hashes", async () => {
    const created = await Promise.all([createToken({ scopes: ["read"] }), createToken({ scopes: ["publish"], expiresIn: 3600 })]);
    const res = await listTokens();
    expect(res.status).toBe(200);
    const text = await res.text();
    const { tokens } = JSON.parse(text) as { tokens: Array<Record<string, unknown>> };
    expect(tokens.map((t) => t.id)).toEqual(expect.arrayContaining(created.map((c) => c.id)));
    for (const t of tokens) expect(Object.keys(t).sort()).toEqual(expect.not.arrayContaining(["token", "hash", "secret"]));
    for (const { token } of created) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(await sha256Hex(token));
    }
  });

  it("refuses malformed token requests with 400", async () => {
    const post = (body: unknown) => worker("/_/tokens", { method: "POST", headers: bearer(ADMIN_SECRET), body: JSON.stringify(body) });
    await expectNpmError(await post({ name: "x", scopes: ["root"] }), 400, /scopes must be/);
    await expectNpmError(await post({ name: "x", scopes: ["read"], expiresIn: -1 }), 400, /expiresIn/);
    await expectNpmError(await post({ name: "", scopes: ["read"] }), 400, /name must be/);
  });

  it("answers 404 when revoking an unknown id", async () => {
    await expectNpmError(await worker(`/_/tokens/${crypto.randomUUID()}`, { method: "DELETE", headers: bearer(ADMIN_SECRET) }), 404, /no token with that id/);
  });
});
