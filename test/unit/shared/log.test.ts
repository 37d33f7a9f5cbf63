// Every log call is one JSON object on one line, {"level","msg",...fields}, on the console method
// of its level, with errors (and their causes) as fields a log search can read.
import { afterEach, describe, expect, it, vi } from "vitest";
import { log, logLine } from "../../../shared/log";

afterEach(() => vi.restoreAllMocks());

describe("log", () => {
  it.each([
    ["debug", "debug"],
    ["info", "log"],
    ["warn", "warn"],
    ["error", "error"],
  ] as const)("%s writes one JSON line through console.%s", (level, method) => {
    const calls: unknown[][] = [];
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void calls.push(args));
    log[level]("audit write failed", { action: "publish", status: 503 });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    expect(JSON.parse(calls[0]![0] as string)).toEqual({ level, msg: "audit write failed", action: "publish", status: 503 });
  });

  it("turns an error and its cause into fields, on a single line", () => {
    const err = new Error("put failed", { cause: new TypeError("network\nlost") });
    const line = logLine("error", "unexpected error", { error: err });
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ level: "error", msg: "unexpected error", error: { name: "Error", message: "put failed", cause: { name: "TypeError", message: "network\nlost" } } });
    expect(parsed.error.stack).toContain("put failed");
  });

  it("a field cannot overwrite level or msg", () => {
    expect(JSON.parse(logLine("warn", "real", { level: "debug", msg: "fake" }))).toMatchObject({ level: "warn", msg: "real" });
  });

  it("a field that cannot be serialized still leaves a line", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(JSON.parse(logLine("error", "odd", { cycle }))).toEqual({ level: "error", msg: "odd", fields: "unserializable" });
  });
});
