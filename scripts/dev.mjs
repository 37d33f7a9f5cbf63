// `npm run dev`: wrangler dev with local KV, R2, Durable Objects, Cache API and Queues.
// Makes sure an admin secret exists (from .dev.vars, --var, or made up for this session) and
// prints how to use it, so a newcomer can create a token straight away.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot, randomSecret } from "./lib/dev-server.mjs";

const args = process.argv.slice(2);
const fromVar = args.some((a, i) => args[i - 1] === "--var" && a.startsWith("PKGEDGE_ADMIN_TOKEN:"));
const devVars = join(projectRoot, ".dev.vars");
const fromFile = existsSync(devVars) && /^PKGEDGE_ADMIN_TOKEN=.+/m.test(readFileSync(devVars, "utf8"));

let note;
if (fromVar || fromFile) {
  note = `admin secret: PKGEDGE_ADMIN_TOKEN from ${fromVar ? "--var" : ".dev.vars"}`;
} else {
  const secret = `dev-${randomSecret(32)}`;
  args.push("--var", `PKGEDGE_ADMIN_TOKEN:${secret}`);
  note = [
    `No PKGEDGE_ADMIN_TOKEN in .dev.vars or --var, so this session uses:`,
    `  PKGEDGE_ADMIN_TOKEN=${secret}`,
    `(copy .dev.vars.example to .dev.vars to keep one across restarts)`,
  ].join("\n");
}
// Dev-only knobs (fault injection, propagation delays) need DEV_MODE; wrangler.toml keeps it off.
if (!args.some((a, i) => args[i - 1] === "--var" && a.startsWith("DEV_MODE:"))) args.push("--var", "DEV_MODE:true");
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? args[portArg + 1] : "8787";
console.log(`\npkgedge dev\n${note}\nCreate a token:  PKGEDGE_ADMIN_TOKEN=<secret> npm run pkgedge -- token create --name me --scopes read,publish${port !== "8787" ? ` --url http://127.0.0.1:${port}` : ""}\n`);

const wrangler = join(projectRoot, "node_modules", ".bin", "wrangler");
const child = spawn(wrangler, ["dev", "--ip", "127.0.0.1", ...(portArg >= 0 ? [] : ["--port", port]), ...args], { stdio: "inherit", cwd: projectRoot });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
