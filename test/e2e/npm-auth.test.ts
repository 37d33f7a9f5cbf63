// Who may publish what, as npm users meet it: no token, a read-only token, and a token limited
// to one scope. Rejected publishes must leave nothing behind.
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeRun, packagePath, rawPublish, startRegistry, statusOf, type Registry } from "./helpers";

let registry: Registry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(() => registry?.stop());

/** The package is unknown to the registry: a rejected publish left no trace. */
async function expectNotPublished(name: string): Promise<void> {
  expect(await statusOf(`${registry.npmUrl}${packagePath(name)}`), `GET ${name} after a rejected publish`).toBe(404);
}

test("publishing with no token fails with 401", async () => {
  const pkg = { name: "anonymous-pkg", version: "1.0.0" };
  // npm refuses before asking the registry (ENEEDAUTH)...
  const cli = await registry.publish(pkg);
  expect(cli.code, describeRun("npm publish", cli)).not.toBe(0);
  expect(cli.stderr).toMatch(/ENEEDAUTH/);
  // ...so the registry's own answer is checked with the same document npm would send.
  const raw = await rawPublish(registry, pkg);
  expect(raw.status).toBe(401);
  expect(raw.headers.get("www-authenticate")).toMatch(/^Bearer/);
  expect(await raw.json()).toEqual({ error: expect.any(String) });
  await expectNotPublished(pkg.name);
});

test("publishing with an unknown token fails with 401", async () => {
  const pkg = { name: "forged-pkg", version: "1.0.0" };
  const cli = await registry.publish(pkg, "pke_ForgedForgedForgedForgedForgedForged00");
  expect(cli.code, describeRun("npm publish", cli)).not.toBe(0);
  expect(cli.stderr).toMatch(/E401/);
  await expectNotPublished(pkg.name);
});

test("publishing with a read-only token fails with 403", async () => {
  const token = await registry.createToken({ name: "e2e-reader", scopes: ["read"] });
  const pkg = { name: "read-only-pkg", version: "1.0.0" };
  const cli = await registry.publish(pkg, token);
  expect(cli.code, describeRun("npm publish", cli)).not.toBe(0);
  expect(cli.stderr).toMatch(/E403/);
  expect(cli.stderr).toMatch(/403 Forbidden - PUT \S+\/npm\/read-only-pkg - \S/);

  const raw = await rawPublish(registry, pkg, token);
  expect(raw.status).toBe(403);
  expect(await raw.json()).toEqual({ error: expect.any(String) });
  await expectNotPublished(pkg.name);
});

test("a token limited to @acme/* publishes @acme/x but not an unscoped package", async () => {
  const token = await registry.createToken({ name: "e2e-acme", scopes: ["read", "publish"], packages: ["@acme/*"] });

  const outside = { name: "not-acme", version: "1.0.0" };
  const refused = await registry.publish(outside, token);
  expect(refused.code, describeRun("npm publish not-acme", refused)).not.toBe(0);
  expect(refused.stderr).toMatch(/E403/);
  expect(refused.stderr).toContain("not-acme");
  await expectNotPublished(outside.name);

  const inside = { name: "@acme/x", version: "1.0.0" };
  const published = await registry.publish(inside, token);
  expect(published.code, describeRun("npm publish @acme/x", published)).toBe(0);
  expect(published.stdout).toContain("+ @acme/x@1.0.0");

  const viewed = await registry.npm(["view", "@acme/x", "version"]);
  expect(viewed.code, describeRun("npm view @acme/x", viewed)).toBe(0);
  expect(viewed.stdout.trim()).toBe("1.0.0");
});
