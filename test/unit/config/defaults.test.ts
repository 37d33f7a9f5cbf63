// The defaults are written twice for two readers: the code's table (shared/config/defaults.ts) and
// the README's configuration tables; wrangler.toml's environments name only what differs. This
// fails as soon as the README and the code disagree, an environment sets a var the code does not
// read or a secret, a dev switch is on outside [env.dev], or an environment lacks a binding.
/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import readme from "../../../README.md?raw";
import wranglerToml from "../../../wrangler.toml?raw";
import { DEFAULTS, SECRETS } from "../../../shared/config/defaults";

/**
 * wrangler.toml's var tables by section ("vars" for a top-level [vars], "env.dev.vars", ...):
 * every line in one is a comment, blank, or KEY = "value".
 */
function wranglerVars(toml: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const [i, raw] of toml.split("\n").entries()) {
    const line = raw.trim();
    const header = /^\[([a-z_.]+)\]$/.exec(line);
    if (line.startsWith("[")) {
      current = header && /^(env\.[a-z]+\.)?vars$/.test(header[1]!) ? (sections[header[1]!] = {}) : undefined;
      continue;
    }
    if (!current || line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z][A-Z0-9_]*)\s*=\s*"([^"\\]*)"$/.exec(line);
    if (!m) throw new Error(`wrangler.toml line ${i + 1} in a vars table is not KEY = "value": ${line}`);
    current[m[1]!] = m[2]!;
  }
  return sections;
}

/** Binding names (`binding = "X"`, `name = "X"`) at the top level and in each [env.<name>]. */
function wranglerBindings(toml: string): Record<string, string[]> {
  const parts = toml.split(/^\[env\.([a-z]+)\]$/m);
  const names = (text: string) => [...text.matchAll(/\b(?:binding|name)\s*=\s*"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!).sort();
  const out: Record<string, string[]> = { top: names(parts[0]!) };
  for (let i = 1; i < parts.length; i += 2) out[parts[i]!] = names(parts[i + 1]!.split(/^\[env\.[a-z]+\.vars\]$/m)[0]!);
  return out;
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
  const environments = ["dev", "staging", "production"];

  it("reads something from each source", () => {
    expect(Object.keys(toml)).toEqual(environments.map((e) => `env.${e}.vars`));
    expect(Object.keys(documented.defaults).length).toBeGreaterThan(40);
  });

  it("the README documents exactly the vars the code reads, with the code's defaults", () => {
    expect(documented.defaults).toEqual(DEFAULTS);
  });

  it("the defaults are production-safe: no region header, no dev knobs", () => {
    expect(DEFAULTS.DEV_REGION_HEADER).toBe("false");
    expect(DEFAULTS.DEV_MODE).toBe("false");
  });

  it("each environment's vars name only vars the code reads, and never a secret", () => {
    for (const [section, vars] of Object.entries(toml)) {
      for (const name of Object.keys(vars)) expect(DEFAULTS, `${section}.${name}`).toHaveProperty(name);
    }
  });

  it("only the dev environment turns the dev switches on", () => {
    expect(toml["env.dev.vars"]).toMatchObject({ DEV_REGION_HEADER: "true", DEV_MODE: "true" });
    for (const env of ["staging", "production"]) {
      const devVars = Object.keys(toml[`env.${env}.vars`]!).filter((k) => k.startsWith("DEV_"));
      expect(devVars, env).toEqual([]);
    }
  });

  it("every environment has every binding the top level has (wrangler does not inherit them)", () => {
    const bindings = wranglerBindings(wranglerToml);
    expect(Object.keys(bindings)).toEqual(["top", ...environments]);
    expect(bindings.top!.length).toBeGreaterThan(5);
    for (const env of environments) expect(bindings[env], env).toEqual(bindings.top);
  });

  it("the README lists the secrets, and wrangler.toml sets none of them", () => {
    expect(documented.secrets).toEqual(SECRETS);
    for (const vars of Object.values(toml)) for (const name of Object.keys(SECRETS)) expect(vars).not.toHaveProperty(name);
  });
});
