// `npm run bench`: every benchmark one after another (npm vs Verdaccio, OCI vs docker-registry,
// the cache tiers, the rate limiter, pull-through vs Verdaccio's uplink and docker-registry's
// proxy mode), then one report of them all: bench-results/report.md, an
// SVG chart of pkgedge against each peer (bench-results/summary.svg), and the table printed.
//   npm run bench [-- --quick] [--only=npm,oci,tiers,ratelimit,upstream] [--npm="--top=express"] ...
//   npm run bench -- --report-only   (rebuild the report from the JSON files already there)
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "./lib/dev-server.mjs";
import { markdownTable } from "./lib/bench/stats.mjs";
import { summarySvg } from "./lib/bench/summary-chart.mjs";

// Each benchmark, its peer, and the settings --quick runs it with: one short round of each
// measure, no waiting for a quiet machine, and no measure that needs the install corpus from the
// npm registry (npm's and the tiers' installs).
const BENCHMARKS = {
  npm: {
    peer: "Verdaccio",
    quick: ["--only=load,large,publish", "--duration=2", "--warmup=0", "--rounds=1", "--preheat=1", "--large-versions=200", "--clients=5", "--publishes=10"],
  },
  oci: {
    peer: "docker-registry",
    quick: ["--duration=2", "--warmup=0", "--rounds=1", "--preheat=1", "--copy-runs=1", "--layer-mib=2"],
  },
  tiers: {
    peer: null,
    quick: ["--only=tiers,propagation,herd,edgesync", "--edgesync-seconds=5", "--edgesync-keys=30", "--leaves=5", "--pairs=2", "--l1-repeats=1", "--propagation=2", "--herd=100", "--herd-slow-latency=0"],
  },
  ratelimit: {
    peer: null,
    quick: ["--duration=2", "--warmup=0", "--rounds=1", "--decisions=2000"],
  },
  upstream: {
    peer: "Verdaccio uplink, docker-registry proxy",
    quick: ["--only=oci", "--clients=10", "--layers=512,256", "--herd-deadline=60"],
  },
};
const NAMES = Object.keys(BENCHMARKS);
const USAGE = `usage: npm run bench -- [--quick] [--only=${NAMES.join(",")}] [--out-dir=bench-results] [--report-only]
  --quick         each benchmark in its shortest settings (a smoke run: the figures are rough)
  --only          the benchmarks to run, in this order
  --<name>="..."  more options for one benchmark (e.g. --npm="--top=express"; see npm run bench:<name> -- --help)
  --out-dir       where the JSON results, report.md and summary.svg go
  --report-only   run nothing: rebuild report.md and summary.svg from the JSON results there`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", default: NAMES.join(",") },
      "out-dir": { type: "string", default: join(projectRoot, "bench-results") },
      "report-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      ...Object.fromEntries(NAMES.map((n) => [n, { type: "string", default: "" }])),
    },
  }));
} catch (err) {
  console.error(`bench: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const only = values.only.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = only.filter((n) => !NAMES.includes(n));
if (unknown.length) {
  console.error(`bench: --only: unknown benchmark(s) ${unknown.join(", ")}; choose from ${NAMES.join(", ")}`);
  process.exit(2);
}
const outDir = values["out-dir"];
mkdirSync(outDir, { recursive: true });
const resultFile = (name) => join(outDir, `${name}.json`);

/** Runs one benchmark with the terminal (its progress and table show as it goes); resolves to its exit code. */
function runBenchmark(name) {
  const args = [join(projectRoot, "scripts", `bench-${name}.mjs`), `--out=${resultFile(name)}`];
  if (values.quick) args.push("--wait-idle=0", ...BENCHMARKS[name].quick);
  args.push(...values[name].split(/\s+/).filter(Boolean));
  console.log(`\n=== bench ${name}: node ${args.map((a) => relative(projectRoot, a) || a).join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: "inherit" });
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * The rows of a benchmark's own table that compare pkgedge with its peer: measure, both cells,
 * the ratio pkgedge ÷ peer as printed, and `advantage` (how many times better pkgedge did: > 1
 * where pkgedge came out ahead, whatever the unit; the tables say which side won).
 */
export function comparisonRows(table) {
  const rows = [];
  for (const line of (table ?? "").split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells.length !== 4) continue;
    const m = cells[3].match(/^([\d.]+)x(?: \((\S+) better\))?$/);
    if (!m || !Number.isFinite(Number(cells[1])) || !Number.isFinite(Number(cells[2]))) continue;
    const r = Number(m[1]);
    // A ratio printed as 0.00x (none against some) has no finite "better by": the table says it.
    if (!(r > 0)) continue;
    const advantage = !m[2] ? 1 : m[2] === "pkgedge" ? Math.max(r, 1 / r) : Math.min(r, 1 / r);
    rows.push({ measure: cells[0], pkgedge: cells[1], peer: cells[2], ratio: cells[3], advantage, even: !m[2] });
  }
  return rows;
}

async function main() {
  const codes = {};
  if (!values["report-only"]) {
    for (const name of only) codes[name] = await runBenchmark(name);
  }
  const sections = [];
  const summary = [];
  for (const name of NAMES) {
    const file = resultFile(name);
    if (!existsSync(file)) {
      if (only.includes(name)) sections.push(`## ${name}\n\nNo results (${codes[name] === undefined ? "not run" : `exited ${codes[name]} before writing ${relative(projectRoot, file)}`}).`);
      continue;
    }
    const results = JSON.parse(readFileSync(file, "utf8"));
    const { peer } = BENCHMARKS[name];
    const rows = peer ? comparisonRows(results.table) : [];
    for (const r of rows) summary.push({ benchmark: name, peerName: peer, ...r });
    const run = `${results.startedAt}, ${results.totalSeconds ?? "?"} s`;
    const failed = results.failures?.length ? `\n\n${results.failures.length} failure(s): ${results.failures.map((f) => `[${f.step}${f.target ? ` / ${f.target}` : ""}] ${String(f.error).split("\n")[0].slice(0, 200)}`).join("; ")}` : "";
    const exit = codes[name] !== undefined && codes[name] !== 0 ? ` (exited ${codes[name]})` : "";
    sections.push(`## ${name}${peer ? `: pkgedge vs ${peer}` : ""}\n\nRun ${run}${exit}; options: \`${JSON.stringify(results.options ?? {})}\`.\n\n${(results.table ?? "(no table)").replace(/^(#{1,4}) /gm, "$1## ")}${failed}`);
  }
  const table = markdownTable(
    ["benchmark", "measure", "pkgedge", "peer", "ratio pkgedge ÷ peer", "pkgedge better by"],
    summary.map((r) => [`${r.benchmark} (${r.peerName})`, r.measure, r.pkgedge, r.peer, r.ratio, r.even ? "even (within 5%)" : `${r.advantage.toFixed(2)}x`]),
  );
  // The chart leaves out the p99 and mean rows: the req/s, median and slowest-client rows say it.
  writeFileSync(join(outDir, "summary.svg"), summarySvg(summary.filter((r) => !/p99|mean/.test(r.measure))));
  const report = [
    "# pkgedge benchmarks",
    "",
    `Written by \`npm run bench${values.quick ? " -- --quick" : ""}\` on ${new Date().toISOString()}. Everything runs on loopback on one machine, with`,
    "wrangler dev playing the whole network: compare ratios, not absolute numbers.",
    values.quick ? "\n**Quick settings** (one short round per measure, no idle wait): a smoke run, not figures to quote.\n" : "",
    "![pkgedge against its peers](summary.svg)",
    "",
    "Against the peers (\"better by\" above 1: pkgedge came out ahead by that factor, whatever the unit):",
    "",
    summary.length ? table : "(no comparison rows: no peer benchmark has results)",
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
  writeFileSync(join(outDir, "report.md"), report);
  console.log(`\n${summary.length ? table : "(no comparison rows)"}\n\nreport: ${relative(projectRoot, join(outDir, "report.md"))}, chart: ${relative(projectRoot, join(outDir, "summary.svg"))}`);
  const bad = Object.entries(codes).filter(([, c]) => c !== 0);
  if (bad.length) {
    console.error(`bench: ${bad.map(([n, c]) => `${n} exited ${c}`).join(", ")}`);
    process.exitCode = 1;
  }
}

await main();
