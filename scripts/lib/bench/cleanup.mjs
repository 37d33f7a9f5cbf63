// Runs registered clean-up steps once, whether the benchmark ends normally, throws or is interrupted.

const steps = [];
const syncKills = new Set();
let installed = false;
let running = null;

/** Registers an async clean-up step (run in reverse order). Returns a function that drops it. */
export function onCleanup(fn) {
  install();
  steps.push(fn);
  return () => {
    const i = steps.indexOf(fn);
    if (i >= 0) steps.splice(i, 1);
  };
}

/**
 * Registers a child process group to kill synchronously if the process exits before the async
 * steps could run (e.g. a second Ctrl-C). Returns a function that drops it.
 */
export function killOnExit(pid) {
  install();
  syncKills.add(pid);
  return () => syncKills.delete(pid);
}

/** Runs every registered step once (later registrations first). Safe to call repeatedly. */
export function runCleanup() {
  running ??= (async () => {
    while (steps.length) {
      const fn = steps.pop();
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`clean-up step failed: ${err?.message ?? err}\n`);
      }
    }
  })();
  return running;
}

function install() {
  if (installed) return;
  installed = true;
  let signalled = 0;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      signalled += 1;
      if (signalled > 1) process.exit(130);
      process.stderr.write(`\n${sig}: stopping servers...\n`);
      runCleanup().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const pid of syncKills) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}
