// The defaults are written three times for three readers: the code's table (shared/config/
// defaults.ts), wrangler.toml's [vars] and the README's configuration tables. This fails as soon
// as one of them names a var the others lack or gives it another default; secrets appear in the
// README only, never in wrangler.toml.
/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import readme from "../../../README.md?raw";
import wranglerToml from "../../../wrangler.toml?raw";
import { DEFAULTS, SECRETS } from "../../../shared/config/defaults";

/** wrangler.toml's [vars] table: every line in it is a comment, blank, or KEY = "value". */
function wranglerVars(toml: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const [i, raw] of toml.split("\n").entries()) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inVars = line === "[vars]";
      continue;
    }
    if (!inVars || line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z][A-Z0-9_]*)\s*=\s*"([^"\\]*)"$/.exec(line);
    if (!m) throw new Error(`wrangler.toml line ${i + 1} in [vars] is not KEY = "value": ${line}`);
    vars[m[1]!] = m[2]!;
  }
  return vars;
}

interface Documented {
  defaults: Record<string, string>;
  secrets: Record<string, "required" | "optional">;
}

/**
 * Every `| var | default | meaning |` table in the README. A row may name several vars
 * (`A` / `B`, or `A`, `B`) with as many defaults, or one default for all; `(none)` is the empty
 * string, `(secret)` and `(secret, optional)` mark secrets, and a row like `RATE_LIMIT_*` that
 * points to another table is skipped.
 */
function readmeVars(markdown: string): Documented {
  const out: Documented = { defaults: {}, secrets: {} };
  let inTable = false;
  for (const line of markdown.split("\n")) {
    if (/^\|\s*var\s*\|\s*default\s*\|\s*meaning\s*\|$/.test(line.trim())) {
      inTable = true;
      continue;
    }
    if (!line.startsWith("|")) {
      inTable = false;
      continue;
    }
    if (!inTable || /^\|[-| ]+\|$/.test(line.trim())) continue;
    const [names = "", defaults = ""] = line.split("|").slice(1, 3);
    const vars = [...names.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    if (vars.some((v) => v.includes("*"))) continue;
    const values = [...defaults.matchAll(/`([^`]*)`|\(([^)]*)\)/g)].map((m) => (m[1] !== undefined ? m[1] : `(${m[2]})`));
    if (values.length !== vars.length && values.length !== 1) throw new Error(`README row gives ${values.length} defaults for ${vars.length} vars: ${line}`);
    vars.forEach((name, i) => {
      const value = values.length === 1 ? values[0]! : values[i]!;
      if (value.startsWith("(secret")) out.secrets[name] = value.includes("optional") ? "optional" : "required";
      else out.defaults[name] = value === "(none)" ? "" : value;
    });
  }
  return out;
}

describe("configuration defaults", () => {
  const toml = wranglerVars(wranglerToml);
  const documented = readmeVars(readme);

  it("reads something from each source", () => {
    expect(Object.keys(toml).length).toBeGreaterThan(40);
    expect(Object.keys(documented.defaults).length).toBeGreaterThan(40);
  });

  it("wrangler.toml's [vars] sets exactly the vars the code reads, to the code's defaults", () => {
    expect(toml).toEqual(DEFAULTS);
  });

  it("the README documents exactly the vars the code reads, with the code's defaults", () => {
    expect(documented.defaults).toEqual(DEFAULTS);
  });

  it("the README lists the secrets, and wrangler.toml sets none of them", () => {
    expect(documented.secrets).toEqual(SECRETS);
    for (const name of Object.keys(SECRETS)) expect(toml).not.toHaveProperty(name);
  });
});
