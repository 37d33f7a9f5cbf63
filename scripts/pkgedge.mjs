// `npm run pkgedge -- <command>`: a small admin CLI over the /_/ API.
//   token create --name ci --scopes read,publish [--packages '@acme/*,left-pad'] [--expires-in 3600]
//   token list
//   token revoke <id>
// Options: --url (default $PKGEDGE_URL or http://127.0.0.1:8787); the admin secret comes from
// $PKGEDGE_ADMIN_TOKEN or, failing that, from .dev.vars.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { projectRoot } from "./lib/dev-server.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: process.env.PKGEDGE_URL ?? "http://127.0.0.1:8787" },
    name: { type: "string" },
    scopes: { type: "string", default: "read" },
    packages: { type: "string" },
    "expires-in": { type: "string" },
    json: { type: "boolean", default: false },
  },
});

function adminSecret() {
  if (process.env.PKGEDGE_ADMIN_TOKEN) return process.env.PKGEDGE_ADMIN_TOKEN;
  // Read as wrangler reads it (dotenv: quotes and comments stripped).
  const file = join(projectRoot, ".dev.vars");
  const secret = existsSync(file) && parseEnv(readFileSync(file, "utf8")).PKGEDGE_ADMIN_TOKEN;
  if (secret) return secret;
  fail("no admin secret: set PKGEDGE_ADMIN_TOKEN (npm run dev prints it) or put it in .dev.vars");
}

function fail(message) {
  console.error(`pkgedge: ${message}`);
  process.exit(1);
}

async function call(method, path, body) {
  const res = await fetch(new URL(path, values.url), {
    method,
    headers: { authorization: `Bearer ${adminSecret()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err) => fail(`cannot reach ${values.url}: ${err.cause?.code ?? err.message}`));
  const data = await res.json().catch(() => ({}));
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${data.error ?? ""}`);
  return data;
}

const [group, command, arg] = positionals;
if (group !== "token") fail("usage: pkgedge token create|list|revoke ...");

if (command === "create") {
  if (!values.name) fail("token create needs --name");
  const body = { name: values.name, scopes: values.scopes.split(",").map((s) => s.trim()).filter(Boolean) };
  if (values.packages) body.packages = values.packages.split(",").map((s) => s.trim()).filter(Boolean);
  if (values["expires-in"]) body.expiresIn = Number(values["expires-in"]);
  const created = await call("POST", "/_/tokens", body);
  if (values.json) {
    console.log(JSON.stringify(created));
  } else {
    const host = new URL(values.url).host;
    console.log(`token ${created.id} (${created.name}: ${created.scopes.join(",")}) - shown once, keep it safe:\n${created.token}\n`);
    console.log(`npm:  npm config set //${host}/npm/:_authToken ${created.token}`);
  }
} else if (command === "list") {
  const { tokens } = await call("GET", "/_/tokens");
  if (values.json) console.log(JSON.stringify(tokens));
  else for (const t of tokens) console.log(`${t.id}  ${t.name}  ${t.scopes.join(",")}  ${t.packages?.join(",") ?? "*"}  ${t.expiresAt ?? "no expiry"}`);
} else if (command === "revoke") {
  if (!arg) fail("token revoke needs the token id");
  await call("DELETE", `/_/tokens/${encodeURIComponent(arg)}`);
  console.log(`revoked ${arg}`);
} else {
  fail("usage: pkgedge token create|list|revoke ...");
}
