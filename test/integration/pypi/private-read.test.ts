// With ANONYMOUS_READ=false the Simple API is private: pip gets a Basic challenge (401) without
// a token, a token for other projects gets 403, and a cached page or file is never handed to
// a caller who may not read it (checked while L1 and the shield hold copies). The index lists
// only the projects the caller may read.
import { beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";
import { JSON_ACCEPT, basicToken, upload, wheel, wheelName, type DistSpec } from "../../helpers/pypi";

const fetch = workerWith({ ANONYMOUS_READ: "false" });
const SECRET: DistSpec = { name: "private-lib", version: "1.0" };
const OTHER: DistSpec = { name: "other-private", version: "1.0" };
let reader: string;
let otherReader: string;

beforeAll(async () => {
  const { token } = await createToken({ scopes: ["publish"] });
  for (const spec of [SECRET, OTHER]) expect((await upload(spec, wheel(spec), { token, fetch })).status).toBe(200);
  reader = (await createToken({ scopes: ["read"], packages: ["private-lib"] })).token;
  otherReader = (await createToken({ scopes: ["read"], packages: ["other-private"] })).token;
});

const PATHS = [`/pypi/simple/private-lib/`, `/pypi/files/private-lib/${wheelName(SECRET)}`, `/pypi/files/private-lib/${wheelName(SECRET)}.metadata`];

describe("private reads", () => {
  it.each(PATHS)("%s: 200 with the token (private caching), then 401 and 403 for others while cached", async (path) => {
    for (let i = 0; i < 2; i++) {
      const ok = await fetch(path, { headers: { ...basicToken(reader), accept: JSON_ACCEPT } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("cache-control")).toMatch(/^private/);
    }
    const anonymous = await fetch(path, { headers: { accept: JSON_ACCEPT } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="pkgedge"');
    expect((await fetch(path, { headers: { ...basicToken(otherReader), accept: JSON_ACCEPT } })).status).toBe(403);
    expect((await fetch(path, { headers: { ...basicToken(`pke_${"q".repeat(40)}`), accept: JSON_ACCEPT } })).status).toBe(401);
  });

  it("the index lists only what the caller may read", async () => {
    const res = await fetch("/pypi/simple/", { headers: { ...basicToken(reader), accept: JSON_ACCEPT } });
    const names = (await res.json<{ projects: Array<{ name: string }> }>()).projects.map((p) => p.name);
    expect(names).toContain("private-lib");
    expect(names).not.toContain("other-private");
    expect((await fetch("/pypi/simple/")).status).toBe(401);
  });
});
