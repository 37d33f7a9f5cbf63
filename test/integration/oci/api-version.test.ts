// Every /v2/ answer, success or error, carries Docker-Distribution-API-Version: clients (docker,
// containerd) check it on end-1 and some on every response.
import { beforeAll, expect, it } from "vitest";
import { API_VERSION, ADMIN, content, OciClient, publisher, randomImage, tokenRequest, type Image } from "../../helpers/oci";

let oci: OciClient;
let image: Image;
const anonymous = new OciClient();
beforeAll(async () => {
  oci = await publisher();
  image = await randomImage();
  await oci.pushImage("version/app", "v1", image);
});

it("is on every kind of answer", async () => {
  const location = await oci.openUpload("version/app");
  const blob = await content("version header");
  const answers: Array<[string, number, Response]> = [
    ["end-1", 200, await anonymous.as(ADMIN).request("/v2/")],
    ["end-1 401", 401, await anonymous.request("/v2/")],
    ["token", 200, await tokenRequest(["repository:version/app:pull"])],
    ["end-2", 200, await anonymous.getBlob("version/app", image.config.digest)],
    ["end-2 HEAD", 200, await anonymous.headBlob("version/app", image.config.digest)],
    ["end-2 404", 404, await anonymous.getBlob("version/app", blob.digest)],
    ["end-3", 200, await anonymous.getManifest("version/app", "v1")],
    ["end-3 HEAD", 200, await anonymous.headManifest("version/app", "v1")],
    ["end-4a", 202, await oci.startUpload("version/app")],
    ["end-5", 202, await oci.patchUpload(location, blob.bytes, `0-${blob.size - 1}`)],
    ["end-13", 204, await oci.uploadStatus(location)],
    ["end-6", 201, await oci.closeUpload(location, blob.digest)],
    ["end-4b", 201, await oci.pushBlob("version/app", await content("monolithic"))],
    ["end-7", 201, await oci.putManifest("version/app", "v2", image.manifest)],
    ["end-8a", 200, await anonymous.tags("version/app")],
    ["catalog", 200, await anonymous.catalog()],
    ["end-12a", 200, await anonymous.referrers("version/app", image.manifest.digest)],
    ["end-9", 202, await oci.deleteManifest("version/app", "v2")],
    ["end-10", 202, await oci.deleteBlob("version/app", blob.digest)],
    ["405", 405, await oci.request("/v2/version/app/tags/list", { method: "POST" })],
  ];
  for (const [what, status, res] of answers) {
    expect(res.status, what).toBe(status);
    expect(res.headers.get("docker-distribution-api-version"), what).toBe(API_VERSION);
    await res.body?.cancel();
  }
});
