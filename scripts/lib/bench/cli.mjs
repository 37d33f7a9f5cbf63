// What every benchmark entry point shares: bounded numeric options, a timestamped log, and a
// main that always runs the cleanups (servers, temp dirs) and exits with its code.
import { onCleanup, runCleanup } from "./cleanup.mjs";

/** A numeric option from parseArgs' values, refused outside [min, max]. */
export function bounded(args, name, min, max) {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be between ${min} and ${max}`);
  return v;
}

/** A logger to stderr prefixed with seconds since `started`. */
export function timedLog(started = Date.now()) {
  return (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** Prints the failures a run collected; returns the exit code they call for. */
export function reportFailures(failures) {
  if (failures.length) {
    process.stdout.write(`\n${failures.length} failure(s):\n`);
    for (const f of failures) process.stdout.write(`- [${f.step}${f.target ? ` / ${f.target}` : ""}] ${String(f.error).slice(0, 1500)}\n`);
  }
  return failures.length ? 1 : 0;
}

/** Runs `main` (which returns an exit code), then every registered cleanup, then exits. */
export async function runBench(main, log) {
  onCleanup(async () => {}); // installs the signal handlers before anything starts
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    log(`bench failed: ${err.stack ?? err}`);
  } finally {
    await runCleanup();
  }
  process.exit(code);
}
