// GET / (and HEAD): what this server is, its routes and how to point npm, skopeo and pip at it, written
// with the origin the request came to, so the lines can be copied as they are.
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { html } from "hono/html";

const ROUTES = [
  ["/npm/", "npm registry API (npm, pnpm, yarn)"],
  ["/v2/", "OCI Distribution API (docker, podman, skopeo, crane, oras)"],
  ["/pypi/simple/", "PyPI Simple API (pip, uv); twine uploads to /pypi/legacy/"],
  ["/_/dashboard", "metrics dashboard (admin secret or METRICS_TOKEN)"],
  ["/_/health", "liveness, JSON"],
] as const;

/** The client set-up for this origin, as the README's "Using it" section gives it. */
function clientSetup(origin: string) {
  const url = new URL(origin);
  // npm keys credentials by the registry URL without its scheme.
  const npmAuth = `//${url.host}/npm/:_authToken=\${PKGEDGE_TOKEN}`;
  // skopeo expects TLS unless told otherwise; plain http (wrangler dev) needs the flag.
  const tls = url.protocol === "http:" ? " --dest-tls-verify=false" : "";
  return {
    npmrc: `registry=${origin}/npm/\n${npmAuth}`,
    npmrcScoped: `@acme:registry=${origin}/npm/\n${npmAuth}`,
    skopeo: `skopeo copy --dest-creds me:pke_...${tls} oci:./image:latest docker://${url.host}/team/app:latest`,
    pip: `pip install --index-url ${origin}/pypi/simple/ my-package`,
    twine: `twine upload --repository-url ${origin}/pypi/legacy/ -u __token__ -p pke_... dist/*`,
  };
}

export function home(c: Context): Response | Promise<Response> {
  const origin = new URL(c.req.url).origin;
  const setup = clientSetup(origin);
  const headers = { "cache-control": "no-store", vary: "accept" };
  if (accepts(c, { header: "Accept", supports: ["text/html", "application/json"], default: "text/html" }) === "application/json") {
    return c.json({ name: "pkgedge", description: "package CDN and registry for npm, OCI images and Python packages", origin, routes: Object.fromEntries(ROUTES), setup }, 200, headers);
  }
  // hono's html tag escapes every interpolated value (the origin is the request's own).
  const page = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>pkgedge</title></head>
<body>
<h1>pkgedge</h1>
<p>A package CDN and registry for npm packages, OCI images and Python packages, served at ${origin}.</p>
<h2>Routes</h2>
<ul>
${ROUTES.map(([path, what]) => (path.startsWith("/_/") ? html`<li><a href="${path}"><code>${path}</code></a>: ${what}</li>\n` : html`<li><code>${path}</code>: ${what}</li>\n`))}</ul>
<h2>npm, pnpm, yarn</h2>
<p>Put a <code>.npmrc</code> next to <code>package.json</code> (or in your user config when this registry has an upstream, <code>NPM_UPSTREAM</code>; without one it serves only what was published to it):</p>
<pre>${setup.npmrc}</pre>
<p>or, to send only one scope here and the rest to your usual registry:</p>
<pre>${setup.npmrcScoped}</pre>
<h2>skopeo, docker, podman</h2>
<pre>${setup.skopeo}</pre>
<h2>pip, twine</h2>
<pre>${setup.pip}
${setup.twine}</pre>
<p>Tokens come from <code>npm run pkgedge -- token create</code> or <code>POST /_/tokens</code>; the README's "Using it" section has the rest.</p>
</body>
</html>
`;
  return c.html(page, 200, { ...headers, "content-security-policy": "default-src 'none'; frame-ancestors 'none'" });
}
