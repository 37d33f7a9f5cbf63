// npm pull-through against a real upstream: a Verdaccio on loopback holding a dependency tree.
// What a user observes: public packages install through pkgedge with every lock file URL on
// pkgedge and every integrity the upstream's; however many regions and clients ask at once, the
// upstream's own log shows one request per object; takedowns at the upstream reach every
// region; private names never reach the upstream; a hosted name is never mixed with the
// upstream's; an upstream outage is invisible for what was cached and a 503 (never a 404) for
// what was not; and the release-age cooldown hides young versions and refuses their tarballs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, get, rawPublish, startRegistry, statusOf, type Registry, type RunResult } from "./helpers";
import { startUpstreamVerdaccio, type UpstreamVerdaccio } from "./upstream-verdaccio";

const REGIONS = ["us-east", "eu-west", "ap-south"];
const OLD = "2020-01-01T00:00:00.000Z";
// Short lifetimes so a takedown or an outage shows within a test.
const TTL_SECONDS = 2;

let upstream: UpstreamVerdaccio;
let registry: Registry;
let cooled: Registry;
let publisher: string;

beforeAll(async () => {
  upstream = await startUpstreamVerdaccio([
    { name: "up-a", versions: [{ version: "1.0.0", dependencies: { "up-b": "^1.0.0" }, time: OLD }] },
    { name: "up-b", versions: [{ version: "1.0.0", dependencies: { "up-c": "^1.0.0" }, time: OLD }, { version: "1.1.0", dependencies: { "up-c": "^1.0.0" }, time: OLD }] },
    { name: "up-c", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-herd", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-takedown", versions: [{ version: "1.0.0", time: OLD }, { version: "1.1.0", time: OLD }] },
    { name: "up-shadow", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-outage", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-never", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "@acme/secret", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-young", versions: [{ version: "1.0.0", time: OLD }, { version: "1.1.0" }, { version: "1.2.0", time: null }] },
    { name: "up-exempt", versions: [{ version: "1.0.0" }] },
    { name: "up-corrupt", versions: [{ version: "1.0.0", time: OLD, corrupt: true }] },
    { name: "up-pf-a", versions: [{ version: "1.0.0", dependencies: { "up-pf-b": "^1.0.0" }, time: OLD }] },
    { name: "up-pf-b", versions: [{ version: "1.0.0", dependencies: { "up-pf-c": "^1.0.0" }, time: OLD }] },
    { name: "up-pf-c", versions: [{ version: "1.0.0", time: OLD }] },
    { name: "up-late", versions: [{ version: "1.0.0", time: OLD }] },
  ]);
  const vars = {
    NPM_UPSTREAM: upstream.url,
    UPSTREAM_PRIVATE: "@acme/*",
    UPSTREAM_METADATA_TTL: String(TTL_SECONDS),
    UPSTREAM_TIMEOUT_MS: "3000",
    NEGATIVE_TTL_SECONDS: "1",
    L1_METADATA_TTL: "1",
  };
  [registry, cooled] = await Promise.all([
    startRegistry(vars),
    // The cooldown's registry keeps upstream metadata for the default lifetime, so its herd
    // counts are not blurred by a revalidation on a slow machine.
    startRegistry({ ...vars, UPSTREAM_METADATA_TTL: "300", MIN_RELEASE_AGE: "npm:72h", MIN_RELEASE_AGE_EXEMPT: "up-exempt" }),
  ]);
  publisher = await registry.createToken({ name: "upstream-e2e-publisher", scopes: ["read", "publish"] });
}, 240_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), cooled?.stop(), upstream?.stop()]);
});

function expectSuccess(r: RunResult, what: string): void {
  expect(r.code, describeRun(what, r)).toBe(0);
}

async function upstreamPackument(name: string): Promise<{ versions: Record<string, { dist: { integrity: string } }> }> {
  const res = await fetch(`${upstream.url}/${name.replace("/", "%2f")}`);
  return (await res.json()) as never;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("npm install of public packages", () => {
  test("a clean install resolves every package at pkgedge with the upstream's integrity", async () => {
    const client = registry.sandbox();
    const install = await client.npm(["install", "up-a"]);
    expectSuccess(install, "npm install up-a");
    const lock = JSON.parse(readFileSync(join(client.project, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; resolved?: string; integrity?: string }> };
    const installed = Object.entries(lock.packages).filter(([path]) => path.startsWith("node_modules/"));
    expect(installed.map(([path]) => path).sort()).toEqual(["node_modules/up-a", "node_modules/up-b", "node_modules/up-c"]);
    for (const [path, entry] of installed) {
      const name = path.slice("node_modules/".length);
      expect(entry.resolved).toBe(`${registry.npmUrl}${name}/-/${name}-${entry.version}.tgz`);
      expect(entry.integrity).toBe((await upstreamPackument(name)).versions[entry.version!]!.dist.integrity);
    }
    expect(lock.packages["node_modules/up-b"]!.version).toBe("1.1.0");
  });

  test("pnpm and yarn install the same tree through pkgedge", async () => {
    const pnpm = await registry.sandbox().pnpm(["add", "up-a"]);
    expectSuccess(pnpm, "pnpm add up-a");
    const yarnClient = registry.sandbox();
    const yarn = await yarnClient.yarn(["add", "up-a"]);
    expectSuccess(yarn, "yarn add up-a");
    expect(readFileSync(join(yarnClient.project, "yarn.lock"), "utf8")).toContain(`${registry.npmUrl}up-c/-/up-c-1.0.0.tgz`);
  });

  test("served upstream content says where it came from and goes through the tiers", async () => {
    const first = await get(`${registry.npmUrl}up-c`, { region: "eu-west" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-pkgedge-upstream")).toBe("fresh");
    const doc = (await first.json()) as Record<string, unknown> & { versions: Record<string, { dist: { tarball: string } }> };
    expect(doc._upstream).toBeUndefined();
    expect(doc.versions["1.0.0"]!.dist.tarball).toBe(`${registry.npmUrl}up-c/-/up-c-1.0.0.tgz`);
    const again = await get(`${registry.npmUrl}up-c`, { region: "eu-west" });
    await again.arrayBuffer();
    expect(again.headers.get("x-pkgedge-cache")).toBe("L1-HIT");
  });
});

describe("verification", () => {
  test("a tarball that does not match the upstream's integrity is refused with a 503 and never stored", async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await get(`${registry.npmUrl}up-corrupt/-/up-corrupt-1.0.0.tgz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/integrity/);
      await sleep(1200);
    }
    // Not stored: the second attempt (after the mirror's backoff) asked the upstream again.
    expect(upstream.gets("/up-corrupt/-/up-corrupt-1.0.0.tgz")).toBe(2);
    const install = await registry.sandbox().npm(["install", "up-corrupt", "--fetch-retries=0"]);
    expect(install.code).not.toBe(0);
  });
});

describe("prefetch and search", () => {
  test("a served upstream packument warms its dependency tree from the upstream before the client asks", async () => {
    expect(await statusOf(`${registry.npmUrl}up-pf-a`, { region: "eu-west" })).toBe(200);
    // Background work: the dependencies' packuments and tarballs arrive without being asked for.
    for (let i = 0; i < 50 && upstream.gets("/up-pf-c/-/up-pf-c-1.0.0.tgz") === 0; i++) await sleep(100);
    expect(upstream.gets("/up-pf-b")).toBe(1);
    expect(upstream.gets("/up-pf-c")).toBe(1);
    expect(upstream.gets("/up-pf-b/-/up-pf-b-1.0.0.tgz")).toBe(1);
    expect(upstream.gets("/up-pf-c/-/up-pf-c-1.0.0.tgz")).toBe(1);
    const install = await registry.sandbox().npm(["install", "up-pf-a"]);
    expectSuccess(install, "npm install up-pf-a");
    // The install found the tarballs warm: none was fetched from the upstream again.
    expect(upstream.gets("/up-pf-b/-/up-pf-b-1.0.0.tgz") + upstream.gets("/up-pf-c/-/up-pf-c-1.0.0.tgz")).toBe(2);
  });

  test("npm search finds upstream packages pkgedge has mirrored", async () => {
    const search = await registry.npm(["search", "up-pf-c", "--json"]);
    expectSuccess(search, "npm search up-pf-c");
    expect((JSON.parse(search.stdout) as Array<{ name: string }>).map((p) => p.name)).toContain("up-pf-c");
  });
});

describe("one upstream request per object", () => {
  test("3 regions x 100 concurrent cold requests for a packument and a tarball reach the upstream once each", async () => {
    const packument = `${cooled.npmUrl}up-herd`;
    const statuses = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 100 }, () => statusOf(packument, { region }))));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(upstream.gets("/up-herd")).toBe(1);
    const tarball = `${cooled.npmUrl}up-herd/-/up-herd-1.0.0.tgz`;
    const bodies = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 100 }, async () => {
      const res = await get(tarball, { region });
      return { status: res.status, size: (await res.arrayBuffer()).byteLength };
    })));
    expect(bodies.every((b) => b.status === 200 && b.size > 0)).toBe(true);
    expect(upstream.gets("/up-herd/-/up-herd-1.0.0.tgz")).toBe(1);
    const metrics = await (await fetch(`${cooled.url}/_/metrics`, { headers: { authorization: `Bearer ${cooled.adminToken}` } })).text();
    expect(metrics).toMatch(/pkgedge_upstream_requests_total\{protocol="npm",kind="blob",status="200"\} [1-9]/);
  });

  test("revalidation after the metadata lifetime is one upstream request for every region together", async () => {
    const packument = `${registry.npmUrl}up-c`;
    await statusOf(packument, { region: "us-east" });
    const before = upstream.gets("/up-c");
    await sleep((TTL_SECONDS + 1) * 1000);
    const started = Date.now();
    const statuses = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 50 }, () => statusOf(packument, { region }))));
    const elapsed = Date.now() - started;
    expect(statuses.every((s) => s === 200)).toBe(true);
    // At most one upstream request per lifetime for all regions together (one, unless the burst
    // itself outlasted a lifetime on a slow machine).
    const revalidations = upstream.gets("/up-c") - before;
    expect(revalidations).toBeGreaterThanOrEqual(1);
    expect(revalidations).toBeLessThanOrEqual(1 + Math.floor(elapsed / (TTL_SECONDS * 1000)));
  });
});

describe("takedowns", () => {
  test("a version unpublished at the upstream leaves pkgedge's packument and answers 404 in every region, audited", async () => {
    for (const region of REGIONS) expect(await statusOf(`${registry.npmUrl}up-takedown/-/up-takedown-1.0.0.tgz`, { region })).toBe(200);
    const unpublish = await run_npm_unpublish("up-takedown@1.0.0");
    expectSuccess(unpublish, "npm unpublish at the upstream");
    await sleep((TTL_SECONDS + 1) * 1000);
    // The next read after the lifetime revalidates with the upstream, which finds the removal.
    const doc = (await (await get(`${registry.npmUrl}up-takedown`, { region: "us-east" })).json()) as { versions: Record<string, unknown> };
    expect(Object.keys(doc.versions)).toEqual(["1.1.0"]);
    await sleep(1500);
    for (const region of REGIONS) {
      expect(await statusOf(`${registry.npmUrl}up-takedown/-/up-takedown-1.0.0.tgz`, { region })).toBe(404);
      const served = (await (await get(`${registry.npmUrl}up-takedown`, { region })).json()) as { versions: Record<string, unknown> };
      expect(Object.keys(served.versions)).toEqual(["1.1.0"]);
    }
    const audit = await (await fetch(`${registry.url}/_/audit?action=upstream.removed`, { headers: { authorization: `Bearer ${registry.adminToken}` } })).json() as { entries: Array<{ target: string; detail: { versions: string[] } }> };
    expect(audit.entries.some((e) => e.target === "up-takedown" && e.detail.versions.includes("1.0.0"))).toBe(true);
  });
});

describe("a lockfile newer than pkgedge's copy", () => {
  test("a version published upstream after the packument was cached installs by its lockfile URL; a version that does not exist is a 404 that costs the upstream one request per 5 s", async () => {
    // Upstream metadata kept for 5 minutes: only the recheck can see the new version in time.
    const longLived = await startRegistry({ NPM_UPSTREAM: upstream.url, UPSTREAM_METADATA_TTL: "300", L1_METADATA_TTL: "300" });
    try {
      const before = (await (await get(`${longLived.npmUrl}up-late`, { region: "us-east" })).json()) as { versions: Record<string, unknown> };
      expect(Object.keys(before.versions)).toEqual(["1.0.0"]);

      const author = registry.sandbox();
      const host = new URL(upstream.url).host;
      const published = await author.npm(["publish", `--registry=${upstream.url}/`, `--//${host}/:_authToken=${upstream.token}`], author.writePackage({ name: "up-late", version: "1.1.0" }));
      expectSuccess(published, "npm publish of up-late@1.1.0 at the upstream");
      const integrity = (await upstreamPackument("up-late")).versions["1.1.0"]!.dist.integrity;
      // Past the recheck interval since pkgedge last asked (workers/npm/live-versions.ts: 5 s).
      await sleep(5500);

      // What `npm ci` does with a lockfile made against the upstream a moment ago.
      for (const region of REGIONS) {
        const res = await get(`${longLived.npmUrl}up-late/-/up-late-1.1.0.tgz`, { region });
        expect(res.status, region).toBe(200);
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect(`sha512-${createHash("sha512").update(bytes).digest("base64")}`, region).toBe(integrity);
      }

      await sleep(5500);
      const asked = upstream.gets("/up-late");
      for (let i = 0; i < 5; i++) expect(await statusOf(`${longLived.npmUrl}up-late/-/up-late-9.9.9.tgz`, { region: REGIONS[i % 3]! })).toBe(404);
      expect(upstream.gets("/up-late") - asked, "upstream packument requests for 5 unknown-version requests").toBe(1);
    } finally {
      await longLived.stop();
    }
  });
});

async function run_npm_unpublish(spec: string): Promise<RunResult> {
  const client = registry.sandbox();
  const host = new URL(upstream.url).host;
  return client.npm(["unpublish", spec, `--registry=${upstream.url}/`, `--//${host}/:_authToken=${upstream.token}`]);
}

describe("dependency confusion", () => {
  test("a private name never reaches the upstream", async () => {
    for (const region of REGIONS) expect(await statusOf(`${registry.npmUrl}@acme%2fsecret`, { region })).toBe(404);
    expect(upstream.requests().filter((r) => r.includes("acme"))).toEqual([]);
  });

  test("publishing a name the upstream has needs the admin token, and then only the hosted versions are served", async () => {
    const spec = { name: "up-shadow", version: "2.0.0" };
    const refused = await rawPublish(registry, spec, publisher);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/exists on the upstream registry/);
    expect(await statusOf(`${registry.npmUrl}up-shadow/-/up-shadow-1.0.0.tgz`)).toBe(200);
    const published = await rawPublish(registry, spec, registry.adminToken);
    expect(published.status).toBe(201);
    for (const region of REGIONS) {
      const doc = (await (await get(`${registry.npmUrl}up-shadow`, { region })).json()) as { versions: Record<string, unknown> };
      expect(Object.keys(doc.versions)).toEqual(["2.0.0"]);
      expect(await statusOf(`${registry.npmUrl}up-shadow/-/up-shadow-1.0.0.tgz`, { region })).toBe(404);
    }
  });
});

describe("upstream outage", () => {
  test("cached content keeps installing (marked stale); a name never fetched is a 503, not a 404", async () => {
    const first = await registry.sandbox().npm(["install", "up-outage"]);
    expectSuccess(first, "npm install up-outage");
    await upstream.stop();
    try {
      await sleep((TTL_SECONDS + 1) * 1000);
      const again = await registry.sandbox().npm(["install", "up-outage"]);
      expectSuccess(again, "npm install up-outage with the upstream down");
      const doc = await get(`${registry.npmUrl}up-outage`, { region: "ap-south" });
      await doc.arrayBuffer();
      expect(doc.status).toBe(200);
      expect(doc.headers.get("x-pkgedge-upstream")).toBe("stale");
      const never = await get(`${registry.npmUrl}up-never`);
      expect(never.status).toBe(503);
      expect(never.headers.get("retry-after")).toBeTruthy();
      expect(((await never.json()) as { error: string }).error).toMatch(/upstream/);
    } finally {
      await upstream.start();
    }
  });
});

describe("release-age cooldown (MIN_RELEASE_AGE npm:72h)", () => {
  test("young versions and versions without a publish time are hidden, latest moves, and their tarballs are refused", async () => {
    const res = await get(`${cooled.npmUrl}up-young`);
    const doc = (await res.json()) as { versions: Record<string, unknown>; "dist-tags": Record<string, string>; "pkgedge-cooldown": { hiddenVersions: string[]; latest: { upstream: string; served: string } } };
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc["dist-tags"].latest).toBe("1.0.0");
    expect(doc["pkgedge-cooldown"].hiddenVersions.sort()).toEqual(["1.1.0", "1.2.0"]);
    expect(doc["pkgedge-cooldown"].latest).toEqual({ upstream: "1.2.0", served: "1.0.0" });
    for (const version of ["1.1.0", "1.2.0"]) {
      const tarball = await get(`${cooled.npmUrl}up-young/-/up-young-${version}.tgz`);
      expect(tarball.status).toBe(403);
      expect(((await tarball.json()) as { error: string }).error).toMatch(/MIN_RELEASE_AGE/);
    }
    expect(upstream.gets("/up-young/-/up-young-1.1.0.tgz")).toBe(0);
    const install = await cooled.sandbox().npm(["install", "up-young"]);
    expectSuccess(install, "npm install up-young under the cooldown");
    expect(install.output).not.toMatch(/1\.1\.0|1\.2\.0/);
  });

  test("exempt names skip it", async () => {
    const doc = (await (await get(`${cooled.npmUrl}up-exempt`)).json()) as { versions: Record<string, unknown> };
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(await statusOf(`${cooled.npmUrl}up-exempt/-/up-exempt-1.0.0.tgz`)).toBe(200);
  });
});
