// `npm run dev` as a newcomer runs it: the user's wrangler options win over the script's
// defaults, the made-up admin secret is on no process's command line, and the secret and the
// next command come after wrangler's start-up output.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { cleanEnv, freePort, projectRoot, readWranglerArgs } from "../../scripts/lib/dev-server.mjs";

test("readWranglerArgs sees options in both spellings, and --var pairs", () => {
  const a = readWranglerArgs(["--ip", "0.0.0.0", "--port=9000", "--var", "A:b:c", "--env-file", "x.env", "--persist-to", "/tmp/s"]);
  expect([a.ip, a.port, a.vars, a.envFiles]).toEqual(["0.0.0.0", "9000", { A: "b:c" }, ["x.env"]]);
  expect(a.given.has("persist-to") && !a.given.has("inspector-port")).toBe(true);
});

/** Every running process's command line, as `ps` would show it. */
function commandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

test("npm run dev -- --ip 127.0.0.1 --port N: serves there, secret off the command line, printed after wrangler is ready", async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pkgedge-dev-test-"));
  // An empty env file of the test's own, so a developer's .dev.vars cannot supply the secret.
  writeFileSync(join(dir, "empty.env"), "");
  const args = ["scripts/dev.mjs", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", join(dir, "state"), "--env-file", join(dir, "empty.env")];
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const exited = new Promise((r) => child.once("exit", r));
  // Region header on: npm run dev plays several PoPs (wrangler.toml's [env.dev]).
  try {
    const deadline = Date.now() + 150_000;
    while (!/Create a token:\n.*\n/.test(output)) {
      expect(child.exitCode, `npm run dev exited:\n${output}`).toBeNull();
      expect(Date.now() < deadline, `no banner in time:\n${output}`).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
    }
    const secret = /PKGEDGE_ADMIN_TOKEN=(dev-[A-Za-z0-9]+)/.exec(output)?.[1];
    expect(secret, output).toBeTruthy();
    expect(output.indexOf("Ready on"), "the banner comes after wrangler's start-up output").toBeLessThan(output.indexOf("pkgedge is ready on"));

    const health = await fetch(`http://127.0.0.1:${port}/_/health`);
    expect(health.status).toBe(200);
    const created = await fetch(`http://127.0.0.1:${port}/_/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "dev-test", scopes: ["read"] }),
    });
    expect(created.status, await created.text()).toBe(201);
    const leaking = commandLines().filter((c) => c.includes(secret!));
    expect(leaking, "the admin secret is on a command line").toEqual([]);
  } finally {
    child.kill("SIGINT");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  await expect(fetch(`http://127.0.0.1:${port}/_/health`), "wrangler stopped with npm run dev").rejects.toThrow();
});
