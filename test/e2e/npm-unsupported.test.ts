// Commands pkgedge does not serve, run with the real npm: each fails with one line from pkgedge
// that says why and what to do instead, not a bare 404 or a generic npm message.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, publishAll, startRegistry, type Registry } from "./helpers";

let registry: Registry;
let token: string;

beforeAll(async () => {
  registry = await startRegistry();
  token = await registry.createToken({ name: "e2e-unsupported", scopes: ["read", "publish"] });
  await publishAll(registry, token, [{ name: "plain-pkg", version: "1.0.0" }]);
});
afterAll(() => registry?.stop());

const cases: Array<{ args: string[]; says: RegExp }> = [
  { args: ["owner", "add", "someone", "plain-pkg"], says: /pkgedge has no user accounts, owners or teams/ },
  { args: ["access", "list", "packages"], says: /pkgedge has no user accounts, owners or teams/ },
  { args: ["access", "list", "collaborators", "plain-pkg"], says: /set per token/ },
  { args: ["team", "ls", "acme"], says: /pkgedge has no user accounts, owners or teams/ },
  { args: ["star", "plain-pkg"], says: /pkgedge does not keep stars/ },
  { args: ["profile", "get"], says: /pkgedge has no user profiles/ },
];

describe("npm commands pkgedge does not serve", () => {
  test.each(cases)("npm $args.0 $args.1 says why", async ({ args, says }) => {
    const r = await registry.sandbox(token).npm(args);
    expect(r.code, describeRun(`npm ${args.join(" ")}`, r)).not.toBe(0);
    expect(r.output).toMatch(says);
  });

  test("npm audit says pkgedge serves no advisories and what to do", async () => {
    const client = registry.sandbox(token);
    const install = await client.npm(["install", "plain-pkg", "--package-lock-only"]);
    expect(install.code, describeRun("npm install --package-lock-only", install)).toBe(0);
    const r = await client.npm(["audit"]);
    expect(r.code).not.toBe(0);
    expect(r.output, describeRun("npm audit", r)).toMatch(/serves no security advisories/);
  });
});
