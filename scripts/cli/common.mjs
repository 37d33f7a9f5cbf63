// What every pkgedge CLI command shares: option parsing on util.parseArgs, the --url/--token
// defaults, one-line errors, and an HTTP client that turns failures into those lines.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { projectRoot } from "../lib/dev-server.mjs";

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** An error the user caused or can fix: printed as one line, never with a stack. */
export class CliError extends Error {
  constructor(message, { hint } = {}) {
    super(message);
    this.name = "CliError";
    this.hint = hint;
  }
}

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: "string", help: `server URL (env PKGEDGE_URL, default ${DEFAULT_URL})`, value: "<url>" },
  token: { type: "string", help: "admin secret or admin token (env PKGEDGE_TOKEN, PKGEDGE_ADMIN_TOKEN, else .dev.vars)", value: "<secret>" },
  json: { type: "boolean", help: "print JSON instead of text" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** The help text of a command: `spec` is {name, summary, usage, options, examples}. */
export function helpText(spec) {
  const options = { ...spec.options, ...GLOBAL_OPTIONS };
  const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`, o.help ?? ""]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: pkgedge ${spec.usage}`,
    "",
    spec.summary,
    "",
    "Options:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    ...(spec.examples?.length ? ["", "Examples:", ...spec.examples.map((e) => `  ${e}`)] : []),
    "",
  ].join("\n");
}

/** Parses a command's arguments; parseArgs' own errors become one-line CliErrors with a hint. */
export function parseCommand(spec, argv) {
  const options = {};
  for (const [name, o] of Object.entries({ ...spec.options, ...GLOBAL_OPTIONS })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  const hint = `see "pkgedge ${spec.name} --help"`;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    if (typeof err?.code === "string" && err.code.startsWith("ERR_PARSE_ARGS")) throw new CliError(err.message.split("\n")[0].replace(/\. To specify a positional.*$/, ""), { hint });
    throw err;
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const max = spec.positionals?.length ?? 0;
  if (positionals.length > max) throw new CliError(`unexpected argument "${positionals[max]}"`, { hint });
  spec.positionals?.forEach((p, i) => {
    if (p.required && positionals[i] === undefined) throw new CliError(`${spec.name} needs ${p.name}`, { hint });
  });
  return { values, positionals, ctx: context(values, hint) };
}

function context(values, hint) {
  const raw = values.url ?? process.env.PKGEDGE_URL ?? DEFAULT_URL;
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`malformed --url "${raw}": expected e.g. ${DEFAULT_URL}`, { hint });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`malformed --url "${raw}": only http and https URLs`, { hint });
  const base = url.href.replace(/\/+$/, "");
  return { url: base, json: values.json === true, secret: () => secretFrom(values.token) };
}

function secretFrom(flag) {
  const secret = flag ?? process.env.PKGEDGE_TOKEN ?? process.env.PKGEDGE_ADMIN_TOKEN;
  if (secret) return secret;
  // Read as wrangler reads it (dotenv: quotes and comments stripped).
  const file = join(projectRoot, ".dev.vars");
  const fromFile = existsSync(file) && parseEnv(readFileSync(file, "utf8")).PKGEDGE_ADMIN_TOKEN;
  if (fromFile) return fromFile;
  throw new CliError("no admin secret: pass --token, set PKGEDGE_TOKEN (npm run dev prints the secret) or put PKGEDGE_ADMIN_TOKEN in .dev.vars");
}

const NETWORK_REASONS = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
};

/**
 * fetch against the server: a network failure, a refused secret or any other non-2xx answer
 * (unless listed in `allow`) becomes a CliError. `auth` is "bearer" (default), "basic" or "none".
 */
export async function request(ctx, method, path, { body, headers = {}, auth = "bearer", allow = [], raw = false } = {}) {
  const h = { ...headers };
  if (auth === "bearer") h.authorization = `Bearer ${ctx.secret()}`;
  if (auth === "basic") h.authorization = `Basic ${Buffer.from(`pkgedge:${ctx.secret()}`).toString("base64")}`;
  let payload = body;
  if (body !== undefined && !(body instanceof Uint8Array) && typeof body !== "string") {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  let res;
  try {
    res = await fetch(`${ctx.url}${path}`, { method, headers: h, body: payload });
  } catch (err) {
    const code = err?.cause?.code;
    throw new CliError(`cannot reach ${ctx.url}: ${NETWORK_REASONS[code] ?? err?.cause?.message ?? err.message}`);
  }
  if (res.ok || allow.includes(res.status)) return raw ? res : { status: res.status, data: await readJson(res), res };
  const reason = errorMessage(await res.text());
  if (res.status === 401 || res.status === 403) throw new CliError(`the token was refused: ${reason || res.statusText} (${res.status})`);
  throw new CliError(`${method} ${path}: ${res.status} ${reason || res.statusText}`);
}

async function readJson(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

/** The message in an error body: pkgedge's {error}, OCI's {errors: [{message}]}, else the text. */
function errorMessage(text) {
  try {
    const data = JSON.parse(text);
    return data.error ?? data.errors?.[0]?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200).replace(/\s+/g, " ").trim();
  }
}

/** A comma-separated list flag as a clean array. */
export const list = (value) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** A whole positive number flag, or a CliError naming it. */
export function positiveInt(name, value, { max = Number.MAX_SAFE_INTEGER } = {}) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new CliError(`--${name} must be a whole number from 1 to ${max}, not "${value}"`);
  return n;
}

/** Left-aligned columns, for listings. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c ?? "")));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}
