// The one logger of the Worker and its Durable Objects: each call writes one JSON object on one
// line, {"level","msg",...fields}, which Workers Logs, Logpush and `wrangler tail` index by field.
// Errors become {name, message, stack, cause}. Never pass a token or secret as a field.

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

// How deep an error's cause chain is followed: enough for wrapped errors, bounded for cycles.
const MAX_CAUSES = 3;

function errorFields(err: Error, depth = 0): Fields {
  const out: Fields = { name: err.name, message: err.message };
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = err.cause instanceof Error ? errorFields(err.cause, depth + 1) : err.cause;
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** The JSON line for one log call (exported for tests). */
export function logLine(level: Level, msg: string, fields: Fields = {}): string {
  try {
    return JSON.stringify({ ...fields, level, msg }, replacer);
  } catch {
    // A field that cannot be serialized (a cycle) must not cost the line.
    return JSON.stringify({ level, msg, fields: "unserializable" });
  }
}

// console.error/warn keep their level in Workers Logs; debug and info go through console.log.
const sinks: Record<Level, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

function write(level: Level, msg: string, fields?: Fields): void {
  sinks[level](logLine(level, msg, fields));
}

export const log = {
  debug: (msg: string, fields?: Fields) => write("debug", msg, fields),
  info: (msg: string, fields?: Fields) => write("info", msg, fields),
  warn: (msg: string, fields?: Fields) => write("warn", msg, fields),
  error: (msg: string, fields?: Fields) => write("error", msg, fields),
};
