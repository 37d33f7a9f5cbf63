// Manifest confusion with the real npm: what `npm publish` packs (bin, install scripts, engines,
// optional dependencies) is accepted and described truly; the same tarball sent with a manifest
// that hides its dependencies and install script is refused, and nothing is stored.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeRun, startRegistry, statusOf, type Registry } from "./helpers";

let registry: Registry;
let token: string;

beforeAll(async () => {
  registry = await startRegistry();
  token = await registry.createToken({ name: "confusion", scopes: ["read", "publish"] });
});
afterAll(() => registry?.stop());

/** Writes a package with a string `bin`, an install script, engines and an optional dependency. */
function writeRich(dir: string, name: string): string {
  mkdirSync(join(dir, "bin"), { recursive: true });
  const pkg = {
    name,
    version: "1.0.0",
    description: "e2e fixture with install-time behaviour",
    license: "MIT",
    bin: "./bin/cli.js",
    scripts: { postinstall: "node -e \"console.log('installed')\"", test: "node -e 0" },
    engines: { node: ">=18" },
    dependencies: { "left-pad": "^1.3.0" },
    optionalDependencies: { fsevents: "^2.3.0" },
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, "bin", "cli.js"), "#!/usr/bin/env node\nconsole.log('cli');\n");
  writeFileSync(join(dir, "index.js"), "module.exports = 1;\n");
  return dir;
}

test("npm publish of a package with bin, install script, engines and optional dependencies is accepted and described truly", async () => {
  const sandbox = registry.sandbox(token);
  const dir = writeRich(join(sandbox.root, "rich"), "rich-pkg");
  const r = await sandbox.npm(["publish"], dir);
  expect(r.code, describeRun("npm publish", r)).toBe(0);
  const doc = (await (await fetch(`${registry.npmUrl}rich-pkg`)).json()) as { versions: Record<string, Record<string, unknown>> };
  const v = doc.versions["1.0.0"]!;
  expect(v.hasInstallScript).toBe(true);
  expect(v.bin).toEqual({ "rich-pkg": "bin/cli.js" });
  expect(v.engines).toEqual({ node: ">=18" });
});

test("the same kind of tarball with a manifest that hides its dependencies and install script is refused", async () => {
  const sandbox = registry.sandbox(token);
  const dir = writeRich(join(sandbox.root, "liar"), "liar-pkg");
  const packed = await sandbox.npm(["pack", "--json"], dir);
  expect(packed.code, describeRun("npm pack", packed)).toBe(0);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  const bytes = readFileSync(join(dir, info!.filename));
  // What a scanner reading the packument would see: a harmless package.
  const manifest = { name: "liar-pkg", version: "1.0.0", description: "harmless", license: "MIT" };
  const body = {
    _id: "liar-pkg",
    name: "liar-pkg",
    "dist-tags": { latest: "1.0.0" },
    versions: {
      "1.0.0": {
        ...manifest,
        _id: "liar-pkg@1.0.0",
        dist: {
          integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
          shasum: createHash("sha1").update(bytes).digest("hex"),
          tarball: `${registry.npmUrl}liar-pkg/-/liar-pkg-1.0.0.tgz`,
        },
      },
    },
    _attachments: { "liar-pkg-1.0.0.tgz": { content_type: "application/octet-stream", data: bytes.toString("base64"), length: bytes.length } },
  };
  const res = await fetch(`${registry.npmUrl}liar-pkg`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: expect.stringMatching(/differs from the tarball's package\.json/) });
  expect(await statusOf(`${registry.npmUrl}liar-pkg`)).toBe(404);
  expect(await statusOf(`${registry.npmUrl}liar-pkg/-/liar-pkg-1.0.0.tgz`)).toBe(404);
});
