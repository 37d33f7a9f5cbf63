// Concurrent publishes: every version published at once survives (the packument is updated with
// compare-and-swap, no lost updates), and of concurrent publishes of one version exactly one wins.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { digestsOf, tarballBytes } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

/** The revision counter of a `_rev` ("7-abc..." -> 7). */
const revNumber = (rev: string) => Number.parseInt(rev, 10);

describe("concurrent publishes", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it("of ten versions of one package all survive", async () => {
    const versions = Array.from({ length: 10 }, (_, i) => `1.0.${i}`);
    const responses = await Promise.all(versions.map((v) => npm.publish("busy", v)));
    const answers = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json<{ rev: string }>() })));
    expect(answers.map((a) => a.status)).toEqual(versions.map(() => 201));

    const doc = await npm.packument("busy");
    expect(Object.keys(doc.versions).sort()).toEqual(versions);
    for (const v of versions) expect(typeof doc.time[v]).toBe("string");
    // Each publish made exactly one revision: ten writes, none lost or repeated.
    const revs = answers.map((a) => revNumber(a.body.rev)).sort((a, b) => a - b);
    expect(revs).toEqual(versions.map((_, i) => i + 1));
    // Every publish asked for `latest`; the one that committed last holds it, as if in sequence.
    const last = answers.findIndex((a) => revNumber(a.body.rev) === 10);
    expect(doc["dist-tags"]).toEqual({ latest: versions[last] });
    expect(doc._rev).toBe(answers[last]!.body.rev);

    const stored = await env.BLOBS.list({ prefix: "npm/busy/-/" });
    expect(stored.objects.map((o) => o.key).sort()).toEqual(versions.map((v) => `npm/busy/-/busy-${v}.tgz`));
    for (const v of versions) {
      const res = await npm.getTarball("busy", v);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(tarballBytes(`busy@${v}`));
    }
  });

  it.each([2, 5])("of one version by %i clients: exactly one wins, the rest get 409", async (clients) => {
    const name = `contested-${clients}`;
    const tarballs = Array.from({ length: clients }, (_, i) => tarballBytes(`contender ${i}`, { name, version: "1.0.0" }));
    const responses = await Promise.all(tarballs.map((tarball) => npm.publish(name, "1.0.0", { tarball })));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(clients - 1);
    for (const r of responses.filter((r) => r.status === 409)) await expectNpmError(r, 409, /previously published version/);

    const winner = tarballs[statuses.indexOf(201)]!;
    const { integrity } = await digestsOf(winner);
    expect((await npm.packument(name)).versions["1.0.0"]?.dist.integrity).toBe(integrity);
    const stored = await env.BLOBS.get(`npm/${name}/-/${name}-1.0.0.tgz`);
    expect((await digestsOf(new Uint8Array(await stored!.arrayBuffer()))).integrity).toBe(integrity);
    expect(new Uint8Array(await (await npm.getTarball(name, "1.0.0")).arrayBuffer())).toEqual(winner);
  });
});
