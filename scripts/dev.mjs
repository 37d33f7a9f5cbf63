// `npm run dev`: wrangler dev with local KV, R2, Durable Objects, Cache API and Queues on
// 127.0.0.1:8787, DEV_MODE on; the user's wrangler arguments win over those defaults. Makes sure
// an admin secret exists (from --var, an --env-file, .dev.vars, or made up for this session and
// handed to wrangler in a private env file, never on a command line `ps` shows), and once the
// Worker answers, below wrangler's start-up output, prints it with the command that makes a token.
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { parseEnv } from "node:util";
import { projectRoot, randomSecret, readWranglerArgs, startWrangler } from "./lib/dev-server.mjs";

const args = process.argv.slice(2);
const user = readWranglerArgs(args);
// wrangler resolves env files against the config's folder and, given no --env-file, reads
// .dev.vars there, or else .env and .env.local.
const configDir = user.config ? dirname(resolve(projectRoot, user.config)) : projectRoot;
const ownFiles = existsSync(resolve(configDir, ".dev.vars")) ? [".dev.vars"] : [".env", ".env.local"].filter((f) => existsSync(resolve(configDir, f)));
const readFiles = (user.envFiles.length ? user.envFiles : ownFiles).map((f) => resolve(configDir, f));

const setBy = new Map(Object.keys(user.vars).map((k) => [k, "--var"]));
for (const file of readFiles) {
  for (const k of Object.keys(parseEnv(readFileSync(file, "utf8")))) setBy.set(k, relative(projectRoot, file));
}
const vars = {};
if (!setBy.has("PKGEDGE_ADMIN_TOKEN")) vars.PKGEDGE_ADMIN_TOKEN = `dev-${randomSecret(32)}`;
// Dev-only knobs (fault injection, propagation delays) need DEV_MODE; wrangler.toml keeps it off.
if (!setBy.has("DEV_MODE")) vars.DEV_MODE = "true";

console.log("pkgedge dev: starting wrangler dev; the admin secret and next steps follow once it answers.\n");
let server;
try {
  // The user's own --env-file options are in `args` already; without them, keep what wrangler
  // would have read on its own, since passing any --env-file makes it skip .dev.vars.
  server = await startWrangler({ args, vars, envFiles: user.envFiles.length ? [] : readFiles, port: 8787, persistTo: null, interactive: true, timeoutMs: Infinity });
} catch (err) {
  console.error(`\npkgedge dev: ${err.message.split("\n")[0]}`);
  process.exit(1);
}

const secret = vars.PKGEDGE_ADMIN_TOKEN;
const from = setBy.get("PKGEDGE_ADMIN_TOKEN");
const url = server.url === "http://127.0.0.1:8787" ? "" : ` --url ${server.url}`;
// The pkgedge CLI reads .dev.vars itself; a secret from anywhere else goes in its environment.
const prefix = from === ".dev.vars" ? "" : `PKGEDGE_ADMIN_TOKEN=${secret ?? "<secret>"} `;
console.log([
  "",
  `pkgedge is ready on ${server.url} (npm registry ${server.url}/npm/, OCI ${server.url}/v2/, dashboard ${server.url}/_/dashboard)`,
  secret
    ? `No PKGEDGE_ADMIN_TOKEN in .dev.vars, an --env-file or --var, so this session uses:\n  PKGEDGE_ADMIN_TOKEN=${secret}\n(copy .dev.vars.example to .dev.vars to keep one across restarts)`
    : `Admin secret: PKGEDGE_ADMIN_TOKEN from ${from}`,
  "Create a token:",
  `  ${prefix}npm run pkgedge -- token create --name me --scopes read,publish${url}`,
  "",
].join("\n"));

const code = await server.exited;
await server.stop();
process.exit(code);
