// The real npm's login, logout and token commands against a live pkgedge. `npm login` (web, npm
// 11's default) prints a login URL and waits; the test plays the person who opens it and enters
// a pkgedge token; npm then saves a new token and `npm whoami` works with it. `npm logout`
// revokes that token at the registry. `npm token create/list/revoke` manage the caller's tokens.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, startRegistry, type Registry } from "./helpers";

let registry: Registry;
let token: string;

beforeAll(async () => {
  registry = await startRegistry({ ANONYMOUS_READ: "false" });
  token = await registry.createToken({ name: "e2e-person", scopes: ["read", "publish"] });
});
afterAll(() => registry?.stop());

/** The token npm saved for the registry in the sandbox's .npmrc. */
function savedToken(npmrc: string): string | undefined {
  return /:_authToken=(\S+)/.exec(readFileSync(npmrc, "utf8"))?.[1];
}

describe("npm login (web)", () => {
  test("prints a login URL, waits for the person, then saves a new token that works", async () => {
    const client = registry.sandbox();
    const child = spawn("npm", ["login"], { cwd: client.project, env: client.env(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      const loginUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm printed no login URL:\n${output}`)), 30_000);
        const check = () => {
          const m = /(http:\/\/127\.0\.0\.1:\d+\/npm\/-\/v1\/login\/\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        child.stdout.on("data", check);
        child.stderr.on("data", check);
      });
      const page = await fetch(loginUrl, { method: "POST", body: new URLSearchParams({ secret: token, name: "e2e laptop" }) });
      expect(page.status).toBe(200);
      expect(await exited, output).toBe(0);
    } finally {
      child.kill();
    }
    const saved = savedToken(client.npmrc);
    expect(saved).toMatch(/^pke_/);
    expect(saved).not.toBe(token);
    const who = await client.npm(["whoami"]);
    expect(who.code, describeRun("npm whoami", who)).toBe(0);
    expect(who.stdout.trim()).toBe("e2e laptop");

    const out = await client.npm(["logout"]);
    expect(out.code, describeRun("npm logout", out)).toBe(0);
    expect(out.output).not.toContain(saved!);
    const revoked = await fetch(`${registry.url}/npm/-/whoami`, { headers: { authorization: `Bearer ${saved}` } });
    expect(revoked.status).toBe(401);
  });
});

describe("npm login --auth-type=legacy", () => {
  test("a wrong password gets pkgedge's own message", async () => {
    const client = registry.sandbox();
    const child = spawn("npm", ["login", "--auth-type=legacy"], { cwd: client.project, env: client.env(), stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    // npm asks for a username, then a password (read from stdin when it is not a terminal): each
    // answer is sent once its prompt is out, or npm reads an early end of input instead.
    let asked = 0;
    const answer = (d: Buffer) => {
      output += d;
      if (asked === 0 && /Username:/.test(output)) {
        asked = 1;
        child.stdin.write("someone\n");
      }
      if (asked === 1 && /Password:/.test(output)) {
        asked = 2;
        child.stdin.end("not-a-token\n");
      }
    };
    child.stdout.on("data", answer);
    child.stderr.on("data", answer);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/must be a pkgedge token/);
  });
});

describe("npm token", () => {
  test("create --read-only, list and revoke", async () => {
    const client = registry.sandbox(token);
    const created = await client.npm(["token", "create", "--packages-and-scopes-permission=read-only", "--name", "ci-reader", `--password=${token}`, "--json"]);
    expect(created.code, describeRun("npm token create", created)).toBe(0);
    const { token: secret } = JSON.parse(created.stdout) as { token: string };
    expect(secret).toMatch(/^pke_/);

    const list = await client.npm(["token", "list", "--json"]);
    expect(list.code, describeRun("npm token list", list)).toBe(0);
    // npm prints keys that look like UUIDs as *** and gives each token a short id to type instead.
    const tokens = JSON.parse(list.stdout) as Array<{ id: string; name: string; readonly: boolean }>;
    const mine = tokens.find((t) => t.name === "ci-reader");
    expect(mine?.readonly).toBe(true);

    const revoke = await client.npm(["token", "revoke", mine!.id]);
    expect(revoke.code, describeRun("npm token revoke", revoke)).toBe(0);
    expect(revoke.stdout).toMatch(/Removed 1 token/);
    expect((await fetch(`${registry.url}/npm/-/whoami`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });
});
