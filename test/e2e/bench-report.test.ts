// `npm run bench`'s report, rebuilt from result files (--report-only, so no benchmark runs): every
// pkgedge-vs-peer row of a benchmark's table lands in the summary with who did better and by how
// much, whatever the unit, rows without a ratio stay out, a benchmark without results says so,
// and the chart draws one bar per compared row (p99 and mean rows left to the table).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { projectRoot } from "../../scripts/lib/dev-server.mjs";
import { describeRun, run } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "pkgedge-bench-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Rows as the npm benchmark's own report prints them (scripts/lib/bench/report.mjs).
const NPM_TABLE = [
  "| measure | pkgedge | verdaccio 6.10.4 | ratio pkgedge/verdaccio |",
  "|---|---|---|---|",
  "| packument, full JSON: req/s (c=32, median of 3) | 600 | 300 | 2.00x (pkgedge better) |",
  "| publish 100 small packages: p50 ms | 40.0 | 10.0 | 4.00x (verdaccio better) |",
  "| publish small packages: p99 ms | 80.0 | 20.0 | 4.00x (verdaccio better) |",
  "| tarball, 1 MB: req/s (c=32, median of 3) | 102 | 100 | 1.02x |",
  "| packument, full JSON: response size | 104.9 KiB | 138.3 KiB | - |",
  "| tarball, 1 MB: edge hit share (HOT-HIT + L1-HIT) | 100.0% | n/a | - |",
].join("\n");

test("npm run bench -- --report-only: the summary table, report.md and summary.svg", async () => {
  writeFileSync(join(dir, "npm.json"), JSON.stringify({ startedAt: "2026-12-01T00:00:00.000Z", totalSeconds: 199, options: { rounds: 3 }, failures: [], table: NPM_TABLE }));
  writeFileSync(join(dir, "ratelimit.json"), JSON.stringify({ startedAt: "2026-12-01T00:05:00.000Z", totalSeconds: 30, options: {}, failures: [], table: "# limiter\n\n| rate limiting | req/s |\n|---|---|\n| off | 700 |" }));
  const r = await run(process.execPath, [join(projectRoot, "scripts", "bench.mjs"), "--report-only", `--out-dir=${dir}`], { cwd: projectRoot, timeoutMs: 30_000 });
  expect(r.code, describeRun("bench --report-only", r)).toBe(0);

  const cells = (line: string) => line.split("|").slice(1, -1).map((c) => c.trim());
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("| npm")).map(cells);
  expect(rows).toEqual([
    ["npm (Verdaccio)", "packument, full JSON: req/s (c=32, median of 3)", "600", "300", "2.00x (pkgedge better)", "2.00x"],
    ["npm (Verdaccio)", "publish 100 small packages: p50 ms", "40.0", "10.0", "4.00x (verdaccio better)", "0.25x"],
    ["npm (Verdaccio)", "publish small packages: p99 ms", "80.0", "20.0", "4.00x (verdaccio better)", "0.25x"],
    ["npm (Verdaccio)", "tarball, 1 MB: req/s (c=32, median of 3)", "102", "100", "1.02x", "even (within 5%)"],
  ]);

  const report = readFileSync(join(dir, "report.md"), "utf8");
  expect(report).toContain("![pkgedge against its peers](summary.svg)");
  expect(report).toContain("## npm: pkgedge vs Verdaccio\n\nRun 2026-12-01T00:00:00.000Z, 199 s");
  expect(report).toContain(NPM_TABLE);
  // A benchmark's own headings sit below the report's.
  expect(report).toContain("## ratelimit\n\nRun 2026-12-01T00:05:00.000Z, 30 s; options: `{}`.\n\n### limiter");
  expect(report).toContain("## oci\n\nNo results (not run).");
  expect(report).not.toContain("Quick settings");

  const svg = readFileSync(join(dir, "summary.svg"), "utf8");
  expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
  expect(svg.match(/<title>/g)).toHaveLength(3); // one bar per row, the p99 row left out
  expect(svg).toContain(">2.00x better<");
  expect(svg).toContain(">4.00x worse<");
  expect(svg).toContain(">even<");
  expect(svg).not.toContain("p99");
});

test("an unknown benchmark is refused in one line, exit 2", async () => {
  const r = await run(process.execPath, [join(projectRoot, "scripts", "bench.mjs"), "--only=npm,pypi", `--out-dir=${dir}`], { cwd: projectRoot, timeoutMs: 30_000 });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe("bench: --only: unknown benchmark(s) pypi; choose from npm, oci, tiers, ratelimit");
});
