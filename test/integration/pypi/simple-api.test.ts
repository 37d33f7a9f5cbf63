// The Simple API as an installer sees it after uploads: both page formats with every PEP 691 /
// 700 / 714 / 592 / 792 field, files and core metadata byte for byte, content negotiation,
// PEP 503 redirects, and yank, status and delete changes (with the admin API) reaching every
// region's copy.
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { JSON_ACCEPT, coreMetadata, hexDigest, projectJson, sdist, sdistName, upload, wheel, wheelName, type DistSpec } from "../../helpers/pypi";
import { worker } from "../../helpers/worker";

let publisher: string;
const LIB: DistSpec = { name: "Simple_Lib", version: "1.0", requiresPython: ">=3.8", requiresDist: ["other-lib>=2"] };
const LIB2: DistSpec = { ...LIB, version: "2.0" };
const libWheel = wheel(LIB);

async function admin(path: string, method: string, body?: unknown, token = ADMIN_SECRET): Promise<Response> {
  return worker(`/_/pypi/projects/${path}`, { method, headers: { ...bearer(token), "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

beforeAll(async () => {
  publisher = (await createToken({ scopes: ["read", "publish"] })).token;
  for (const [s, file] of [[LIB, libWheel], [LIB, await sdist(LIB)], [LIB2, wheel(LIB2)]] as const) {
    const res = await upload(s, file, { token: publisher });
    expect(res.status, await res.text()).toBe(200);
  }
});

describe("project page", () => {
  it("JSON lists each file with hashes, requires-python, core-metadata, yanked, size and upload-time, and the versions", async () => {
    const page = (await projectJson("simple-lib"))!;
    expect(page.meta["api-version"]).toBe("1.4");
    expect(page.name).toBe("simple-lib");
    expect(page.versions).toEqual(["1.0", "2.0"]);
    expect(page["project-status"]).toEqual({ status: "active" });
    const whl = page.files.find((f) => f.filename === wheelName(LIB))!;
    expect(whl).toMatchObject({
      url: `/pypi/files/simple-lib/${wheelName(LIB)}`,
      hashes: { sha256: await hexDigest("SHA-256", libWheel) },
      "requires-python": ">=3.8",
      "core-metadata": { sha256: await hexDigest("SHA-256", new TextEncoder().encode(coreMetadata(LIB))) },
      yanked: false,
      size: libWheel.length,
    });
    expect(whl["upload-time"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // sdists have no separate metadata file.
    expect(page.files.find((f) => f.filename === sdistName(LIB))!["core-metadata"]).toBe(false);
  });

  it("HTML carries the same facts as PEP 503 anchors and PEP 792 meta tags", async () => {
    const res = await worker("/pypi/simple/simple-lib/", { headers: { accept: "text/html" } });
    expect(res.headers.get("content-type")).toBe("text/html");
    const html = await res.text();
    expect(html).toContain('<meta name="pypi:repository-version" content="1.4">');
    expect(html).toContain('<meta name="pypi:project-status" content="active">');
    const sha = await hexDigest("SHA-256", libWheel);
    const md = await hexDigest("SHA-256", new TextEncoder().encode(coreMetadata(LIB)));
    expect(html).toContain(`<a href="/pypi/files/simple-lib/${wheelName(LIB)}#sha256=${sha}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=${md}" data-core-metadata="sha256=${md}">${wheelName(LIB)}</a>`);
  });

  it("serves the wheel and its METADATA byte for byte, immutable", async () => {
    const file = await worker(`/pypi/files/simple-lib/${wheelName(LIB)}`);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(libWheel);
    expect(file.headers.get("cache-control")).toContain("immutable");
    const md = await worker(`/pypi/files/simple-lib/${wheelName(LIB)}.metadata`);
    expect(await md.text()).toBe(coreMetadata(LIB));
    expect((await worker(`/pypi/files/simple-lib/${sdistName(LIB)}.metadata`)).status).toBe(404);
    expect((await worker("/pypi/files/simple-lib/simple_lib-9.9-py3-none-any.whl")).status).toBe(404);
  });

  it("lists the project in the index, in both formats", async () => {
    const json = await (await worker("/pypi/simple/", { headers: { accept: JSON_ACCEPT } })).json<{ projects: Array<{ name: string }> }>();
    expect(json.projects).toContainEqual({ name: "simple-lib" });
    expect(await (await worker("/pypi/simple/")).text()).toContain('<a href="/pypi/simple/simple-lib/">simple-lib</a>');
  });
});

describe("negotiation", () => {
  // [Accept or ?format=, status, Content-Type]
  const CASES: Array<[string, { accept?: string; format?: string }, number, string | null]> = [
    ["no Accept", {}, 200, "text/html"],
    ["*/*", { accept: "*/*" }, 200, "text/html"],
    ["v1+json", { accept: "application/vnd.pypi.simple.v1+json" }, 200, "application/vnd.pypi.simple.v1+json"],
    ["latest+json", { accept: "application/vnd.pypi.simple.latest+json" }, 200, "application/vnd.pypi.simple.v1+json"],
    ["v1+html", { accept: "application/vnd.pypi.simple.v1+html" }, 200, "application/vnd.pypi.simple.v1+html"],
    ["pip's Accept", { accept: "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01" }, 200, "application/vnd.pypi.simple.v1+json"],
    ["HTML preferred by q", { accept: "application/vnd.pypi.simple.v1+json;q=0.2, text/html" }, 200, "text/html"],
    ["?format= wins over Accept", { accept: "text/html", format: "application/vnd.pypi.simple.v1+json" }, 200, "application/vnd.pypi.simple.v1+json"],
    ["nothing we serve", { accept: "application/xml" }, 406, null],
    ["every offer at q=0", { accept: "text/html;q=0, application/vnd.pypi.simple.v1+json;q=0" }, 406, null],
  ];
  it.each(CASES)("%s", async (_label, { accept, format }, status, type) => {
    const res = await worker(`/pypi/simple/simple-lib/${format ? `?format=${encodeURIComponent(format)}` : ""}`, { headers: accept ? { accept } : {} });
    expect(res.status).toBe(status);
    expect(res.headers.get("vary")).toMatch(/Accept/);
    if (type) expect(res.headers.get("content-type")).toBe(type);
  });
});

describe("PEP 503 names", () => {
  // [requested path, where it redirects]
  const CASES: Array<[string, string]> = [
    ["/pypi/simple/Simple_Lib/", "/pypi/simple/simple-lib/"],
    ["/pypi/simple/simple.lib/", "/pypi/simple/simple-lib/"],
    ["/pypi/simple/SIMPLE--LIB", "/pypi/simple/simple-lib/"],
    ["/pypi/simple/simple-lib", "/pypi/simple/simple-lib/"],
    ["/pypi/simple/Simple_Lib/?format=application/vnd.pypi.simple.v1+json", "/pypi/simple/simple-lib/?format=application/vnd.pypi.simple.v1+json"],
    ["/pypi/simple", "/pypi/simple/"],
  ];
  it.each(CASES)("%s redirects to %s", async (path, target) => {
    const res = await worker(path, { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(target);
  });
});

describe("yank, status and delete", () => {
  it("a yank (with its reason) shows in both formats; unyank removes it", async () => {
    expect((await admin("simple-lib/yank", "POST", { version: "2.0", reason: "broken build" }, publisher)).status).toBe(200);
    const file = (await projectJson("simple-lib"))!.files.find((f) => f.filename === wheelName(LIB2))!;
    expect(file.yanked).toBe("broken build");
    expect(await (await worker("/pypi/simple/simple-lib/")).text()).toContain('data-yanked="broken build"');
    // A yanked file is still served (PEP 592: pinned installs keep working).
    expect((await worker(`/pypi/files/simple-lib/${wheelName(LIB2)}`)).status).toBe(200);
    expect((await admin("simple-lib/unyank", "POST", { version: "2.0" }, publisher)).status).toBe(200);
    expect((await projectJson("simple-lib"))!.files.find((f) => f.filename === wheelName(LIB2))!.yanked).toBe(false);
  });

  it("quarantine hides every file in every region at once, and only an admin sets or lifts it", async () => {
    const url = `/pypi/files/simple-lib/${wheelName(LIB)}`;
    // Warm eu-west's L1 and shield with the page and the file.
    expect((await projectJson("simple-lib", worker, { "x-pkgedge-region": "eu-west" }))!.files.length).toBe(3);
    expect((await worker(url, { headers: { "x-pkgedge-region": "eu-west" } })).status).toBe(200);
    expect((await admin("simple-lib/status", "POST", { status: "quarantined" }, publisher)).status).toBe(403);
    expect((await admin("simple-lib/status", "POST", { status: "quarantined", reason: "malware report" })).status).toBe(200);
    const page = (await projectJson("simple-lib", worker, { "x-pkgedge-region": "eu-west" }))!;
    expect(page.files).toEqual([]);
    expect(page["project-status"]).toEqual({ status: "quarantined", reason: "malware report" });
    expect((await worker(url, { headers: { "x-pkgedge-region": "eu-west" } })).status).toBe(404);
    expect((await admin("simple-lib/status", "POST", { status: "active" }, publisher)).status).toBe(403);
    expect((await admin("simple-lib/status", "POST", { status: "active" })).status).toBe(200);
    // Lifting it is an ordinary change: the writer's region at once, the others as events arrive.
    expect((await worker(url)).status).toBe(200);
  });

  it("archived projects take no uploads; deprecated ones do", async () => {
    const spec: DistSpec = { name: "Simple_Lib", version: "3.0" };
    expect((await admin("simple-lib/status", "POST", { status: "archived" }, publisher)).status).toBe(200);
    const refused = await upload(spec, wheel(spec), { token: publisher });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/archived and takes no uploads/);
    expect((await admin("simple-lib/status", "POST", { status: "deprecated", reason: "use other-lib" }, publisher)).status).toBe(200);
    expect(await (await worker("/pypi/simple/simple-lib/")).text()).toContain('<meta name="pypi:project-status-reason" content="use other-lib">');
    expect((await upload(spec, wheel(spec), { token: publisher })).status).toBe(200);
  });

  it("a deleted file is gone and its name can never be uploaded again, even after the project is deleted", async () => {
    const res = await admin(`simple-lib/files/${wheelName(LIB2)}`, "DELETE", undefined, publisher);
    expect(await res.json()).toMatchObject({ deleted: [wheelName(LIB2)] });
    expect((await worker(`/pypi/files/simple-lib/${wheelName(LIB2)}`)).status).toBe(404);
    const again = await upload(LIB2, wheel(LIB2), { token: publisher });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/already been used/);

    expect((await admin("simple-lib", "DELETE")).status).toBe(200);
    expect((await worker("/pypi/simple/simple-lib/")).status).toBe(404);
    expect((await worker(`/pypi/files/simple-lib/${wheelName(LIB)}`)).status).toBe(404);
    expect(await (await worker("/pypi/simple/")).text()).not.toContain("simple-lib");
    expect((await upload(LIB, libWheel, { token: publisher })).status).toBe(400);
    // A new version starts the project again, with its old names still retired.
    const v4: DistSpec = { name: "simple-lib", version: "4.0" };
    expect((await upload(v4, wheel(v4), { token: publisher })).status).toBe(200);
    expect((await projectJson("simple-lib"))!.versions).toEqual(["4.0"]);
  });

  it("the audit log names each change", async () => {
    const res = await worker("/_/audit?limit=50", { headers: bearer(ADMIN_SECRET) });
    const actions = (await res.json<{ entries: Array<{ action: string }> }>()).entries.map((e) => e.action);
    for (const action of ["pypi.upload", "pypi.yank", "pypi.unyank", "pypi.status", "pypi.delete.file", "pypi.delete.project"]) expect(actions).toContain(action);
  });
});
