// Manifest confusion: the package.json inside a published tarball must say what the version
// manifest in the publish body says (name, version, four kinds of dependencies, bin, install
// scripts, engines), and hasInstallScript comes from the tarball. Refused publishes store nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { makeTarball, publishBody, type PublishBody } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { expectNoPackage, expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({});
let counter = 0;
const fresh = (what: string) => `confused-${what.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${counter++}`;

/** A publish body whose manifest has `manifest` fields and whose tarball's package.json is `pkg`. */
async function bodyWith(name: string, manifest: Record<string, unknown>, pkg: Record<string, unknown>, extraFiles: Record<string, string> = {}): Promise<PublishBody> {
  const tarball = makeTarball({ "package.json": JSON.stringify({ name, version: "1.0.0", ...pkg }), "index.js": "module.exports = 1;\n", ...extraFiles });
  return publishBody(name, "1.0.0", { tarball, fields: manifest });
}

describe("a tarball whose package.json disagrees with the manifest", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  it("is refused: the attack as reported (other name, version, a dependency, a preinstall script)", async () => {
    const name = fresh("reported");
    const tarball = makeTarball({
      "package.json": JSON.stringify({ name: "something-else", version: "6.6.6", dependencies: { "evil-helper": "*" }, scripts: { preinstall: "node steal.js" } }),
      "steal.js": "// would run at install\n",
    });
    const res = await npm.putPackument(name, await publishBody(name, "1.0.0", { tarball }));
    await expectNpmError(res, 400, /differs from the tarball's package.json/);
    await expectNoPackage(npm, name);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["version", {}, { version: "1.0.1" }],
    ["dependencies", {}, { dependencies: { "left-pad": "^1" } }],
    ["dependencies", { dependencies: { "left-pad": "^1" } }, { dependencies: { "left-pad": "^2" } }],
    ["devDependencies", { devDependencies: { a: "1" } }, {}],
    ["optionalDependencies", {}, { optionalDependencies: { fsevents: "*" } }],
    ["peerDependencies", {}, { peerDependencies: { react: ">=16" } }],
    ["bin", {}, { bin: { sneaky: "run.js" } }],
    ["bin", { bin: { tool: "cli.js" } }, { bin: { tool: "other.js" } }],
    ["install scripts", {}, { scripts: { preinstall: "curl | sh" } }],
    ["install scripts", {}, { scripts: { install: "x" } }],
    ["install scripts", { scripts: { postinstall: "echo hi" } }, { scripts: { postinstall: "rm -rf ~" } }],
    ["engines", { engines: { node: ">=18" } }, { engines: { node: ">=0.1" } }],
  ])("is refused when %s differs (manifest %j, tarball %j)", async (field, manifest, pkg) => {
    const name = fresh(field);
    await expectNpmError(await npm.putPackument(name, await bodyWith(name, manifest, pkg)), 400, new RegExp(`manifest's ${field} .* differs from the tarball's package\\.json`));
    await expectNoPackage(npm, name);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    // A string bin is named after the package: the test's package is "confused-bin-string".
    ["bin as npm normalises it", { bin: { "confused-bin-string": "bin/cli.js" } }, { bin: "./bin/cli.js" }],
    ["optional dependencies repeated in dependencies", { dependencies: { a: "1", o: "2" }, optionalDependencies: { o: "2" } }, { dependencies: { a: "1" }, optionalDependencies: { o: "2" } }],
    ["scripts that do not run at install", { scripts: { test: "vitest" } }, { scripts: { test: "jest", build: "tsc" } }],
    ["empty objects for absent fields", { dependencies: {}, engines: {} }, {}],
  ])("is accepted when only the form differs: %s", async (what, manifest, pkg) => {
    const name = what.startsWith("bin") ? "confused-bin-string" : fresh(what);
    const tarball = makeTarball({ "package.json": JSON.stringify({ name, version: "1.0.0", ...pkg }) });
    expect((await npm.putPackument(name, await publishBody(name, "1.0.0", { tarball, fields: manifest }))).status).toBe(201);
  });
});

describe("hasInstallScript", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, string>, boolean]>([
    ["a postinstall the client called harmless", { scripts: { postinstall: "node x" }, hasInstallScript: false }, { scripts: { postinstall: "node x" } }, {}, true],
    ["no install script, though the client claims one", { hasInstallScript: true }, {}, {}, false],
    ["a binding.gyp (npm runs node-gyp rebuild)", {}, {}, { "binding.gyp": "{}" }, true],
  ])("comes from the tarball: %s", async (what, manifest, pkg, files, expected) => {
    const name = fresh(what);
    expect((await npm.putPackument(name, await bodyWith(name, manifest, pkg, files))).status).toBe(201);
    const stored = (await npm.packument(name)).versions["1.0.0"] as Record<string, unknown>;
    expect(stored.hasInstallScript === true).toBe(expected);
    if (!expected) expect(stored).not.toHaveProperty("hasInstallScript");
  });
});

describe("a tarball that cannot be checked", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  it.each<[string, (name: string) => Uint8Array, RegExp]>([
    ["bytes that are no archive", () => new TextEncoder().encode("just some bytes ".repeat(64)), /not a readable tar archive/],
    ["a gzip stream that is no tar", () => new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]), /not a readable gzipped tar archive/],
    ["a tarball without package.json", () => makeTarball({ "index.js": "1" }), /has no package\.json/],
    ["a tarball with two package.json", (name) => makeTarball([["package.json", JSON.stringify({ name, version: "1.0.0" })], ["index.js", "1"], ["package.json", JSON.stringify({ name, version: "1.0.0", scripts: { install: "x" } })]]), /more than one package\.json/],
    ["a package.json that is not JSON", () => makeTarball({ "package.json": "{ nope" }), /package\.json is not valid JSON/],
  ])("is refused: %s", async (what, tarball, message) => {
    const name = fresh(what);
    await expectNpmError(await npm.putPackument(name, await publishBody(name, "1.0.0", { tarball: tarball(name) })), 400, message);
    await expectNoPackage(npm, name);
  });
});
