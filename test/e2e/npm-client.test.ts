// The real npm CLI against a live pkgedge (wrangler dev): publish a dependency chain, install it
// from an empty cache, and the everyday package-management commands. Every npm command runs in
// its own sandbox (own .npmrc, empty cache), so no answer comes from npm's local cache.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHAIN, CHAIN_OUTPUT, describeRun, get, packagePath, publishAll, rawPublish, startRegistry, statusOf, type Registry, type RunResult } from "./helpers";

let registry: Registry;
/** read + publish, named so `npm whoami` has something to print. */
let token: string;

beforeAll(async () => {
  registry = await startRegistry();
  token = await registry.createToken({ name: "e2e-publisher", scopes: ["read", "publish"] });
  await publishAll(registry, token, CHAIN);
});
afterAll(() => registry?.stop());

function expectSuccess(r: RunResult, what: string): void {
  expect(r.code, describeRun(what, r)).toBe(0);
}

/** `npm view <args>` printed as JSON, from a fresh cache. */
async function view(args: string[]): Promise<RunResult> {
  return registry.npm(["view", ...args, "--json"], token);
}

describe("install", () => {
  test("npm install a pulls a -> b -> @acme/c into a clean project with an empty cache", async () => {
    const client = registry.sandbox();
    const install = await client.npm(["install", "a"]);
    expectSuccess(install, "npm install a");
    expect(install.stdout).toMatch(/added 3 packages/);

    const program = await client.node("console.log(require('a'))");
    expectSuccess(program, "node -e require('a')");
    expect(program.stdout.trim()).toBe(CHAIN_OUTPUT);
  });
});

describe("tarballs", () => {
  test("carry Content-Length, ETag and immutable caching, from the origin and from L1 alike", async () => {
    const url = `${registry.npmUrl}a/-/a-1.0.0.tgz`;
    const seen = [];
    for (let i = 0; i < 2; i++) {
      const res = await get(url, { region: "ap-south" });
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
      expect(res.headers.get("etag")).toBeTruthy();
      expect(res.headers.get("cache-control")).toContain("immutable");
      seen.push(res.headers.get("x-pkgedge-cache"));
    }
    expect(seen[1]).toBe("L1-HIT");
  });
});

describe("dist-tags", () => {
  test("npm dist-tag add, ls and rm", async () => {
    const add = await registry.npm(["dist-tag", "add", "a@1.0.0", "beta"], token);
    expectSuccess(add, "npm dist-tag add");
    expect(add.stdout).toContain("+beta: a@1.0.0");

    const listed = await registry.npm(["dist-tag", "ls", "a"], token);
    expectSuccess(listed, "npm dist-tag ls");
    expect(listed.stdout.split("\n")).toEqual(expect.arrayContaining(["beta: 1.0.0", "latest: 1.0.0"]));

    // Installers see the tag too.
    const tags = await view(["a", "dist-tags"]);
    expect(JSON.parse(tags.stdout)).toMatchObject({ beta: "1.0.0", latest: "1.0.0" });

    const rm = await registry.npm(["dist-tag", "rm", "a", "beta"], token);
    expectSuccess(rm, "npm dist-tag rm");
    expect(rm.stdout).toContain("-beta: a@1.0.0");

    const after = await registry.npm(["dist-tag", "ls", "a"], token);
    expectSuccess(after, "npm dist-tag ls");
    expect(after.stdout).not.toContain("beta");
    expect(after.stdout).toContain("latest: 1.0.0");
  });
});

describe("deprecate", () => {
  test("npm deprecate shows in npm view and makes npm install warn; an empty message undoes it", async () => {
    const message = "b 1.0.0 is deprecated, e2e says so";
    expectSuccess(await registry.npm(["deprecate", "b@1.0.0", message], token), "npm deprecate");

    const viewed = await registry.npm(["view", "b", "deprecated"], token);
    expectSuccess(viewed, "npm view b deprecated");
    expect(viewed.stdout.trim()).toBe(message);

    const install = await registry.sandbox().npm(["install", "b"]);
    expectSuccess(install, "npm install b");
    expect(install.stderr).toContain(`npm warn deprecated b@1.0.0: ${message}`);

    expectSuccess(await registry.npm(["deprecate", "b@1.0.0", ""], token), "npm deprecate (undo)");
    const cleared = await registry.npm(["view", "b", "deprecated"], token);
    expectSuccess(cleared, "npm view b deprecated");
    expect(cleared.stdout.trim()).toBe("");
  });
});

describe("versions are never reused", () => {
  // Its own package, so the install test above always sees a@1.0.0 as latest.
  const pkg = { name: "republished", version: "1.0.0", dependencies: {} };

  test("republishing a version fails with 409 and a JSON error; a new version publishes and both are listed", async () => {
    expectSuccess(await registry.publish(pkg, token), "npm publish 1.0.0");

    // npm would refuse on its own without --force; with it, the registry answers.
    const forced = await registry.publish(pkg, token, ["--force"]);
    expect(forced.code, describeRun("npm publish --force", forced)).not.toBe(0);
    expect(forced.stderr).toMatch(/E409/);
    // npm shows the registry's JSON error message to the user.
    expect(forced.stderr).toMatch(/409 Conflict - PUT \S+\/npm\/republished - .*republished@1\.0\.0/);

    const raw = await rawPublish(registry, pkg, token);
    expect(raw.status).toBe(409);
    expect(raw.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await raw.json()).toEqual({ error: expect.stringContaining("republished@1.0.0") });

    expectSuccess(await registry.publish({ ...pkg, version: "1.0.1" }, token), "npm publish 1.0.1");
    const versions = await view(["republished", "versions"]);
    expectSuccess(versions, "npm view versions");
    expect(JSON.parse(versions.stdout)).toEqual(["1.0.0", "1.0.1"]);
  });
});

describe("unpublish", () => {
  const pkg = { name: "unpublished", version: "1.0.0", dependencies: {} };

  test("npm unpublish pkg@version removes that version for good; --force removes the package", async () => {
    expectSuccess(await registry.publish(pkg, token), "npm publish 1.0.0");
    expectSuccess(await registry.publish({ ...pkg, version: "1.0.1" }, token), "npm publish 1.0.1");
    // Download both tarballs in two regions first: no cache may outlive the unpublish.
    const regions = ["us-east", "eu-west"];
    const tarball = (version: string) => `${registry.npmUrl}unpublished/-/unpublished-${version}.tgz`;
    const statusIn = (region: string, version: string) => statusOf(tarball(version), { region });
    for (const region of regions) {
      for (const version of ["1.0.0", "1.0.1", "1.0.0", "1.0.1"]) {
        expect(await statusIn(region, version), `GET unpublished-${version}.tgz in ${region}`).toBe(200);
      }
    }

    const one = await registry.npm(["unpublish", "unpublished@1.0.1"], token);
    expectSuccess(one, "npm unpublish unpublished@1.0.1");
    expect(one.stdout).toContain("- unpublished@1.0.1");

    const versions = await view(["unpublished", "versions"]);
    expectSuccess(versions, "npm view versions");
    expect(JSON.parse(versions.stdout)).toEqual(["1.0.0"]);
    for (const region of regions) {
      expect(await statusIn(region, "1.0.1"), `unpublished 1.0.1 tarball in ${region}`).toBe(404);
      expect(await statusIn(region, "1.0.0"), `kept 1.0.0 tarball in ${region}`).toBe(200);
    }

    // The version number stays taken, whichever way the publish arrives.
    const again = await registry.publish({ ...pkg, version: "1.0.1" }, token, ["--force"]);
    expect(again.code, describeRun("npm publish 1.0.1 again", again)).not.toBe(0);
    expect(again.stderr).toMatch(/E409/);
    const raw = await rawPublish(registry, { ...pkg, version: "1.0.1" }, token);
    expect(raw.status).toBe(409);
    expect(await raw.json()).toEqual({ error: expect.any(String) });

    const all = await registry.npm(["unpublish", "unpublished", "--force"], token);
    expectSuccess(all, "npm unpublish --force");
    const gone = await registry.npm(["view", "unpublished"], token);
    expect(gone.code, describeRun("npm view after unpublish", gone)).not.toBe(0);
    expect(gone.stderr).toMatch(/E404/);
    expect(await statusOf(`${registry.npmUrl}${packagePath("unpublished")}`)).toBe(404);
    for (const region of regions) expect(await statusIn(region, "1.0.0"), `1.0.0 tarball in ${region}`).toBe(404);
  });
});

describe("service commands", () => {
  test("npm whoami prints the token's name", async () => {
    const r = await registry.npm(["whoami"], token);
    expectSuccess(r, "npm whoami");
    expect(r.stdout.trim()).toBe("e2e-publisher");
  });

  test("npm whoami with an unknown token fails with E401; without one the registry answers 401", async () => {
    const r = await registry.npm(["whoami"], "pke_NotARealTokenNotARealTokenNotARealToken");
    expect(r.code, describeRun("npm whoami", r)).not.toBe(0);
    expect(r.stderr).toMatch(/E401/);

    // npm will not even ask without a token (ENEEDAUTH), so ask the registry directly.
    const anonymous = await get(`${registry.npmUrl}-/whoami`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: expect.any(String) });
  });

  test("npm ping succeeds", async () => {
    const r = await registry.npm(["ping"], token);
    expectSuccess(r, "npm ping");
    expect(r.output).toMatch(/PONG/);
  });
});
