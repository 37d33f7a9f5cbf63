// Runs registered clean-up steps once, whether the benchmark ends normally, throws or is interrupted.

const steps = [];
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
}
