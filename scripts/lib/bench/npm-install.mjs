// Times a real `npm install` from a given registry in a clean project with an empty npm cache.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../dev-server.mjs";
import { msSince } from "./stats.mjs";

/**
 * Runs `npm install <spec>` in a new temp project whose .npmrc (also used as the user config,
 * so no other config leaks in) points at `registry` with `token`. The npm cache is a new empty
 * dir. Returns { ok, ms, packages, foreignTarballs, stderr }.
 */
export async function timeNpmInstall({ registry, token, spec, timeoutMs = 300_000, extraArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), "pkgedge-bench-install-"));
  try {
    const reg = new URL(registry);
    const npmrc = [
      `registry=${registry}`,
      `//${reg.host}${reg.pathname}:_authToken=${token}`,
      "audit=false",
      "fund=false",
      "update-notifier=false",
      "",
    ].join("\n");
    writeFileSync(join(dir, ".npmrc"), npmrc);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-install", version: "1.0.0", private: true }));
    const args = ["install", spec, "--no-audit", "--no-fund", "--cache", join(dir, "npm-cache"),
      "--userconfig", join(dir, ".npmrc"), "--loglevel=error", "--no-progress", ...extraArgs];
    const start = process.hrtime.bigint();
    const { code, stderr } = await new Promise((resolve, reject) => {
      const child = spawn("npm", args, { cwd: dir, env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"], detached: true });
      let err = "";
      child.stderr.on("data", (c) => {
        err += c.toString();
      });
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, timeoutMs);
      child.on("error", reject);
      child.on("exit", (c, sig) => {
        clearTimeout(timer);
        resolve({ code: c ?? sig, stderr: err });
      });
    });
    const ms = msSince(start);
    let packages = 0;
    let foreignTarballs = 0;
    try {
      const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8"));
      for (const [path, entry] of Object.entries(lock.packages ?? {})) {
        if (!path) continue;
        packages += 1;
        if (entry.resolved && !entry.resolved.startsWith(`${reg.protocol}//${reg.host}`)) foreignTarballs += 1;
      }
    } catch {
      // no lock: the install failed
    }
    return { ok: code === 0, code, ms, packages, foreignTarballs, stderr: stderr.slice(-2000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
