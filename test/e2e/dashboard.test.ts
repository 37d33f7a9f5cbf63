// The dashboard in a real headless Chromium (Debian's chromium driven by playwright-core) against
// a live wrangler dev: the page loads under its strict CSP without a console error, asks for the
// secret and refuses a wrong one, and after publishes and reads in three regions its charts,
// tiles and tables hold data. The run writes a full-page screenshot to bench-results/dashboard.png
// (or $DASHBOARD_SCREENSHOT) and prints where.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ABBREVIATED_ACCEPT, get, packagePath, rawPublish, startRegistry, statusOf, type PackageSpec, type Registry } from "./helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT ?? fileURLToPath(new URL("../../bench-results/dashboard.png", import.meta.url));
const METRICS_TOKEN = "e2e-metrics-token-0123456789abcdef";
const REGIONS = ["us-east", "eu-west", "ap-south"];
// A chain, so serving a packument prefetches its dependencies (the prefetch panel draws that).
const CHAIN: PackageSpec[] = [
  { name: "@dash/core", version: "1.0.0" },
  { name: "dash-left", version: "1.0.0", dependencies: { "@dash/core": "^1.0.0" } },
  { name: "dash-right", version: "1.0.0", dependencies: { "dash-left": "^1.0.0" } },
];
const PACKAGES = CHAIN.map((p) => p.name);

let registry: Registry;
let browser: Browser;
let page: Page;
const problems: string[] = [];

/** Reads every package's packument and tarball in `region`, plus a name that does not exist. */
async function readAll(region: string): Promise<void> {
  for (const name of PACKAGES) {
    const res = await get(`${registry.npmUrl}${packagePath(name)}`, { region, accept: ABBREVIATED_ACCEPT });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }> };
    for (const v of Object.values(doc.versions)) expect(await statusOf(v.dist.tarball, { region })).toBe(200);
  }
  expect(await statusOf(`${registry.npmUrl}dash-missing`, { region })).toBe(404);
}

beforeAll(async () => {
  // A tight credential-endpoint limit, so the rate-limited panel has something to draw.
  // A 3 s window: a refused address gets 429 for every credential until its window ends (guess
  // blocking), and the page must be able to sample again soon after.
  registry = await startRegistry({ METRICS_TOKEN, RATE_LIMIT_AUTH: "5/3s" });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  // A CSP violation or a script error shows up as a console error or a page error.
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
});

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
});

describe("the dashboard in Chromium", () => {
  test("loads without data, asks for the secret and refuses a wrong one", async () => {
    const res = await page.goto(`${registry.url}/_/dashboard`);
    expect(res?.status()).toBe(200);
    await page.locator("#signin").waitFor({ state: "visible" });
    expect(await page.locator("#charts section").count()).toBe(0);
    await page.fill("#secret", "not-the-token");
    await page.click("#signin button[type=submit]");
    await expect.poll(() => page.textContent("#signin-error")).toMatch(/refused \(HTTP 401\)/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The refused fetch is the only console error Chromium reports (a failed request's status).
    problems.splice(0, problems.length, ...problems.filter((p) => !/401/.test(p)));
    expect(problems).toEqual([]);
  });

  test("after traffic in three regions, its charts, tiles and tables have data", async () => {
    const publisher = await registry.createToken({ name: "e2e-dashboard", scopes: ["read", "publish"] });
    for (const spec of CHAIN) expect((await rawPublish(registry, spec, publisher)).status).toBe(201);
    for (const region of REGIONS) await readAll(region);
    // Anonymous guesses at the credential endpoint meet RATE_LIMIT_AUTH.
    const auth = await Promise.all(Array.from({ length: 10 }, () => statusOf(`${registry.url}/v2/token?service=pkgedge`, {})));
    expect(auth).toContain(429);
    // The refused address is blocked for every credential until its 3 s window ends (a right
    // guess must look like a wrong one), the page's metrics token included: wait it out.
    await new Promise((r) => setTimeout(r, 3500));

    // Errors from here on are this test's: the refused sign-in above may report its 401 late.
    problems.length = 0;
    await page.fill("#secret", METRICS_TOKEN);
    await page.click("#signin button[type=submit]");
    await page.locator("#signout").waitFor({ state: "visible" });
    await page.locator("#signin").waitFor({ state: "hidden" });
    // Keep the traffic going in every region while the page takes three samples (one every 5 s).
    const deadline = Date.now() + 60_000;
    const intervals = async () => Number(/(\d+) intervals/.exec((await page.textContent("#status")) ?? "")?.[1] ?? 0);
    while ((await intervals()) < 2 && Date.now() < deadline) {
      for (const region of REGIONS) await readAll(region);
    }
    expect(await intervals()).toBeGreaterThanOrEqual(2);
    // Written before the assertions, so a failing run leaves the picture of what failed.
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);

    // Requests/s and hit ratio: one line per region, each with at least two points.
    for (const chart of ["#rate-region", "#hit-region", "#rate-tier", "#latency-time", "#offload"]) {
      const series = await page.locator(`${chart} path.series`).evaluateAll((paths) => paths.map((p) => ({ name: p.getAttribute("data-series"), d: p.getAttribute("d") ?? "" })));
      expect(series.length, chart).toBeGreaterThan(0);
      for (const s of series) expect(s.d, `${chart} ${s.name}`).toMatch(/^M[\d.]+ [\d.]+ L/);
      // Axes with units: tick labels on both axes.
      expect((await page.locator(`${chart} text.tick`).allTextContents()).join(" "), chart).toMatch(/\d\d:\d\d:\d\d/);
    }
    const regionsDrawn = await page.locator("#rate-region path.series").evaluateAll((paths) => paths.map((p) => p.getAttribute("data-series")).sort());
    expect(regionsDrawn).toEqual([...REGIONS].sort());
    expect(await page.locator("#rate-region text.tick").allTextContents()).toContainEqual(expect.stringMatching(/req\/s$/));
    expect(await page.locator("#hit-region text.tick").allTextContents()).toContain("100 %");

    // Tiles: traffic counted, p50/p95/p99 as numbers, the 429s seen.
    expect(await page.textContent("#tile-rps .detail")).toMatch(/^[1-9]\d* since/);
    expect(await page.textContent("#tile-latency .value")).toMatch(/^[\d.]+ \/ [\d.]+ \/ [\d.]+ ms$/);
    expect(Number(await page.textContent("#tile-limited .value"))).toBeGreaterThan(0);
    expect(await page.textContent("#tile-offload .value")).toMatch(/^\d/);

    // Tables: invalidation lag per region (the publishes travelled), latency per tier, top keys.
    const lagRegions = await page.locator("#lag tbody tr td:first-child").allTextContents();
    expect(lagRegions.sort()).toEqual([...REGIONS].sort());
    expect(await page.locator("#latency-table tbody tr").count()).toBeGreaterThan(3);
    expect((await page.locator("#top-keys tbody td:first-child").allTextContents()).join(" ")).toMatch(/dash-left/);
    // The latency histogram in bucket order, from the first bucket up.
    const buckets = await page.locator("#histogram svg > text[text-anchor=end]").allTextContents();
    expect(buckets[0]).toBe("≤ 1 ms");
    expect(buckets.at(-1)).toBe("> 10000 ms");
    expect(await page.locator("#negative rect.bar").count()).toBe(REGIONS.length);
    expect(await page.locator("#prefetch path.series").count()).toBeGreaterThan(0);

    // Every tile and panel came from the real data; and nothing broke the CSP or the script.
    expect(await page.textContent("#status")).toMatch(/^updated /);
    expect(problems).toEqual([]);
  });
});
