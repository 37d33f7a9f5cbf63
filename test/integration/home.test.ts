// GET / tells a newcomer what this is and how to point npm and skopeo at it, with the origin
// the request came to; JSON when asked for. Paths no route serves (PyPI's, until it is built)
// stay plain unknown paths.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { worker } from "../helpers/worker";

// `worker` always uses the test origin; the page must follow whatever origin a request names.
const fetchAt = (origin: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${origin}/`, init));

describe("GET /", () => {
  it("is an HTML page naming the routes and the client set-up for the request's origin", async () => {
    const res = await fetchAt("http://127.0.0.1:8787", { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const page = await res.text();
    for (const route of ["/npm/", "/v2/", "/_/dashboard", "/_/health"]) expect(page).toContain(`<code>${route}</code>`);
    expect(page).toContain("registry=http://127.0.0.1:8787/npm/\n//127.0.0.1:8787/npm/:_authToken=${PKGEDGE_TOKEN}");
    expect(page).toContain("@acme:registry=http://127.0.0.1:8787/npm/");
    expect(page).toContain("--dest-tls-verify=false oci:./image:latest docker://127.0.0.1:8787/team/app:latest");
  });

  it("answers curl's */* with the page too, and HEAD with its headers only", async () => {
    const res = await fetchAt("http://127.0.0.1:8787", { headers: { accept: "*/*" } });
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    await res.body?.cancel();
    const head = await fetchAt("http://127.0.0.1:8787", { method: "HEAD" });
    expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([200, expect.stringMatching(/^text\/html/), ""]);
  });

  it("answers JSON when the client asks for it, with the origin it was reached at", async () => {
    const res = await fetchAt("https://registry.example.test", { headers: { accept: "application/json" } });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      name: "pkgedge",
      description: expect.any(String),
      origin: "https://registry.example.test",
      routes: { "/npm/": expect.any(String), "/v2/": expect.any(String), "/pypi/simple/": expect.any(String), "/_/dashboard": expect.any(String), "/_/health": expect.any(String) },
      setup: {
        npmrc: "registry=https://registry.example.test/npm/\n//registry.example.test/npm/:_authToken=${PKGEDGE_TOKEN}",
        npmrcScoped: "@acme:registry=https://registry.example.test/npm/\n//registry.example.test/npm/:_authToken=${PKGEDGE_TOKEN}",
        // TLS is on for an https origin: no --dest-tls-verify=false.
        skopeo: "skopeo copy --dest-creds me:pke_... oci:./image:latest docker://registry.example.test/team/app:latest",
        pip: "pip install --index-url https://registry.example.test/pypi/simple/ my-package",
        twine: "twine upload --repository-url https://registry.example.test/pypi/legacy/ -u __token__ -p pke_... dist/*",
      },
    });
  });
});

describe("/pypi/", () => {
  it("is the PyPI protocol: the Simple API answers GET, and an upload without a token gets twine's 403 in plain text", async () => {
    const get = await worker("/pypi/simple/");
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('<meta name="pypi:repository-version"');
    const post = await worker("/pypi/legacy/", { method: "POST", body: "x" });
    expect([post.status, post.headers.get("content-type")]).toEqual([403, "text/plain; charset=utf-8"]);
    await post.body?.cancel();
  });
});
