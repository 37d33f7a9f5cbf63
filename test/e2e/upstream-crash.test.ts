// Crash safety of a takedown found at the upstream (kill -9 of wrangler dev's process group,
// then a restart on the same --persist-to state). The instant: the removed version's tarball
// has been deleted, every region told and the audit entry written, but the new copy of the
// packument is not stored yet. What must hold after the restart: the old copy's next
// revalidation finds the same removal and completes it, so the version is gone from the
// packument, its tarball answers 404, and the audit log has the removal.
import { afterAll, beforeAll, expect, test } from "vitest";
import { CrashableRegistry } from "./crash-harness";
import { describeRun, run } from "./helpers";
import { startUpstreamVerdaccio, type UpstreamVerdaccio } from "./upstream-verdaccio";
import { cleanEnv } from "../../scripts/lib/dev-server.mjs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OLD = "2020-01-01T00:00:00.000Z";
let upstream: UpstreamVerdaccio;
let registry: CrashableRegistry;

beforeAll(async () => {
  upstream = await startUpstreamVerdaccio([{ name: "up-crash", versions: [{ version: "1.0.0", time: OLD }, { version: "1.1.0", time: OLD }] }]);
  registry = await CrashableRegistry.start("upstream-takedown-applied", { NPM_UPSTREAM: upstream.url, UPSTREAM_METADATA_TTL: "1", L1_METADATA_TTL: "1" });
}, 180_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), upstream?.stop()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function versions(): Promise<string[]> {
  const res = await fetch(`${registry.url}/npm/up-crash`);
  expect(res.status).toBe(200);
  return Object.keys(((await res.json()) as { versions: Record<string, unknown> }).versions);
}

test("killed between a takedown and the new packument copy, the restarted registry completes the takedown", async () => {
  expect(await versions()).toEqual(["1.0.0", "1.1.0"]);
  expect((await fetch(`${registry.url}/npm/up-crash/-/up-crash-1.0.0.tgz`)).status).toBe(200);

  const home = mkdtempSync(join(tmpdir(), "pkgedge-upstream-crash-"));
  const npmrc = join(home, ".npmrc");
  writeFileSync(npmrc, `registry=${upstream.url}/\n//${new URL(upstream.url).host}/:_authToken=${upstream.token}\n`);
  const unpublish = await run("npm", ["unpublish", "up-crash@1.0.0"], { cwd: home, env: cleanEnv({ npm_config_userconfig: npmrc, npm_config_cache: join(home, "cache") }) });
  expect(unpublish.code, describeRun("npm unpublish at the upstream", unpublish)).toBe(0);
  await sleep(2000);

  // This read revalidates, finds the removal and stalls at the crash point.
  const stalled = fetch(`${registry.url}/npm/up-crash`).catch(() => null);
  await registry.reached("upstream-takedown-applied");
  await registry.crashAndRestart();
  await stalled;
  await sleep(1500);

  expect(await versions()).toEqual(["1.1.0"]);
  expect((await fetch(`${registry.url}/npm/up-crash/-/up-crash-1.0.0.tgz`)).status).toBe(404);
  const audit = (await (await fetch(`${registry.url}/_/audit?action=upstream.removed`, { headers: { authorization: `Bearer ${registry.adminToken}` } })).json()) as { entries: Array<{ target: string; detail: { versions: string[] } }> };
  expect(audit.entries.filter((e) => e.target === "up-crash" && e.detail.versions.includes("1.0.0")).length).toBeGreaterThanOrEqual(1);
});
