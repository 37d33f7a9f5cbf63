// The real `npm search` against a live pkgedge: it finds published packages by name, keyword and
// description, prints what npm prints (name, description, version), honours npm's qualifiers,
// and shows a token limited to some packages only those.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, publishAll, startRegistry, type Registry } from "./helpers";

let registry: Registry;
let publisher: string;

beforeAll(async () => {
  registry = await startRegistry({ ANONYMOUS_READ: "false" });
  publisher = await registry.createToken({ name: "e2e-search", scopes: ["read", "publish"] });
  await publishAll(registry, publisher, [
    { name: "left-pad", version: "1.3.0", fields: { description: "String left pad", keywords: ["pad", "string"] } },
    { name: "@acme/pad", version: "2.0.0", fields: { description: "ACME padding", keywords: ["pad", "acme"] } },
    { name: "colors-lite", version: "0.4.0", fields: { description: "Terminal colours", keywords: ["color"] } },
  ]);
});
afterAll(() => registry?.stop());

async function searchJson(args: string[], token = publisher): Promise<Array<{ name: string; version: string; description: string }>> {
  const r = await registry.npm(["search", ...args, "--json"], token);
  expect(r.code, describeRun(`npm search ${args.join(" ")}`, r)).toBe(0);
  return JSON.parse(r.stdout);
}

describe("npm search", () => {
  test("finds a package by a word of its name and prints it as npm does", async () => {
    const r = await registry.npm(["search", "left"], publisher);
    expect(r.code, describeRun("npm search left", r)).toBe(0);
    expect(r.stdout).toMatch(/left-pad/);
    expect(r.stdout).toMatch(/String left pad/);
    expect(r.stdout).toMatch(/1\.3\.0/);
    expect(r.stdout).not.toMatch(/colors-lite/);
  });

  test("--json lists every match with its version and description", async () => {
    const found = await searchJson(["pad"]);
    expect(found.map((p) => p.name).sort()).toEqual(["@acme/pad", "left-pad"]);
    expect(found.find((p) => p.name === "@acme/pad")).toMatchObject({ version: "2.0.0", description: "ACME padding" });
  });

  test("narrows with npm's qualifiers", async () => {
    expect((await searchJson(["keywords:color"])).map((p) => p.name)).toEqual(["colors-lite"]);
    expect((await searchJson(["pad", "scope:acme"])).map((p) => p.name)).toEqual(["@acme/pad"]);
  });

  test("a token limited to @acme/* finds only @acme packages", async () => {
    const limited = await registry.createToken({ name: "e2e-acme-reader", scopes: ["read"], packages: ["@acme/*"] });
    expect((await searchJson(["pad"], limited)).map((p) => p.name)).toEqual(["@acme/pad"]);
  });
});
