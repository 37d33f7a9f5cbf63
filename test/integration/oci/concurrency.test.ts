// Concurrent writes as parallel clients (skopeo pushes layers in parallel, CI jobs push tags at
// once) make them: no lost tags or repositories, one writer per upload session, consistent tags.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest, content, expectOciError, imageManifest, locationPath, OciClient, ociKeys, publisher, randomBytes, randomImage,
} from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

describe("concurrent writes", () => {
  it("20 tags pushed at once are all listed", async () => {
    const image = await randomImage();
    await oci.pushBlobs("conc/tags", image.config, ...image.layers);
    const tags = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    const answers = await Promise.all(tags.map((tag) => oci.putManifest("conc/tags", tag, image.manifest)));
    expect(answers.map((r) => r.status)).toEqual(tags.map(() => 201));
    expect(await (await anonymous.tags("conc/tags")).json()).toEqual({ name: "conc/tags", tags });
  });

  it("10 repositories created at once are all in the catalog", async () => {
    const image = await randomImage();
    const names = Array.from({ length: 10 }, (_, i) => `conc/repo-${i}`);
    await Promise.all(names.map((name) => oci.pushImage(name, "v1", image)));
    const { repositories } = await (await anonymous.catalog()).json<{ repositories: string[] }>();
    expect(repositories).toEqual(expect.arrayContaining(names));
  });

  it("5 manifests pushed to one tag at once leave the tag on one of them, served consistently", async () => {
    const config = await content("{}");
    const layers = await Promise.all(Array.from({ length: 5 }, () => content(randomBytes(100))));
    await oci.pushBlobs("conc/race", config, ...layers);
    const manifests = await Promise.all(layers.map((layer) => imageManifest({ config, layers: [layer] })));
    const answers = await Promise.all(manifests.map((m) => oci.putManifest("conc/race", "latest", m)));
    expect(answers.map((r) => r.status)).toEqual(manifests.map(() => 201));

    const res = await anonymous.getManifest("conc/race", "latest");
    const served = res.headers.get("docker-content-digest");
    expect(manifests.map((m) => m.digest)).toContain(served);
    expect(await bodyDigest(res)).toBe(served);
    expect(await (await anonymous.tags("conc/race")).json()).toEqual({ name: "conc/race", tags: ["latest"] });
    // Every manifest stays pullable by digest.
    for (const m of manifests) expect((await anonymous.headManifest("conc/race", m.digest)).status).toBe(200);
  });

  it("the same blob pushed 10 times at once is stored once, whole", async () => {
    // What one push of a blob adds to R2 (in a repository of its own), to compare with.
    const keys0 = await ociKeys();
    await oci.pushBlobs("conc/single-blob", await content(randomBytes(600_000)));
    const keys1 = await ociKeys();
    const blob = await content(randomBytes(600_000));
    const answers = await Promise.all(Array.from({ length: 10 }, () => oci.pushBlob("conc/same-blob", blob)));
    // No copies left behind by the pushes that lost the race.
    expect((await ociKeys()).length - keys1.length).toBe(keys1.length - keys0.length);
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 201));
    const pulled = await anonymous.getBlob("conc/same-blob", blob.digest);
    expect(pulled.headers.get("content-length")).toBe(String(blob.size));
    expect(await bodyDigest(pulled)).toBe(blob.digest);
  });

  it("two PATCHes racing on one session: one is taken, the other answered 416 BLOB_UPLOAD_INVALID", async () => {
    const a = randomBytes(256 * 1024);
    const b = randomBytes(256 * 1024);
    const location = await oci.openUpload("conc/session");
    const range = `0-${a.byteLength - 1}`;
    const [ra, rb] = await Promise.all([oci.patchUpload(location, a, range), oci.patchUpload(location, b, range)]);
    expect([ra.status, rb.status].sort()).toEqual([202, 416]);
    const [winner, loser] = ra.status === 202 ? [ra, rb] : [rb, ra];
    await expectOciError(loser, 416, "BLOB_UPLOAD_INVALID");
    expect(winner.headers.get("range")).toBe(range);

    // The session holds exactly the winner's bytes.
    const bytes = winner === ra ? a : b;
    const put = await oci.closeUpload(locationPath(winner), (await content(bytes)).digest);
    expect(put.status).toBe(201);
    expect(new Uint8Array(await (await anonymous.getBlob("conc/session", (await content(bytes)).digest)).arrayBuffer())).toEqual(bytes);
  });
});
