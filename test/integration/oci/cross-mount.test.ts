// end-11: mounting a blob from another repository instead of uploading it again.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest, clientWithToken, content, locationPath, OciClient, publisher, randomBytes,
} from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";

let oci: OciClient;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
});

describe("end-11 POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>", () => {
  it("answers 201 with the blob's new location, and the blob pulls from the target", async () => {
    const blob = await content(randomBytes(50_000));
    await oci.pushBlobs("mount/source", blob);
    const res = await oci.mount("mount/target", blob.digest, "mount/source");
    expect(res.status).toBe(201);
    expect(locationPath(res)).toBe(`/v2/mount/target/blobs/${blob.digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(await bodyDigest(await anonymous.getBlob("mount/target", blob.digest))).toBe(blob.digest);
    // The source keeps it.
    expect((await anonymous.getBlob("mount/source", blob.digest)).status).toBe(200);
  });

  it("answers 202 with an upload session when `from` does not hold the blob", async () => {
    const blob = await content(randomBytes(1000));
    await oci.pushBlobs("mount/empty-source", await content("something else"));
    const res = await oci.mount("mount/fallback", blob.digest, "mount/empty-source");
    expect(res.status).toBe(202);
    const uuid = res.headers.get("docker-upload-uuid");
    expect(uuid).toBeTruthy();
    const location = locationPath(res);
    expect(location.split("?")[0]).toBe(`/v2/mount/fallback/blobs/uploads/${uuid}`);
    // The client proceeds with the upload on that session.
    expect((await oci.closeUpload(location, blob.digest, blob.bytes)).status).toBe(201);
    expect(await bodyDigest(await anonymous.getBlob("mount/fallback", blob.digest))).toBe(blob.digest);
  });

  it("answers 202 when the blob was deleted from `from`", async () => {
    const blob = await content(randomBytes(700));
    await oci.pushBlobs("mount/deleted-source", blob);
    expect((await oci.deleteBlob("mount/deleted-source", blob.digest)).status).toBe(202);
    const res = await oci.mount("mount/after-delete", blob.digest, "mount/deleted-source");
    expect(res.status).toBe(202);
    expect((await anonymous.getBlob("mount/after-delete", blob.digest)).status).toBe(404);
  });

  it("answers 202 when `from` was never pushed", async () => {
    const blob = await content("mount from nowhere");
    const res = await oci.mount("mount/nowhere", blob.digest, "mount/does-not-exist");
    expect(res.status).toBe(202);
    expect((await anonymous.getBlob("mount/nowhere", blob.digest)).status).toBe(404);
  });

  it("answers 202, not a mount, when the caller may not pull `from`", async () => {
    // Only team/* is anonymously pullable here, and the pusher's token is limited to team/*.
    const registry = workerWith({ OCI_ANONYMOUS_PULL: "team/*" });
    const secretBlob = await content(randomBytes(2000));
    await oci.pushBlobs("secret/source", secretBlob);
    const teamPusher = await clientWithToken({ scopes: ["publish"], packages: ["team/*"] }, registry);

    const res = await teamPusher.mount("team/app", secretBlob.digest, "secret/source");
    expect(res.status).toBe(202);
    const pulled = await teamPusher.getBlob("team/app", secretBlob.digest);
    expect(pulled.status).toBe(404);
  });
});
