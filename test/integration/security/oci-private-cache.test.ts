// No cache leak for OCI: what needed a token is never served from L1 or L2 to a caller without
// an equivalent token, in every region: with ANONYMOUS_READ=false, and with anonymous pulls
// limited by OCI_ANONYMOUS_PULL to other repositories.
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeCache } from "../../../shared/tiers/edge-cache";
import { blobCacheKey, manifestCacheKey, tagCacheKey } from "../../../workers/oci/objects";
import { basic, bearerToken, clientWithToken, expectOciError, OciClient, randomImage, type Image } from "../../helpers/oci";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const REGIONS = ["us-east", "eu-west", "ap-south"];

type Pull = { what: string; get: (oci: OciClient, name: string, image: Image) => Promise<Response>; l1Key: (name: string, image: Image) => string };
const PULLS: Pull[] = [
  { what: "a layer blob", get: (oci, name, img) => oci.getBlob(name, img.layers[0]!.digest), l1Key: (name, img) => blobCacheKey(name, img.layers[0]!.digest) },
  { what: "the config blob", get: (oci, name, img) => oci.getBlob(name, img.config.digest), l1Key: (name, img) => blobCacheKey(name, img.config.digest) },
  { what: "the manifest by tag", get: (oci, name) => oci.getManifest(name, "v1"), l1Key: (name) => tagCacheKey(name, "v1") },
  { what: "the manifest by digest", get: (oci, name, img) => oci.getManifest(name, img.manifest.digest), l1Key: (name, img) => manifestCacheKey(name, img.manifest.digest) },
];

/**
 * For each region: the authorized client pulls twice (L1 warm), every caller in `refused` is
 * refused; L1 is emptied and they are refused again; the authorized pull then shows L2-HIT,
 * proving the bytes were in the shield the whole time.
 */
async function expectNoLeak(reader: OciClient, name: string, image: Image, refused: Array<[OciClient, number, string]>): Promise<void> {
  for (const pull of PULLS) {
    for (const region of REGIONS) {
      const authorized = reader.inRegion(region);
      const first = await pull.get(authorized, name, image);
      expect(first.status, `${pull.what} in ${region}`).toBe(200);
      expect(first.headers.get("cache-control")).toMatch(/^private\b/);
      const again = await pull.get(authorized, name, image);
      expect([again.status, again.headers.get("x-pkgedge-cache")], `${pull.what} in ${region}`).toEqual([200, "L1-HIT"]);
      const refusals = async () => {
        for (const [client, status, code] of refused) {
          await expectOciError(await pull.get(client.inRegion(region), name, image), status, code as "UNAUTHORIZED");
        }
      };
      await refusals();
      expect(await (await EdgeCache.open(region)).delete(pull.l1Key(name, image))).toBe(true);
      await refusals();
      const fromShield = await pull.get(authorized, name, image);
      expect([fromShield.status, fromShield.headers.get("x-pkgedge-cache")], `${pull.what} in ${region}`).toEqual([200, "L2-HIT"]);
    }
  }
}

describe("with ANONYMOUS_READ=false", () => {
  const fetch = workerWith({ ANONYMOUS_READ: "false" });
  const name = "closed/app";
  let image: Image;
  let reader: OciClient;
  let anonymous: OciClient;
  let outsider: OciClient;
  let otherGrant: OciClient;
  beforeAll(async () => {
    image = await randomImage({ layers: 1, layerSize: 2048 });
    const pusher = await clientWithToken({ scopes: ["publish"] }, fetch);
    await pusher.pushImage(name, "v1", image);
    reader = await clientWithToken({ scopes: ["read"] }, fetch);
    anonymous = new OciClient(fetch);
    outsider = await clientWithToken({ scopes: ["read"], packages: ["other/*"] }, fetch);
    // A bearer grant from /v2/token for a different repository.
    const { token } = await createToken({ scopes: ["read"] }, fetch);
    otherGrant = new OciClient(fetch, `Bearer ${await bearerToken(["repository:other/app:pull"], basic(token), fetch)}`);
  });

  it("refuses anonymous, wrong-token and other-repository callers with L1 and L2 warm, in every region", async () => {
    await expectNoLeak(reader, name, image, [
      [anonymous, 401, "UNAUTHORIZED"],
      [anonymous.as(basic(`pke_${"D".repeat(40)}`)), 401, "UNAUTHORIZED"],
      [outsider, 403, "DENIED"],
      [otherGrant, 401, "UNAUTHORIZED"],
    ]);
  });
});

describe("with OCI_ANONYMOUS_PULL limited to public/*", () => {
  const fetch = workerWith({ ANONYMOUS_READ: "true", OCI_ANONYMOUS_PULL: "public/*" });
  let image: Image;
  let reader: OciClient;
  beforeAll(async () => {
    image = await randomImage({ layers: 1, layerSize: 2048 });
    const pusher = await clientWithToken({ scopes: ["publish"] }, fetch);
    await pusher.pushImage("private/app", "v1", image);
    await pusher.pushImage("public/app", "v1", image);
    reader = await clientWithToken({ scopes: ["read"] }, fetch);
  });

  it("refuses an anonymous pull of the private repository with L1 and L2 warm, in every region", async () => {
    await expectNoLeak(reader, "private/app", image, [[new OciClient(fetch), 401, "UNAUTHORIZED"]]);
  });

  it("still serves the public repository (same blobs) to anyone, marked public", async () => {
    for (const region of REGIONS) {
      const anonymous = new OciClient(fetch).inRegion(region);
      for (const pull of PULLS) {
        const res = await pull.get(anonymous, "public/app", image);
        expect(res.status, `${pull.what} in ${region}`).toBe(200);
        expect(res.headers.get("cache-control")).toMatch(/^public\b/);
        await res.arrayBuffer();
      }
      // The shared blob bytes do not open the private repository.
      await expectOciError(await anonymous.getBlob("private/app", image.layers[0]!.digest), 401, "UNAUTHORIZED");
    }
  });
});
