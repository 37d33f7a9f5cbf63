// `npm run dev` as a newcomer runs it: the user's wrangler options win over the script's
// defaults, the made-up admin secret is on no process's command line, and the secret and the
// next command come after wrangler's start-up output. Run with `node --test scripts/dev.test.mjs`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cleanEnv, freePort, projectRoot, readWranglerArgs } from "./lib/dev-server.mjs";

test("readWranglerArgs sees options in both spellings, and --var pairs", () => {
  const a = readWranglerArgs(["--ip", "0.0.0.0", "--port=9000", "--var", "A:b:c", "--env-file", "x.env", "--persist-to", "/tmp/s"]);
  assert.equal(a.ip, "0.0.0.0");
  assert.equal(a.port, "9000");
  assert.deepEqual(a.vars, { A: "b:c" });
  assert.deepEqual(a.envFiles, ["x.env"]);
  assert.ok(a.given.has("persist-to") && !a.given.has("inspector-port"));
});

/** Every running process's command line, as `ps` would show it. */
function commandLines() {
  const out = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

test("npm run dev -- --ip 127.0.0.1 --port N: serves there, secret off the command line, printed after wrangler is ready", { timeout: 180_000 }, async () => {
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
  try {
    const deadline = Date.now() + 150_000;
    while (!/Create a token:\n.*\n/.test(output)) {
      assert.equal(child.exitCode, null, `npm run dev exited:\n${output}`);
      assert.ok(Date.now() < deadline, `no banner in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const secret = /PKGEDGE_ADMIN_TOKEN=(dev-[A-Za-z0-9]+)/.exec(output)?.[1];
    assert.ok(secret, output);
    assert.ok(output.indexOf("Ready on") < output.indexOf("pkgedge is ready on"), "the banner comes after wrangler's start-up output");

    const health = await fetch(`http://127.0.0.1:${port}/_/health`);
    assert.equal(health.status, 200);
    const created = await fetch(`http://127.0.0.1:${port}/_/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "dev-test", scopes: ["read"] }),
    });
    assert.equal(created.status, 201, await created.text());
    const leaking = commandLines().filter((c) => c.includes(secret));
    assert.deepEqual(leaking, [], "the admin secret is on a command line");
  } finally {
    child.kill("SIGINT");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/_/health`), "wrangler stopped with npm run dev");
});
