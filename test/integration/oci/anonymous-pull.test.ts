// Anonymous pulls: never writes, ANONYMOUS_READ=false, and OCI_ANONYMOUS_PULL limiting anonymous
// pulls to some repositories without leaking the others through caches, tokens or listings.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearerToken, clientWithToken, content, expectNothingStored, expectOciError, OciClient, publisher, randomImage, type Image,
} from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";

let oci: OciClient;
const anonymous = new OciClient();
let image: Image;
beforeAll(async () => {
  oci = await publisher();
  image = await randomImage();
  await oci.pushImage("auth/app", "v1", image);
});

const bearer = (token: string) => `Bearer ${token}`;

/** Path and query of a `Link: <...>; rel="next"` value. */
function linkTarget(link: string): string {
  const url = new URL(/^<([^>]+)>/.exec(link)![1]!, "http://pkgedge.test");
  return url.pathname + url.search;
}

describe("anonymous pull", () => {
  it("answers 401 UNAUTHORIZED to every anonymous write", async () => {
    const blob = await content("anonymous");
    await expectNothingStored(async () => {
      await expectOciError(await anonymous.pushBlob("auth/anon", blob), 401, "UNAUTHORIZED");
      await expectOciError(await anonymous.startUpload("auth/anon"), 401, "UNAUTHORIZED");
      await expectOciError(await anonymous.putManifest("auth/app", "v2", image.manifest), 401, "UNAUTHORIZED");
    });
  });

  it("needs a token everywhere when ANONYMOUS_READ=false", async () => {
    const registry = new OciClient(workerWith({ ANONYMOUS_READ: "false" }));
    await expectOciError(await registry.getManifest("auth/app", "v1"), 401, "UNAUTHORIZED");
    await expectOciError(await registry.getBlob("auth/app", image.config.digest), 401, "UNAUTHORIZED");
    const reader = await clientWithToken({ scopes: ["read"] }, registry.fetch);
    const res = await reader.getManifest("auth/app", "v1");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toMatch(/^private\b/);
  });

  describe("limited by OCI_ANONYMOUS_PULL to some repositories", () => {
    const fetch = workerWith({ OCI_ANONYMOUS_PULL: "public/*,library/alpine" });
    const registry = new OciClient(fetch);
    beforeAll(async () => {
      for (const name of ["public/app", "library/alpine", "private/app"]) await oci.pushImage(name, "v1", image);
    });

    it("serves the matching repositories anonymously and publicly cacheable", async () => {
      for (const name of ["public/app", "library/alpine"]) {
        const res = await registry.getManifest(name, image.manifest.digest);
        expect(res.status).toBe(200);
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      }
    });

    it("answers 401 to anonymous pulls of the others", async () => {
      await expectOciError(await registry.getManifest("private/app", "v1"), 401, "UNAUTHORIZED");
      await expectOciError(await registry.getBlob("private/app", image.config.digest), 401, "UNAUTHORIZED");
      await expectOciError(await registry.tags("private/app"), 401, "UNAUTHORIZED");
    });

    it("gives an anonymous token no pull on the others", async () => {
      const jwt = await bearerToken(["repository:private/app:pull"], undefined, fetch);
      const res = await registry.as(bearer(jwt)).getManifest("private/app", "v1");
      expect(res.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/);
      await expectOciError(res, 401, "UNAUTHORIZED");
    });

    it("refuses the others anonymously even right after an authorized read filled the caches", async () => {
      const reader = await clientWithToken({ scopes: ["read"] }, fetch);
      for (let i = 0; i < 2; i++) {
        expect((await reader.getManifest("private/app", image.manifest.digest)).status).toBe(200);
        expect((await reader.getManifest("private/app", "v1")).status).toBe(200);
        const blob = await reader.getBlob("private/app", image.layers[0]!.digest);
        expect(blob.status).toBe(200);
        expect(blob.headers.get("cache-control")).toMatch(/^private\b/);
        await blob.arrayBuffer();
      }
      // The same layer is public in public/app: reading it there must not open it in private/app.
      expect((await registry.getBlob("public/app", image.layers[0]!.digest)).status).toBe(200);
      await expectOciError(await registry.getManifest("private/app", image.manifest.digest), 401, "UNAUTHORIZED");
      await expectOciError(await registry.getManifest("private/app", "v1"), 401, "UNAUTHORIZED");
      await expectOciError(await registry.getBlob("private/app", image.layers[0]!.digest), 401, "UNAUTHORIZED");
      expect((await registry.headBlob("private/app", image.layers[0]!.digest)).status).toBe(401);
    });

    it("serves the others to a token, marked private", async () => {
      const reader = await clientWithToken({ scopes: ["read"] }, fetch);
      const res = await reader.getManifest("private/app", image.manifest.digest);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    });

    it("answers 401 to anonymous listings of the others", async () => {
      await expectOciError(await registry.referrers("private/app", image.manifest.digest), 401, "UNAUTHORIZED");
      await expectOciError(await registry.tags("private/app", "?n=1"), 401, "UNAUTHORIZED");
    });

    it("marks a token's reads of the others private, by tag too", async () => {
      const reader = await clientWithToken({ scopes: ["read"] }, fetch);
      const res = await reader.getManifest("private/app", "v1");
      expect(res.headers.get("cache-control")).toBe("private, max-age=30, must-revalidate");
      const pub = await registry.getManifest("public/app", "v1");
      expect(pub.headers.get("cache-control")).toBe("public, max-age=30, must-revalidate");
    });

    it("pages the anonymous catalog over visible names only, never naming the others in a Link", async () => {
      for (const name of ["private/b", "private/c", "public/d", "private/e", "public/f"]) await oci.pushImage(name, "v1", image);
      const visible: string[] = [];
      let path: string | null = "/v2/_catalog?n=1";
      for (let pages = 0; path && pages < 20; pages++) {
        const res = await registry.request(path);
        expect(res.status).toBe(200);
        const page = (await res.json<{ repositories: string[] }>()).repositories;
        visible.push(...page);
        const link = res.headers.get("link");
        expect(link ?? "").not.toMatch(/private/);
        path = link ? linkTarget(link) : null;
        if (path) expect(page).toHaveLength(1);
      }
      expect(path).toBeNull();
      expect(visible).toEqual(["library/alpine", "public/app", "public/d", "public/f"]);
    });

    it("lists only the anonymously pullable repositories in the anonymous catalog", async () => {
      const { repositories } = await (await registry.catalog()).json<{ repositories: string[] }>();
      expect(repositories).toContain("public/app");
      expect(repositories).toContain("library/alpine");
      expect(repositories).not.toContain("private/app");
      const reader = await clientWithToken({ scopes: ["read"] }, fetch);
      expect((await (await reader.catalog()).json<{ repositories: string[] }>()).repositories).toContain("private/app");
    });
  });
});
