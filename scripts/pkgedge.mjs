#!/usr/bin/env node
// pkgedge: the admin CLI over a running pkgedge's /_/ API (`npx pkgedge --help`).
import { audit } from "./cli/audit.mjs";
import { CliError, DEFAULT_URL, helpText, parseCommand } from "./cli/common.mjs";
import { purge } from "./cli/purge.mjs";
import * as pypi from "./cli/pypi.mjs";
import { seed } from "./cli/seed.mjs";
import { stats } from "./cli/stats.mjs";
import * as token from "./cli/token.mjs";
import { warm } from "./cli/warm.mjs";

const COMMANDS = {
  "token create": token.create, "token list": token.ls, "token revoke": token.revoke,
  "pypi yank": pypi.yank, "pypi unyank": pypi.unyank, "pypi status": pypi.status, "pypi delete": pypi.remove,
  purge, warm, audit, stats, seed,
};
const GROUPS = { token: ["create", "list", "revoke"], pypi: ["yank", "unyank", "status", "delete"] };
// Global options that take a value: their value is not a command word.
const VALUED = new Set(["--url", "--token"]);

function mainHelp() {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    "Usage: pkgedge <command> [options]",
    "",
    "Administer a running pkgedge (a package CDN and registry for npm, OCI and PyPI).",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary.split("\n")[0]}`),
    "",
    "Every command takes:",
    `  --url <url>        server URL (env PKGEDGE_URL, default ${DEFAULT_URL})`,
    "  --token <secret>   admin secret or admin token (env PKGEDGE_TOKEN, PKGEDGE_ADMIN_TOKEN, else .dev.vars)",
    "  --json             print JSON instead of text",
    "  -h, --help         help for the command",
    "",
    'Run "pkgedge <command> --help" for a command\'s options.',
    "",
  ].join("\n");
}

/** Splits the command words (e.g. "token", "create") from the rest of the arguments. */
function splitCommand(argv) {
  const words = [];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const want = words.length === 0 || (words.length === 1 && GROUPS[words[0]]);
    if (want && !arg.startsWith("-")) words.push(arg);
    else {
      rest.push(arg);
      if (VALUED.has(arg) && i + 1 < argv.length) rest.push(argv[++i]);
    }
  }
  return { words, rest };
}

async function main(argv) {
  const { words, rest } = splitCommand(argv);
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  if (words.length === 0) {
    if (wantsHelp) return process.stdout.write(mainHelp());
    throw new CliError("no command given", { hint: 'see "pkgedge --help"' });
  }
  const [group, sub] = words;
  if (GROUPS[group] && sub === undefined) {
    if (wantsHelp) return process.stdout.write(`Usage: pkgedge ${group} ${GROUPS[group].join("|")} [options]\n\n${GROUPS[group].map((s) => `  pkgedge ${group} ${s}  ${COMMANDS[`${group} ${s}`].summary.split("\n")[0]}`).join("\n")}\n`);
    throw new CliError(`${group} needs a subcommand: ${GROUPS[group].join(", ")}`, { hint: `see "pkgedge ${group} --help"` });
  }
  const name = words.join(" ");
  const spec = COMMANDS[name];
  if (!spec) throw new CliError(`unknown command "${name}"`, { hint: 'see "pkgedge --help"' });
  const parsed = parseCommand(spec, rest);
  if (parsed.help) return process.stdout.write(helpText(spec));
  await spec.run(parsed);
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof CliError) console.error(`pkgedge: ${err.message}${err.hint ? ` (${err.hint})` : ""}`);
  // A bug of ours: still one line, with the stack only when asked for.
  else console.error(process.env.PKGEDGE_DEBUG ? err : `pkgedge: unexpected error: ${err?.message ?? err} (set PKGEDGE_DEBUG=1 for details)`);
  process.exitCode = 1;
}
