// pkgedge token create|list|revoke: the /_/tokens admin API.
import { CliError, list, positiveInt, request, table } from "./common.mjs";

const SCOPES = ["read", "publish", "admin"];
const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;

export const create = {
  name: "token create",
  usage: "token create --name <name> [--scopes read,publish] [--packages '@acme/*,left-pad'] [--expires-in <seconds>]",
  summary: "Create a token; its secret is printed once.",
  options: {
    name: { type: "string", value: "<name>", help: "1-64 letters, digits, . _ @ -" },
    scopes: { type: "string", value: "<list>", help: `comma-separated: ${SCOPES.join(", ")} (default read)` },
    packages: { type: "string", value: "<list>", help: "package name patterns it may touch (default every name)" },
    "expires-in": { type: "string", value: "<seconds>", help: "lifetime in seconds (default no expiry)" },
  },
  examples: ["pkgedge token create --name ci --scopes read,publish --packages '@acme/*' --expires-in 86400"],
  async run({ values, ctx }) {
    if (!values.name) throw new CliError("token create needs --name", { hint: 'see "pkgedge token create --help"' });
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(values.name)) throw new CliError(`--name must be 1-64 letters, digits, . _ @ -, not "${values.name}"`);
    const scopes = list(values.scopes ?? "read");
    const bad = scopes.find((s) => !SCOPES.includes(s));
    if (bad || scopes.length === 0) throw new CliError(`--scopes takes ${SCOPES.join(", ")}${bad ? `, not "${bad}"` : ""}`);
    const body = { name: values.name, scopes };
    if (values.packages !== undefined) {
      body.packages = list(values.packages);
      if (body.packages.length === 0) throw new CliError("--packages needs at least one pattern (leave it out for every name)");
    }
    const expiresIn = positiveInt("expires-in", values["expires-in"], { max: MAX_EXPIRES_IN });
    if (expiresIn !== undefined) body.expiresIn = expiresIn;
    const { data } = await request(ctx, "POST", "/_/tokens", { body });
    if (ctx.json) return console.log(JSON.stringify(data));
    const host = new URL(ctx.url).host;
    console.log(`token ${data.id} (${data.name}: ${data.scopes.join(",")}${data.expiresAt ? `, expires ${data.expiresAt}` : ""}) - shown once, keep it safe:\n${data.token}\n`);
    console.log(`npm:  npm config set //${host}/npm/:_authToken ${data.token}`);
  },
};

export const ls = {
  name: "token list",
  usage: "token list",
  summary: "List tokens (never their secrets); expired ones are marked.",
  options: {},
  examples: ["pkgedge token list"],
  async run({ ctx }) {
    const { data } = await request(ctx, "GET", "/_/tokens");
    const now = Date.now();
    const tokens = data.tokens.map((t) => ({ ...t, expired: t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now }));
    if (ctx.json) return console.log(JSON.stringify(tokens));
    if (tokens.length === 0) return console.log("no tokens");
    console.log(table(["ID", "NAME", "SCOPES", "PACKAGES", "EXPIRES"], tokens.map((t) => [
      t.id, t.name, t.scopes.join(","), t.packages?.join(",") ?? "*",
      t.expiresAt === undefined ? "never" : t.expired ? `EXPIRED ${t.expiresAt}` : t.expiresAt,
    ])));
  },
};

export const revoke = {
  name: "token revoke",
  usage: "token revoke <id>",
  summary: "Revoke a token: it stops working at once, with any OCI grants it issued.",
  options: {},
  positionals: [{ name: "the token id", required: true }],
  examples: ["pkgedge token revoke 3f2c9a..."],
  async run({ positionals, ctx }) {
    const [id] = positionals;
    await request(ctx, "DELETE", `/_/tokens/${encodeURIComponent(id)}`);
    if (ctx.json) return console.log(JSON.stringify({ revoked: id }));
    console.log(`revoked ${id}`);
  },
};
