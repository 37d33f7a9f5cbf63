// `npm run demo` against a real wrangler dev: every step behaves and says so, the herd really cost
// the origin one read (checked here in /_/metrics, not only in the demo's words), the delays the
// server was given show in the propagation times, and a server that does not behave as the demo
// expects (here: told the regions' strategies the other way round) makes it exit 1 with one line.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot } from "../../scripts/lib/dev-server.mjs";
import { describeRun, run, startRegistry, type Registry, type RunResult } from "./helpers";

const STRATEGY = "us-east:eager,eu-west:lazy,ap-south:lazy";
// The demo publishes from ap-south: us-east and eu-west are the regions it watches.
const DELAYS = { "us-east": 300, "eu-west": 800 };

let registry: Registry;
let demo: RunResult;

const runDemo = (...args: string[]) =>
  run(process.execPath, [join(projectRoot, "scripts", "demo.mjs"), "--url", registry.url, ...args], { cwd: projectRoot, timeoutMs: 120_000 });

beforeAll(async () => {
  registry = await startRegistry({
    INVALIDATION_STRATEGY: STRATEGY,
    PROPAGATION_DELAY_MS: Object.entries(DELAYS).map(([r, ms]) => `${r}:${ms}`).join(","),
    // A slow origin read keeps the herd waiting on it, so the herd shows as COALESCED.
    ORIGIN_LATENCY_MS: "200",
  });
  demo = await runDemo("--token", registry.adminToken);
});
afterAll(() => registry?.stop());

interface Sample {
  labels: Record<string, string>;
  value: number;
}

async function originBlobReads(region: string): Promise<number> {
  const res = await fetch(`${registry.url}/_/metrics?format=json`, { headers: { authorization: `Bearer ${registry.adminToken}` } });
  const body = (await res.json()) as Record<string, { samples: Sample[] }>;
  return body.pkgedge_origin_fetches_total!.samples.filter((s) => s.labels.region === region && s.labels.kind === "blob").reduce((n, s) => n + s.value, 0);
}

describe("npm run demo", () => {
  test("every step behaves, each says what it expected and got, and the demo exits 0", () => {
    expect(demo.code, describeRun("demo", demo)).toBe(0);
    const titles = [
      "Cold fetch from the origin",
      "The region's shield answers the next client",
      "Every region has its own caches",
      "Edge hits: L1, then memory",
      "A thundering herd collapsed into one origin read",
      "A publish propagating to every region",
    ];
    for (const [i, title] of titles.entries()) {
      expect(demo.stdout).toMatch(new RegExp(`step ${i + 1}/6 ${title}\\n   did: .+\\n   expected: .+\\n   got: [^\\n]+(\\n {13}[^\\n]+)*\\n   ok \\([\\d.]+ ms\\)`));
    }
    expect(demo.stdout).toMatch(/got: +200 MISS, latest 1\.0\.0/);
    expect(demo.stdout).toMatch(/got: +200 L2-HIT/);
    // Five reads per region: L1 answers until the fourth L1 hit copies the packument into memory.
    const edge = /got: +L1-HIT x(\d+), HOT-HIT x(\d+); median/.exec(demo.stdout);
    expect(edge, demo.stdout).not.toBeNull();
    expect(Number(edge![1]) + Number(edge![2])).toBe(15);
    expect(Number(edge![2])).toBeGreaterThanOrEqual(3);
    expect(demo.stdout.trim().split("\n").at(-1)).toBe("all 6 steps behaved");
    expect(demo.stderr).toBe("");
  });

  test("the herd: one MISS, the rest waited on it, and the origin counted one read", async () => {
    expect(demo.stdout).toMatch(/got: +MISS x1, COALESCED x\d+(, L1-HIT x\d+)?(, HOT-HIT x\d+)?; 0 wrong answers; origin reads 0 -> 1;/);
    // Past the shields' 2 s metrics cache: the server's own count, read after the demo.
    await new Promise((r) => setTimeout(r, 2100));
    expect(await originBlobReads("eu-west")).toBe(1);
  });

  test("the publish: the eager region shows no stale copy, the lazy one does, each after its delay", () => {
    const eager = demo.stdout.match(/us-east \(eager\): 1\.0\.0 served (\d+) times meanwhile \(([^)]*)\), then 1\.0\.1 \((\S+)\) (\d+) ms after/);
    const lazy = demo.stdout.match(/eu-west \(lazy\): 1\.0\.0 served (\d+) times meanwhile \(([^)]*)\), then 1\.0\.1 \((\S+)\) (\d+) ms after/);
    expect(eager, demo.stdout).not.toBeNull();
    expect(lazy, demo.stdout).not.toBeNull();
    expect(demo.stdout).toMatch(/ap-south \(the writer\): \S+, latest 1\.0\.1 at once/);
    // Meanwhile each region kept serving its L1 copy; the lazy one then its stale shield copy.
    expect(eager![2]).not.toMatch(/L2-STALE/);
    expect(eager![2]).toMatch(/L1-HIT/);
    expect(lazy![2]).toMatch(/L2-STALE x\d+/);
    expect(Number(eager![4])).toBeGreaterThanOrEqual(DELAYS["us-east"]);
    expect(Number(lazy![4])).toBeGreaterThanOrEqual(DELAYS["eu-west"]);
  });

  test("a server that does not behave as the demo expects fails the step, exit 1, one line", async () => {
    // The server is eager in us-east and lazy in eu-west; the demo is told the opposite.
    const r = await runDemo("--token", registry.adminToken, "--strategy", "us-east:lazy,eu-west:eager,ap-south:lazy");
    expect(r.code, describeRun("demo", r)).toBe(1);
    expect(r.stdout).toMatch(/step 5\/6 A thundering herd[\s\S]*ok \(/);
    expect(r.stderr.trim()).toBe("demo failed: step 6/6 A publish propagating to every region: us-east is lazy but served no stale copy (L2-STALE) before 1.0.1");
    expect(r.stdout).not.toMatch(/all 6 steps behaved/);
  });

  test("a wrong admin secret is one line, exit 1", async () => {
    const r = await runDemo("--token", "not-the-secret");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("demo failed: POST /_/tokens refused the admin secret (401): pass the one npm run dev printed with --token");
  });
});
