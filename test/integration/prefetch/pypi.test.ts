// Predictive prefetch for PyPI: a project page served in a region warms that region's shields
// with what pip fetches next: the newest release's wheel and metadata, and through its
// Requires-Dist the dependencies' documents, wheels and metadata, two levels down; yanked
// releases and extras-only requirements are passed over.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createToken } from "../../helpers/tokens";
import { worker } from "../../helpers/worker";
import { JSON_ACCEPT, upload, wheel, wheelName, type DistSpec } from "../../helpers/pypi";
import { likelyFile, requiredProjects } from "../../../workers/pypi/prefetch";
import { prefetched } from "./helpers";

const TOP: DistSpec = { name: "pf-top", version: "1.0", requiresDist: ["PF_Middle>=1", "pf-optional; extra == 'docs'"] };
const MIDDLE: DistSpec = { name: "pf.middle", version: "1.0", requiresDist: ["pf-base (>=1.0) ; python_version >= '3'"] };
const BASE: DistSpec = { name: "pf-base", version: "1.0" };
const BASE_YANKED: DistSpec = { name: "pf-base", version: "2.0" };
const OPTIONAL: DistSpec = { name: "pf-optional", version: "1.0" };

async function state(path: string, region: string, accept?: string): Promise<string | null> {
  const res = await worker(path, { headers: { "x-pkgedge-region": region, ...(accept ? { accept } : {}) } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("x-pkgedge-cache");
}

beforeAll(async () => {
  const { token } = await createToken({ scopes: ["publish"] });
  for (const spec of [BASE, BASE_YANKED, OPTIONAL, MIDDLE, TOP]) expect((await upload(spec, wheel(spec), { token })).status).toBe(200);
  const yank = await worker("/_/pypi/projects/pf-base/yank", { method: "POST", headers: { authorization: "Bearer test-admin-secret", "content-type": "application/json" }, body: JSON.stringify({ version: "2.0" }) });
  expect(yank.status).toBe(200);
});

describe("PyPI predictive prefetch", () => {
  it("a project page warms the chain's wheels and metadata and the dependencies' pages in that region only", async () => {
    const region = "ap-south";
    const files = await prefetched(region, "file");
    expect(await state("/pypi/simple/pf-top/", region, JSON_ACCEPT)).toBe("MISS");
    // top, middle and base wheels.
    await vi.waitFor(async () => expect(await prefetched(region, "file")).toBe(files + 3), { timeout: 5000, interval: 50 });
    // Metadata was read through the tiers (prefetch needs its Requires-Dist), so L1 has it too.
    expect(["L1-HIT", "L2-HIT"]).toContain(await state(`/pypi/files/pf-middle/${wheelName(MIDDLE)}.metadata`, region));
    expect(await state(`/pypi/files/pf-base/${wheelName(BASE)}`, region)).toBe("L2-HIT");
    expect(await state("/pypi/simple/pf-middle/", region, JSON_ACCEPT)).toBe("L2-HIT");
    // Not warmed: the yanked release, the extras-only dependency, other regions.
    expect(await state(`/pypi/files/pf-base/${wheelName(BASE_YANKED)}`, region)).toBe("MISS");
    expect(await state("/pypi/simple/pf-optional/", region, JSON_ACCEPT)).toBe("MISS");
    expect(await state(`/pypi/files/pf-base/${wheelName(BASE)}`, "eu-west")).toBe("MISS");
  });

  it("reads Requires-Dist as the core metadata spec writes it", () => {
    const md = new TextEncoder().encode("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: A_B[extra1] (>=1)\nRequires-Dist: c.d>=2; sys_platform == 'linux'\nRequires-Dist: e; extra == \"test\"\n\nbody\n");
    expect(requiredProjects(md)).toEqual(["a-b", "c-d"]);
  });

  it("prefers the newest release's pure-Python wheel, then its sdist, and never a yanked file", () => {
    const f = (filename: string, version: string, extra: object = {}) => ({ filename, version, packagetype: filename.endsWith(".whl") ? "bdist_wheel" : "sdist", uploadId: "u", size: 1, sha256: "", blake2_256: "", uploadTime: `2026-01-0${version}T00:00:00.000000Z`, ...extra });
    const doc = (files: ReturnType<typeof f>[]) => ({ name: "x", displayName: "x", status: "active", retired: [], files: Object.fromEntries(files.map((x) => [x.filename, x])) }) as never;
    expect(likelyFile(doc([f("x-1.tar.gz", "1"), f("x-2-cp311-cp311-linux_x86_64.whl", "2"), f("x-2.tar.gz", "2")]))!.filename).toBe("x-2.tar.gz");
    expect(likelyFile(doc([f("x-2.tar.gz", "2"), f("x-2-py3-none-any.whl", "2")]))!.filename).toBe("x-2-py3-none-any.whl");
    expect(likelyFile(doc([f("x-1-py3-none-any.whl", "1"), f("x-2-py3-none-any.whl", "2", { yanked: "" })]))!.filename).toBe("x-1-py3-none-any.whl");
  });
});
