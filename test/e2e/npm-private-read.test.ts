// A registry started with ANONYMOUS_READ=false: npm needs a read token to install, and what an
// authorized request put in the caches (L1 Cache API, regional shields) is never handed to a
// request without a token.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ABBREVIATED_ACCEPT, CHAIN, CHAIN_OUTPUT, describeRun, get, packagePath, publishAll, startRegistry, type Registry } from "./helpers";

let registry: Registry;
let readToken: string;

beforeAll(async () => {
  registry = await startRegistry({ ANONYMOUS_READ: "false" });
  const publishToken = await registry.createToken({ name: "e2e-private-publisher", scopes: ["publish"] });
  await publishAll(registry, publishToken, CHAIN);
  readToken = await registry.createToken({ name: "e2e-private-reader", scopes: ["read"] });
});
afterAll(() => registry?.stop());

describe("npm install", () => {
  test("works with a read token", async () => {
    const client = registry.sandbox(readToken);
    const install = await client.npm(["install", "a"]);
    expect(install.code, describeRun("npm install a", install)).toBe(0);
    const program = await client.node("console.log(require('a'))");
    expect(program.code, describeRun("node", program)).toBe(0);
    expect(program.stdout.trim()).toBe(CHAIN_OUTPUT);
  });

  test("fails with E401 without a token, installing nothing", async () => {
    const client = registry.sandbox();
    const install = await client.npm(["install", "a"]);
    expect(install.code, describeRun("npm install a", install)).not.toBe(0);
    expect(install.stderr).toMatch(/E401/);
    const program = await client.node("require('a')");
    expect(program.code).not.toBe(0);
    expect(program.stderr).toContain("Cannot find module 'a'");
  });
});

describe("no cache leak: reads warmed by a token still need one", () => {
  const resources = [
    { what: "full packument", path: "a", accept: "application/json" },
    { what: "abbreviated packument", path: "a", accept: ABBREVIATED_ACCEPT },
    { what: "scoped packument", path: packagePath("@acme/c"), accept: ABBREVIATED_ACCEPT },
    { what: "tarball", path: "a/-/a-1.0.0.tgz", accept: "*/*" },
    { what: "scoped tarball", path: "@acme/c/-/c-1.0.0.tgz", accept: "*/*" },
  ];

  test.each(resources)("$what", async ({ path, accept }) => {
    const url = `${registry.npmUrl}${path}`;
    // Twice with the token: the second answer comes from the caches the first one filled.
    for (const round of ["first", "second"]) {
      const res = await get(url, { token: readToken, accept });
      expect(res.status, `${round} authorized GET ${path}`).toBe(200);
      expect(res.headers.get("cache-control")).toMatch(/\bprivate\b/);
      if (round === "second") expect(res.headers.get("x-pkgedge-cache")).toMatch(/HIT/);
      await res.arrayBuffer();
    }
    const anonymous = await get(url, { accept });
    expect(anonymous.status, `anonymous GET ${path}`).toBe(401);
    expect(await anonymous.json()).toEqual({ error: expect.any(String) });

    const forged = await get(url, { accept, token: "pke_ForgedForgedForgedForgedForgedForged00" });
    expect(forged.status, `GET ${path} with an unknown token`).toBe(401);
    await forged.arrayBuffer();
  });
});
