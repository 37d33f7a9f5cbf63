// The one reader of wrangler vars: numbers, booleans, lists, durations and per-region maps. An
// unset var takes its default from defaults.ts; a value that does not parse is a configuration
// error, thrown when the config is first loaded and naming the var and the value, never
// replaced by a guess.
import { DEFAULTS, type VarName } from "./defaults";

/** The env as the readers see it (wrangler vars are strings; JSON vars may be numbers or booleans). */
export type Vars = Record<string, unknown>;

export type TimeUnit = "ms" | "s" | "m" | "h";
const UNIT_MS: Record<TimeUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export interface Range {
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
  integer?: boolean;
}

export function configError(name: string, value: string, expected: string): Error {
  return new Error(`wrangler var ${name} must be ${expected}, got "${value}"`);
}

function given(env: Vars, name: VarName): string | undefined {
  const v = env[name];
  return typeof v === "string" ? v.trim() : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/**
 * The var's text. Scalars treat an empty value as unset (what `--var NAME:` passes); lists and
 * maps read it as empty, the only way to say "none" for one whose default lists something.
 */
export function text(env: Vars, name: VarName): string {
  const v = given(env, name);
  return v === undefined || v === "" ? DEFAULTS[name] : v;
}

/** "at least 0 and below 1", or "" for no bounds. */
function bounds(range: Range): string {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`at least ${range.min}`);
  if (range.above !== undefined) parts.push(`above ${range.above}`);
  if (range.max !== undefined) parts.push(`at most ${range.max}`);
  if (range.below !== undefined) parts.push(`below ${range.below}`);
  return parts.join(" and ");
}

function within(n: number, range: Range): boolean {
  return Number.isFinite(n)
    && (!range.integer || Number.isInteger(n))
    && (range.min === undefined || n >= range.min)
    && (range.max === undefined || n <= range.max)
    && (range.above === undefined || n > range.above)
    && (range.below === undefined || n < range.below);
}

/** A number, non-negative unless the range says otherwise. */
export function number(env: Vars, name: VarName, range: Range = {}): number {
  const value = text(env, name);
  const allowed = { min: 0, ...range };
  const n = Number(value);
  if (!within(n, allowed)) throw configError(name, value, `${range.integer ? "an integer" : "a number"} ${bounds(allowed)}`);
  return n;
}

/** "true"/"false" (or "1"/"0"), in any case. */
export function boolean(env: Vars, name: VarName): boolean {
  const value = text(env, name);
  const lower = value.toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  throw configError(name, value, "true or false");
}

/** Comma-separated items, trimmed; empty items dropped. */
export function list(env: Vars, name: VarName): string[] {
  const v = given(env, name) ?? DEFAULTS[name];
  return v.split(",").map((s) => s.trim()).filter(Boolean);
}

/** "1500ms", "60s", "2m", "1h", or a bare number in `unit`; the amount in `unit`, or null. */
export function parseDuration(value: string, unit: TimeUnit): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value.trim().toLowerCase());
  if (!m) return null;
  return (Number(m[1]) * UNIT_MS[(m[2] as TimeUnit | undefined) ?? unit]) / UNIT_MS[unit];
}

/** A duration (see parseDuration) in the var's own unit, the one its name ends with. */
export function duration(env: Vars, name: VarName, unit: TimeUnit, range: Range = {}): number {
  const value = text(env, name);
  const n = parseDuration(value, unit);
  if (n === null || !within(n, range)) {
    const limits = bounds(range);
    throw configError(name, value, `a duration such as "30", "1500ms", "60s" or "2m" (bare numbers in ${unit})${limits ? `, ${limits}` : ""}`);
  }
  return n;
}

/**
 * "us-east:eager,eu-west:lazy" -> { "us-east": "eager", "eu-west": "lazy" }, each value read by
 * `parse` (undefined refuses it). Regions not configured may appear: a map can serve several
 * REGIONS settings, and the readers of a region that is not listed use their default.
 */
export function perRegion<T>(env: Vars, name: VarName, parse: (value: string) => T | undefined, expected: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const item of list(env, name)) {
    const colon = item.indexOf(":");
    const region = item.slice(0, colon).trim();
    const parsed = colon > 0 ? parse(item.slice(colon + 1).trim()) : undefined;
    if (!region || parsed === undefined) throw configError(name, item, `comma-separated region:value pairs with ${expected} as the value`);
    out[region] = parsed;
  }
  return out;
}
