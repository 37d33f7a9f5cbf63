// The skeleton every benchmark entry point uses: its options (node's parseArgs, with --help and
// bounded numbers) plus the common ones, a timestamped log, one results record, a wait for a
// quiet machine, each measure as a step, the JSON (and Markdown) written, and a main that always
// runs the cleanups (servers, temp dirs) and exits with its code.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../dev-server.mjs";
import { onCleanup, runCleanup } from "./cleanup.mjs";
import { measureStep, waitForQuietMachine } from "./machine.mjs";
import { round } from "./stats.mjs";

/** A numeric option: refused outside [min, max]. */
export const number = (value, min, max, help = "") => ({ type: "string", default: String(value), min, max, help });
/** A text option. */
export const text = (value, help = "") => ({ type: "string", default: value, help });
/** An on/off option, off unless given. */
export const flag = (help = "") => ({ type: "boolean", default: false, help });

function usage(name, about, options) {
  const lines = [`node scripts/bench-${name}.mjs [options]`, "", about, "", "Options:"];
  for (const [key, o] of Object.entries(options)) {
    const shape = o.type === "boolean" ? `--${key}` : `--${key}=${String(o.default).replace(`${projectRoot}/`, "")}`;
    const range = o.min !== undefined ? ` (${o.min}-${o.max})` : "";
    lines.push(`  ${shape.padEnd(34)} ${o.help}${range}`.trimEnd());
  }
  return lines.join("\n");
}

/**
 * Reads a benchmark's options from the command line. `steps` names its measures (`--only`
 * picks some). Every benchmark also takes --wait-idle, --out, --wrangler-log and --help.
 * Returns { args (numbers as numbers), only (Set), log, run(main, { report, markdown? }) }:
 * `main({ results, step })` fills `results` (`step(key, title, fn, { always })` runs one measure
 * when --only includes it, or always); then `report(results)` is printed and `markdown(results, report)`, if given,
 * written next to the JSON.
 */
export function benchmark({ name, about, steps, options }) {
  const all = {
    ...options,
    only: text(steps.join(","), "the measures to run"),
    "wait-idle": number(30, 0, 600, "seconds to wait for other work on the machine to calm down"),
    "wrangler-log": text("warn", "wrangler's log level (info logs every request through its Node process, competing for the CPUs)"),
    out: text(join(projectRoot, "bench-results", `${name}.json`), "the results file (JSON; a Markdown report, if any, goes beside it as .md)"),
    help: flag("print this and exit"),
  };
  let values;
  try {
    values = parseArgs({ options: Object.fromEntries(Object.entries(all).map(([k, o]) => [k, { type: o.type, default: o.default }])) }).values;
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${usage(name, about, all)}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usage(name, about, all)}\n`);
    process.exit(0);
  }
  const args = { ...values };
  for (const [key, o] of Object.entries(all)) {
    if (o.min === undefined) continue;
    const v = Number(values[key]);
    if (!Number.isFinite(v) || v < o.min || v > o.max) {
      process.stderr.write(`--${key} must be between ${o.min} and ${o.max}\n`);
      process.exit(2);
    }
    args[key] = v;
  }
  const only = new Set(args.only.split(",").map((s) => s.trim()).filter(Boolean));
  const unknown = [...only].filter((s) => !steps.includes(s));
  if (unknown.length) {
    process.stderr.write(`--only: unknown measure(s) ${unknown.join(", ")}; choose from ${steps.join(", ")}\n`);
    process.exit(2);
  }
  process.env.WRANGLER_LOG ??= args["wrangler-log"];
  const started = Date.now();
  const log = timedLog(started);

  async function run(main, { report: render, markdown: renderMarkdown }) {
    onCleanup(async () => {}); // installs the signal handlers before anything starts
    let code = 1;
    try {
      mkdirSync(dirname(args.out), { recursive: true });
      const results = {
        startedAt: new Date(started).toISOString(),
        machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform },
        options: { ...args, only: [...only] },
        failures: [],
        cpuBusyDuring: {},
        otherWorkCpuDuring: {},
        loadavg: {},
      };
      await waitForQuietMachine(results.machine, args["wait-idle"], log);
      results.loadavg.start = loadavg().map((v) => round(v, 2));
      const step = (key, title, fn, { always = false } = {}) => (always || only.has(key) ? measureStep(results, key, title, fn, log) : undefined);
      await main({ results, step });
      results.loadavg.end = loadavg().map((v) => round(v, 2));
      results.totalSeconds = Math.round((Date.now() - started) / 1000);
      const report = render(results);
      const markdown = renderMarkdown?.(results, report);
      results.table = report;
      writeFileSync(args.out, JSON.stringify(results, null, 2));
      const md = args.out.replace(/\.json$/, "") + ".md";
      if (markdown) writeFileSync(md, markdown);
      process.stdout.write(`\n${report}\n\nresults: ${args.out}${markdown ? ` and ${md}` : ""} (${results.totalSeconds} s)\n`);
      code = reportFailures(results.failures);
    } catch (err) {
      log(`bench failed: ${err.stack ?? err}`);
    } finally {
      await runCleanup();
    }
    process.exit(code);
  }

  return { args, only, log, run };
}

/** A logger to stderr prefixed with seconds since `started`. */
export function timedLog(started = Date.now()) {
  return (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** Prints the failures a run collected; returns the exit code they call for. */
function reportFailures(failures) {
  if (failures.length) {
    process.stdout.write(`\n${failures.length} failure(s):\n`);
    for (const f of failures) process.stdout.write(`- [${f.step}${f.target ? ` / ${f.target}` : ""}] ${String(f.error).slice(0, 1500)}\n`);
  }
  return failures.length ? 1 : 0;
}
