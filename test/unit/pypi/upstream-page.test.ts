// An upstream Simple API page, as the PyPI mirror reads it: PEP 691 JSON and PEP 503 HTML give
// the same files, hashes, requires-python (entities decoded), yanks, core metadata and status.
import { describe, expect, it } from "vitest";
import { readUpstreamPage } from "../../../workers/pypi/upstream-page";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);
const BASE = "http://127.0.0.1:8000/simple/demo/";

const html = `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1">
<meta name="pypi:project-status" content="deprecated"><meta name="pypi:project-status-reason" content="use other"></head><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=${H1}" data-requires-python="&gt;=3.8" data-core-metadata="sha256=${H2}">demo-1.0-py3-none-any.whl</a><br>
<a href="http://127.0.0.1:8000/files/demo-0.9.tar.gz#sha256=${H2}" data-yanked="broken &amp; bad">demo-0.9.tar.gz</a>
<a href="../../files/demo-0.8.tar.gz">demo-0.8.tar.gz</a>
</body></html>`;

const json = {
  meta: { "api-version": "1.1" }, name: "demo", "project-status": { status: "deprecated", reason: "use other" },
  files: [
    { filename: "demo-1.0-py3-none-any.whl", url: "../../files/demo-1.0-py3-none-any.whl", hashes: { sha256: H1 }, "requires-python": ">=3.8", "core-metadata": { sha256: H2 }, size: 10, "upload-time": "2020-01-01T00:00:00Z" },
    { filename: "demo-0.9.tar.gz", url: "http://127.0.0.1:8000/files/demo-0.9.tar.gz", hashes: { sha256: H2 }, yanked: "broken & bad" },
    { filename: "demo-0.8.tar.gz", url: "../../files/demo-0.8.tar.gz", hashes: {} },
  ],
};

describe("readUpstreamPage", () => {
  it.each([
    ["PEP 503 HTML", () => new Response(html, { headers: { "content-type": "text/html" } })],
    ["PEP 691 JSON", () => new Response(JSON.stringify(json), { headers: { "content-type": "application/vnd.pypi.simple.v1+json" } })],
  ])("reads %s", async (_, make) => {
    const page = await readUpstreamPage(make(), BASE);
    expect(page.status).toBe("deprecated");
    expect(page.statusReason).toBe("use other");
    expect(page.files.map((f) => f.filename)).toEqual(["demo-1.0-py3-none-any.whl", "demo-0.9.tar.gz", "demo-0.8.tar.gz"]);
    const [wheel, yanked, unhashed] = page.files;
    expect(wheel).toMatchObject({ url: "http://127.0.0.1:8000/files/demo-1.0-py3-none-any.whl", sha256: H1, requiresPython: ">=3.8", coreMetadataSha256: H2 });
    expect(wheel!.yanked).toBeUndefined();
    expect(yanked).toMatchObject({ sha256: H2, yanked: "broken & bad" });
    expect(unhashed!.sha256).toBeUndefined();
  });
});
