// npm search (GET /npm/-/v1/search): words find packages by name, keywords, description and
// people, ranked with an exact name first; npm's qualifiers narrow the results; size and from
// page them; the index follows publishes, deprecations and unpublishes; and a caller only ever
// sees, or counts, names it may read.
import { beforeAll, describe, expect, it } from "vitest";
import { manifestOf, publishBody } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { createToken } from "../../helpers/tokens";
import { workerWith, type Fetch } from "../../helpers/worker";

interface Results {
  objects: Array<{ package: { name: string; version: string; description: string; keywords: string[]; scope: string; links: { npm: string } }; score: { final: number }; flags?: { deprecated?: boolean; unstable?: boolean } }>;
  total: number;
}

const fetch = workerWith({});
let npm: NpmClient;

async function publish(name: string, version: string, fields: Record<string, unknown>): Promise<void> {
  const body = await publishBody(name, version);
  Object.assign(manifestOf(body), fields);
  const res = await npm.putPackument(name, body);
  expect(res.status, await res.clone().text()).toBe(201);
}

async function search(text: string, params: Record<string, string> = {}, via: Fetch = fetch, headers: Record<string, string> = {}): Promise<Results> {
  const res = await via(`/npm/-/v1/search?${new URLSearchParams({ text, ...params })}`, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Results>();
}
const names = (r: Results) => r.objects.map((o) => o.package.name);

beforeAll(async () => {
  const { token } = await createToken({ scopes: ["publish"] });
  npm = new NpmClient(fetch, token);
  await publish("left-pad", "1.3.0", { description: "String left pad", keywords: ["pad", "string"] });
  await publish("pad-utils", "0.2.0", { description: "Helpers around left-pad", keywords: ["pad"] });
  await publish("@acme/pad", "2.0.0", { description: "ACME padding", keywords: ["pad", "acme"] });
  await publish("colors-lite", "1.0.0", { description: "Terminal colours", keywords: ["color", "terminal"] });
});

describe("npm search", () => {
  it("finds packages by a word of their name, and ranks the exact name first", async () => {
    const r = await search("left-pad");
    expect(names(r)[0]).toBe("left-pad");
    expect(names(r)).toContain("pad-utils"); // mentions left-pad in its description
    expect(r.objects[0]!.package).toMatchObject({ name: "left-pad", version: "1.3.0", description: "String left pad", keywords: ["pad", "string"], scope: "unscoped" });
    expect(r.objects[0]!.package.links.npm).toBe("http://pkgedge.test/npm/left-pad");
    expect(r.objects[0]!.score.final).toBe(1);
  });

  it("matches word prefixes, keywords and descriptions", async () => {
    expect(names(await search("colo"))).toEqual(["colors-lite"]);
    expect(names(await search("terminal"))).toEqual(["colors-lite"]);
    expect(names(await search("padding"))).toEqual(["@acme/pad"]);
  });

  it("narrows by npm's qualifiers", async () => {
    expect(names(await search("pad scope:acme"))).toEqual(["@acme/pad"]);
    expect(names(await search("keywords:string,color")).sort()).toEqual(["colors-lite", "left-pad"]);
    expect(names(await search("keywords:pad+acme"))).toEqual(["@acme/pad"]);
    expect(names(await search("keywords:pad,-acme")).sort()).toEqual(["left-pad", "pad-utils"]);
    expect(names(await search("pad is:unstable"))).toEqual(["pad-utils"]);
    expect(names(await search("pad not:unstable")).sort()).toEqual(["@acme/pad", "left-pad"]);
    expect((await search("pad is:insecure")).total).toBe(0);
  });

  it("pages with size and from, and counts every match in total", async () => {
    const all = await search("pad");
    expect(all.total).toBe(3);
    const first = await search("pad", { size: "2" });
    const rest = await search("pad", { size: "2", from: "2" });
    expect([first.total, first.objects.length, rest.objects.length]).toEqual([3, 2, 1]);
    expect([...names(first), ...names(rest)]).toEqual(names(all));
  });

  it("refuses a size past npm's 250, and an unknown qualifier, with npm's JSON error", async () => {
    for (const query of ["text=pad&size=251", "text=is:shiny"]) {
      const res = await fetch(`/npm/-/v1/search?${query}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toHaveProperty("error");
    }
  });

  it("follows deprecations, new versions and unpublishes", async () => {
    await publish("search-moves", "1.0.0", { description: "first words" });
    expect(names(await search("first"))).toEqual(["search-moves"]);
    await publish("search-moves", "1.1.0", { description: "second words" });
    expect(names(await search("first"))).toEqual([]);
    expect((await search("second")).objects[0]!.package.version).toBe("1.1.0");

    const doc = await npm.packument("search-moves");
    doc.versions["1.1.0"]!.deprecated = "use something else";
    expect((await npm.putPackument("search-moves", doc, doc._rev)).status).toBe(200);
    expect((await search("second")).objects[0]!.flags).toEqual({ deprecated: true });
    expect(names(await search("second not:deprecated"))).toEqual([]);

    const { _rev } = await npm.packument("search-moves");
    expect((await npm.deletePackage("search-moves", _rev)).status).toBe(200);
    expect((await search("second")).total).toBe(0);
  });
});

describe("npm search and access", () => {
  it("lists and counts only names the caller may read", async () => {
    const closed = workerWith({ ANONYMOUS_READ: "false" });
    const { token } = await createToken({ scopes: ["read"], packages: ["@acme/*"] });
    const scoped = await search("pad", {}, closed, { authorization: `Bearer ${token}` });
    expect([names(scoped), scoped.total]).toEqual([["@acme/pad"], 1]);
    const anonymous = await closed("/npm/-/v1/search?text=pad");
    expect(anonymous.status).toBe(401);
  });
});
