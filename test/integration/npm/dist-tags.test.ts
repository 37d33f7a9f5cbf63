// The dist-tag API `npm dist-tag add|ls|rm` uses: PUT/GET/DELETE /npm/-/package/<name>/dist-tags.
import { beforeAll, describe, expect, it } from "vitest";
import { escapedName, NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

describe.each(["tagged", "@acme/tagged"])("dist-tags of %s", (name) => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
    for (const v of ["1.0.0", "1.1.0"]) expect((await npm.publish(name, v)).status).toBe(201);
  });

  const tags = async () => {
    const res = await npm.getDistTags(name);
    expect(res.status).toBe(200);
    return res.json<Record<string, string>>();
  };

  it("adds, lists and removes a tag, and the packument follows", async () => {
    const added = await npm.setDistTag(name, "beta", "1.0.0");
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ ok: true, "dist-tags": { latest: "1.1.0", beta: "1.0.0" } });
    expect(await tags()).toEqual({ latest: "1.1.0", beta: "1.0.0" });
    expect((await npm.packument(name))["dist-tags"]).toEqual({ latest: "1.1.0", beta: "1.0.0" });

    const removed = await npm.deleteDistTag(name, "beta");
    expect(removed.status).toBe(200);
    expect(await tags()).toEqual({ latest: "1.1.0" });
    expect((await npm.packument(name))["dist-tags"]).toEqual({ latest: "1.1.0" });
  });

  it("moves latest", async () => {
    expect((await npm.setDistTag(name, "latest", "1.0.0")).status).toBe(201);
    expect(await tags()).toEqual({ latest: "1.0.0" });
    expect((await npm.setDistTag(name, "latest", "1.1.0")).status).toBe(201);
  });

  it.each(["1.x", "1.0.0", "^2", "v1"])("refuses the tag %j, which npm would read as a version range", async (tag) => {
    await expectNpmError(await npm.setDistTag(name, tag, "1.0.0"), 400, /invalid dist-tag .*must not be versions or ranges/);
    expect(await tags()).toEqual({ latest: "1.1.0" });
  });

  it("answers 404 for a tag to a version that does not exist", async () => {
    await expectNpmError(await npm.setDistTag(name, "next", "2.0.0"), 404, `version ${name}@2.0.0 not found`);
    expect(await tags()).toEqual({ latest: "1.1.0" });
  });

  it("answers 400 for a body that is not a version", async () => {
    const put = (body: string) => npm.request(`/npm/-/package/${escapedName(name)}/dist-tags/next`, { method: "PUT", body });
    await expectNpmError(await put("{\"version\":\"1.0.0\"}"), 400, /JSON string naming a version/);
    await expectNpmError(await put("\"^1.0.0\""), 400, /invalid version/);
    await expectNpmError(await put("1.0.0"), 400, /not valid JSON/);
    expect(await tags()).toEqual({ latest: "1.1.0" });
  });

  it("refuses to delete latest, and answers 404 for an unknown tag", async () => {
    await expectNpmError(await npm.deleteDistTag(name, "latest"), 400, /latest dist-tag cannot be removed/);
    await expectNpmError(await npm.deleteDistTag(name, "nightly"), 404, /dist-tag nightly not found/);
    expect(await tags()).toEqual({ latest: "1.1.0" });
  });

  it("needs a publish token to change tags", async () => {
    await expectNpmError(await npm.as(undefined).setDistTag(name, "beta", "1.0.0"), 401, /authentication required to publish/);
    const reader = npm.as((await createToken({ scopes: ["read"] })).token);
    await expectNpmError(await reader.deleteDistTag(name, "latest"), 403, /token may not publish/);
    expect(await tags()).toEqual({ latest: "1.1.0" });
  });
});

describe("dist-tags of a missing package", () => {
  it("answer 404", async () => {
    const npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
    await expectNpmError(await npm.getDistTags("never-published"), 404, /package never-published not found/);
    await expectNpmError(await npm.setDistTag("never-published", "beta", "1.0.0"), 404, /package never-published not found/);
  });
});
