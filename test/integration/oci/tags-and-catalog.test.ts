// end-8a/end-8b tag listing and the catalog, with n/last pagination and Link headers.
import { beforeAll, describe, expect, it } from "vitest";
import { expectOciError, OciClient, publisher, randomImage, type Image } from "../../helpers/oci";

let oci: OciClient;
const anonymous = new OciClient();
let image: Image;
const TAGS = ["v1.0", "latest", "a", "B", "c", "1", "v1.0-rc1", "_under"];
// Go's sort.Strings (byte order), which the spec names for "lexical".
const SORTED = [...TAGS].sort();

beforeAll(async () => {
  oci = await publisher();
  image = await randomImage();
  for (const tag of TAGS) await oci.pushImage("tags/many", tag, image);
});

interface TagList {
  name: string;
  tags: string[];
}

/** Path and query of a `Link: <...>; rel="next"` header, or null when there is none. */
function nextLink(res: Response): string | null {
  const link = res.headers.get("link");
  if (link === null) return null;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link.trim());
  expect(m, `Link header ${link}`).not.toBeNull();
  const url = new URL(m![1]!, "http://pkgedge.test");
  return url.pathname + url.search;
}

describe("end-8a GET /v2/<name>/tags/list", () => {
  it("lists every tag in lexical order", async () => {
    const res = await anonymous.tags("tags/many");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("link")).toBeNull();
    expect(await res.json<TagList>()).toEqual({ name: "tags/many", tags: SORTED });
  });

  it("shows a new tag at once", async () => {
    await oci.pushImage("tags/fresh", "one", image);
    expect((await (await anonymous.tags("tags/fresh")).json<TagList>()).tags).toEqual(["one"]);
    await oci.pushManifest("tags/fresh", "two", image.manifest);
    expect((await (await anonymous.tags("tags/fresh")).json<TagList>()).tags).toEqual(["one", "two"]);
  });

  it("works for nested repository names", async () => {
    await oci.pushImage("tags/team/app/api", "stable", image);
    expect(await (await anonymous.tags("tags/team/app/api")).json()).toEqual({ name: "tags/team/app/api", tags: ["stable"] });
  });

  it("answers 404 NAME_UNKNOWN for a repository never pushed", async () => {
    await expectOciError(await anonymous.tags("tags/never"), 404, "NAME_UNKNOWN");
  });
});

describe("end-8b GET /v2/<name>/tags/list?n=<n>&last=<tag>", () => {
  it("returns the first n tags and a Link to the next page", async () => {
    const res = await anonymous.tags("tags/many", "?n=3");
    expect(res.status).toBe(200);
    expect((await res.json<TagList>()).tags).toEqual(SORTED.slice(0, 3));
    expect(res.headers.get("link")).toBe(`</v2/tags/many/tags/list?n=3&last=${SORTED[2]}>; rel="next"`);
  });

  it("walks every page by following Link, ending without one", async () => {
    const seen: string[] = [];
    let path: string | null = "/v2/tags/many/tags/list?n=3";
    let pages = 0;
    while (path) {
      const res = await anonymous.request(path);
      expect(res.status).toBe(200);
      const page = await res.json<TagList>();
      expect(page.tags.length).toBeLessThanOrEqual(3);
      seen.push(...page.tags);
      path = nextLink(res);
      pages++;
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toEqual(SORTED);
    expect(pages).toBe(Math.ceil(SORTED.length / 3));
  });

  it("returns the tags after `last`, without it", async () => {
    const res = await anonymous.tags("tags/many", `?last=${SORTED[4]}`);
    expect((await res.json<TagList>()).tags).toEqual(SORTED.slice(5));
    const both = await anonymous.tags("tags/many", `?n=2&last=${SORTED[1]}`);
    expect((await both.json<TagList>()).tags).toEqual(SORTED.slice(2, 4));
  });

  it("returns everything, without a Link, when n covers all tags", async () => {
    const res = await anonymous.tags("tags/many", `?n=${SORTED.length}`);
    expect((await res.json<TagList>()).tags).toEqual(SORTED);
    expect(res.headers.get("link")).toBeNull();
  });

  it("returns an empty list without a Link for n=0", async () => {
    const res = await anonymous.tags("tags/many", "?n=0");
    expect(res.status).toBe(200);
    expect((await res.json<TagList>()).tags).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  it("returns an empty list when `last` is the final tag", async () => {
    const res = await anonymous.tags("tags/many", `?last=${SORTED.at(-1)}`);
    expect((await res.json<TagList>()).tags).toEqual([]);
  });
});

describe("GET /v2/_catalog", () => {
  // Storage is per test file, so the catalog holds just this file's repositories.
  const names = async () => {
    const res = await anonymous.catalog();
    expect(res.status).toBe(200);
    return (await res.json<{ repositories: string[] }>()).repositories;
  };

  it("lists the pushed repositories in lexical order", async () => {
    await oci.pushImage("catalog/zeta", "v1", image);
    await oci.pushImage("catalog/alpha", "v1", image);
    const all = await names();
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(["catalog/alpha", "catalog/zeta", "tags/many", "tags/team/app/api"]));
  });

  it("paginates with n and last and a Link to the next page", async () => {
    const all = await names();
    const first = await anonymous.catalog("?n=2");
    expect((await first.json<{ repositories: string[] }>()).repositories).toEqual(all.slice(0, 2));
    // The name in `last` has a slash: compare the decoded query, encoded or not.
    const link = new URL(nextLink(first)!, "http://pkgedge.test");
    expect([link.pathname, link.searchParams.get("n"), link.searchParams.get("last")]).toEqual(["/v2/_catalog", "2", all[1]]);

    const seen: string[] = [];
    let path: string | null = "/v2/_catalog?n=2";
    while (path) {
      const res = await anonymous.request(path);
      seen.push(...(await res.json<{ repositories: string[] }>()).repositories);
      path = nextLink(res);
      expect(seen.length).toBeLessThanOrEqual(all.length);
    }
    expect(seen).toEqual(all);
  });
});
