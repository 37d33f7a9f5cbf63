// The packument is the commit point of npm writes: what a publish or unpublish killed half-way
// leaves (tarballs its packument never named, or no longer names) is never served, and the same
// publish retried succeeds. The states are written as the crash leaves them; the kill -9 version
// of the same instants is test/e2e/crash-safety.test.ts.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { tarballBytes } from "../../helpers/npm-body";
import { NpmClient, tarballPath } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

let npm: NpmClient;
beforeAll(async () => {
  npm = new NpmClient().as((await createToken({ scopes: ["read", "publish"] })).token);
});

const tarballKey = (name: string, version: string) => `npm/${name}/-/${name}-${version}.tgz`;

/** The tarball a publish killed between its tarballs and its packument leaves behind. */
async function leaveOrphan(name: string, version: string, bytes = tarballBytes(`${name}@${version}`)): Promise<void> {
  await env.BLOBS.put(tarballKey(name, version), bytes, { sha512: await crypto.subtle.digest("SHA-512", bytes) });
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

describe("a publish killed after its tarballs, before its packument", () => {
  it.each([
    ["of a new package", "orphan-new", [] as string[]],
    ["of a new version of a published package", "orphan-more", ["1.0.0"]],
  ])("leaves an orphan that is never served (%s)", async (_what, name, published) => {
    for (const v of published) expect((await npm.publish(name, v)).status).toBe(201);
    await leaveOrphan(name, "2.0.0");
    expect(await status(await npm.getTarball(name, "2.0.0"))).toBe(404);
    // Asked twice: the first answer is not remembered as a hit anywhere.
    expect(await status(await npm.getTarball(name, "2.0.0"))).toBe(404);
    for (const v of published) expect(await status(await npm.getTarball(name, v))).toBe(200);
  });

  it("the same publish retried succeeds and serves its tarball", async () => {
    await leaveOrphan("orphan-retried", "1.0.0");
    expect((await npm.publish("orphan-retried", "1.0.0")).status).toBe(201);
    const res = await npm.getTarball("orphan-retried", "1.0.0");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(tarballBytes("orphan-retried@1.0.0"));
  });

  it("a publish with other bytes is refused with 409 and the orphan stays unserved", async () => {
    // Two real tarballs of orphan-other@1.0.0 (the publish checks their package.json) that differ.
    const OTHER = { name: "orphan-other", version: "1.0.0" };
    await leaveOrphan("orphan-other", "1.0.0", tarballBytes("first attempt", OTHER));
    await expectNpmError(await npm.publish("orphan-other", "1.0.0", { tarball: tarballBytes("second attempt", OTHER) }), 409, /previously published version.*interrupted/);
    expect(await status(await npm.getTarball("orphan-other", "1.0.0"))).toBe(404);
    // The orphan's version is not published, so its tarball may be deleted; then the publish goes through.
    expect(await status(await npm.request(`${tarballPath("orphan-other", "1.0.0")}/-rev/0`, { method: "DELETE" }))).toBe(200);
    expect((await npm.publish("orphan-other", "1.0.0", { tarball: tarballBytes("second attempt", OTHER) })).status).toBe(201);
    expect(new Uint8Array(await (await npm.getTarball("orphan-other", "1.0.0")).arrayBuffer())).toEqual(tarballBytes("second attempt", OTHER));
  });

  it("five concurrent publishes of the same bytes: exactly one 201, and the tarball stays served", async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => npm.publish("same-bytes", "1.0.0")));
    const statuses = await Promise.all(responses.map(status));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    const res = await npm.getTarball("same-bytes", "1.0.0");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(tarballBytes("same-bytes@1.0.0"));
  });

  it("a published version is still refused with 409 when the same bytes come again", async () => {
    expect((await npm.publish("orphan-again", "1.0.0")).status).toBe(201);
    await expectNpmError(await npm.publish("orphan-again", "1.0.0"), 409, /previously published version/);
  });
});

describe("an unpublish killed after its packument, before its tarball deletes", () => {
  it("of the whole package: its tarballs answer 404", async () => {
    for (const v of ["1.0.0", "1.0.1"]) expect((await npm.publish("unpublish-cut", v)).status).toBe(201);
    expect((await npm.deletePackage("unpublish-cut", (await npm.packument("unpublish-cut"))._rev)).status).toBe(200);
    // As if the deletes never ran.
    for (const v of ["1.0.0", "1.0.1"]) await leaveOrphan("unpublish-cut", v);
    for (const v of ["1.0.0", "1.0.1"]) expect(await status(await npm.getTarball("unpublish-cut", v))).toBe(404);
  });

  it("of one version: its tarball answers 404, the others still download", async () => {
    for (const v of ["1.0.0", "1.0.1"]) expect((await npm.publish("unpublish-one-cut", v)).status).toBe(201);
    const { update } = await npm.unpublishVersion("unpublish-one-cut", "1.0.1");
    expect(update.status).toBe(200);
    await leaveOrphan("unpublish-one-cut", "1.0.1");
    expect(await status(await npm.getTarball("unpublish-one-cut", "1.0.1"))).toBe(404);
    expect(await status(await npm.getTarball("unpublish-one-cut", "1.0.0"))).toBe(200);
  });
});
