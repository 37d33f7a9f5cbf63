// The pkgedge CLI run as a user runs it (node scripts/pkgedge.mjs, stdout a pipe) against a live
// wrangler dev: help on every command, tokens, seed, warm, purge, audit, stats, and one-line
// errors (no stack trace) for an unreachable server, a wrong secret and bad arguments.
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { summarize, type StatsSample } from "../../scripts/cli/stats.mjs";
import { cleanEnv, projectRoot } from "../../scripts/lib/dev-server.mjs";
import { ABBREVIATED_ACCEPT, describeRun, get, run, startRegistry, type Registry, type RunResult } from "./helpers";

const CLI = join(projectRoot, "scripts", "pkgedge.mjs");
const COMMANDS = ["token create", "token list", "token revoke", "pypi yank", "pypi unyank", "pypi status", "pypi delete", "purge", "warm", "audit", "stats", "seed"];
const DEMO = ["@pkgedge-demo/colors", "@pkgedge-demo/format", "@pkgedge-demo/logger", "@pkgedge-demo/app"];

let registry: Registry;

/** The CLI with the server and secret from the environment (as a user who exported them). */
function cli(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const base: Record<string, string> = registry ? { PKGEDGE_URL: registry.url, PKGEDGE_TOKEN: registry.adminToken } : {};
  return run(process.execPath, [CLI, ...args], { cwd: projectRoot, env: cleanEnv({ ...base, ...env }), timeoutMs: 60_000 });
}

/** Exit 0 and nothing on stderr. */
function ok(r: RunResult, what: string): RunResult {
  expect(r.code, describeRun(what, r)).toBe(0);
  expect(r.stderr, describeRun(what, r)).toBe("");
  return r;
}

/** A one-line error on stderr, exit 1, no stack trace. */
function oneLineError(r: RunResult, pattern: RegExp, what: string): void {
  expect(r.code, describeRun(what, r)).toBe(1);
  expect(r.stderr.trim().split("\n"), describeRun(what, r)).toHaveLength(1);
  expect(r.stderr, describeRun(what, r)).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  registry = await startRegistry();
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

describe("help", () => {
  test("pkgedge --help lists every command", async () => {
    const r = ok(await cli(["--help"]), "--help");
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c}`);
    expect(r.stdout).toContain("--url <url>");
  });

  test.each(COMMANDS)("pkgedge %s --help shows its usage and options", async (command) => {
    const r = ok(await cli([...command.split(" "), "--help"]), `${command} --help`);
    expect(r.stdout).toMatch(new RegExp(`^Usage: pkgedge ${command}`));
    expect(r.stdout).toContain("--token <secret>");
    expect(r.stdout).toContain("Examples:");
  });
});

describe("tokens", () => {
  test("create, list (an expired one marked) and revoke", async () => {
    const created = ok(await cli(["token", "create", "--name", "cli-ci", "--scopes", "read,publish", "--packages", "@acme/*"]), "token create");
    const [, id] = created.stdout.match(/^token (\S+) \(cli-ci: read,publish\)/) ?? [];
    expect(id, created.stdout).toBeTruthy();
    const secret = created.stdout.split("\n")[1]!;
    expect(created.stdout).toContain(`npm config set //127.0.0.1:${registry.port}/npm/:_authToken ${secret}`);

    ok(await cli(["token", "create", "--name", "cli-short", "--expires-in", "1", "--json"]), "token create --expires-in 1");
    await new Promise((r) => setTimeout(r, 1500));
    const listed = ok(await cli(["token", "list"]), "token list").stdout;
    expect(listed).toMatch(/^ID\s+NAME\s+SCOPES\s+PACKAGES\s+EXPIRES/);
    expect(listed).toMatch(new RegExp(`${id}\\s+cli-ci\\s+read,publish\\s+@acme/\\*\\s+never`));
    expect(listed).toMatch(/cli-short\s+read\s+\*\s+EXPIRED \d{4}-/);

    expect(ok(await cli(["token", "revoke", id!]), "token revoke").stdout).toBe(`revoked ${id}\n`);
    expect(ok(await cli(["token", "list"]), "token list").stdout).not.toContain(id!);
    oneLineError(await cli(["token", "revoke", id!]), /404 no token with that id/, "revoke twice");
  });

  test("--url and --token flags win over the environment", async () => {
    const r = await cli(["token", "list", "--url", registry.url, "--token", registry.adminToken], { PKGEDGE_URL: "http://127.0.0.1:1", PKGEDGE_TOKEN: "wrong" });
    ok(r, "token list with flags");
  });

  test("bad token arguments are refused before any request", async () => {
    oneLineError(await cli(["token", "create", "--name", "has space"]), /--name must be 1-64/, "bad name");
    oneLineError(await cli(["token", "create", "--name", "x", "--scopes", "read,root"]), /--scopes takes read, publish, admin, not "root"/, "bad scope");
    oneLineError(await cli(["token", "create", "--name", "x", "--expires-in", "soon"]), /--expires-in must be a whole number/, "bad expiry");
    oneLineError(await cli(["token", "revoke"]), /token revoke needs the token id \(see "pkgedge token revoke --help"\)/, "no id");
    oneLineError(await cli(["token"]), /token needs a subcommand: create, list, revoke/, "no subcommand");
  });
});

describe("seed, warm, purge, audit, stats", () => {
  test("seed publishes the demo tree and image, then skips them", async () => {
    const first = ok(await cli(["seed"]), "seed");
    for (const name of DEMO) expect(first.stdout).toContain(`npm ${name}@1.0.0  published`);
    expect(first.stdout).toMatch(/oci pkgedge-demo\/hello layer sha256:\S+ {2}pushed/);
    expect(first.stdout).toMatch(/oci pkgedge-demo\/hello:1.0.0 manifest sha256:\S+ {2}pushed/);
    for (const project of ["pkgedge-demo-greeting", "pkgedge-demo-hello"]) {
      expect(first.stdout).toMatch(new RegExp(`pypi ${project} 1\\.0\\.0  uploaded`));
      const page = await get(`${registry.url}/pypi/simple/${project}/`, { accept: "application/vnd.pypi.simple.v1+json" });
      const files = ((await page.json()) as { files: Array<{ url: string; "core-metadata": unknown }> }).files;
      expect(files).toHaveLength(1);
      expect(files[0]!["core-metadata"]).not.toBe(false);
      expect((await fetch(`${registry.url}${files[0]!.url}`)).status).toBe(200);
    }

    for (const name of DEMO) {
      const res = await get(`${registry.npmUrl}${name.replace("/", "%2f")}`, { accept: ABBREVIATED_ACCEPT });
      expect(res.status, name).toBe(200);
      const doc = (await res.json()) as { "dist-tags": { latest: string }; versions: Record<string, { dist: { tarball: string } }> };
      expect(doc["dist-tags"].latest).toBe("1.0.0");
      expect((await fetch(doc.versions["1.0.0"]!.dist.tarball)).status).toBe(200);
    }
    // What a user's npm sees: the tree's dependencies, as published.
    const view = await registry.npm(["view", "@pkgedge-demo/logger", "dependencies", "--json"]);
    expect(view.code, describeRun("npm view", view)).toBe(0);
    expect(JSON.parse(view.stdout)).toEqual({ "@pkgedge-demo/colors": "^1.0.0", "@pkgedge-demo/format": "^1.0.0" });
    const auth = `Basic ${Buffer.from(`x:${registry.adminToken}`).toString("base64")}`;
    const manifest = await fetch(`${registry.url}/v2/pkgedge-demo/hello/manifests/1.0.0`, { headers: { authorization: auth, accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(manifest.status).toBe(200);
    const layers = ((await manifest.json()) as { layers: Array<{ digest: string }> }).layers;
    expect((await fetch(`${registry.url}/v2/pkgedge-demo/hello/blobs/${layers[0]!.digest}`, { headers: { authorization: auth } })).status).toBe(200);

    const again = ok(await cli(["seed"]), "seed again");
    expect(again.stdout).not.toMatch(/published|pushed|uploaded/);
    expect(again.stdout).toContain("seeded");
    expect(again.stdout).toContain("0 object(s) new");
  });

  test("warm prints plain progress lines when stdout is not a terminal", async () => {
    for (const name of DEMO) expect((await get(`${registry.npmUrl}${name.replace("/", "%2f")}`, { region: "us-east" })).status).toBe(200);
    for (const args of [[], ["--no-progress"]]) {
      const r = ok(await cli(["warm", "--region", "eu-west", "--from", "us-east", ...args]), `warm ${args.join(" ")}`);
      expect(r.stdout).toMatch(/^warm eu-west: \d+\/\d+ \(warmed \d+, failed 0\)$/m);
      expect(r.stdout).toMatch(/^warmed [1-9]\d* of [1-9]\d* in eu-west, 0 failed$/m);
      expect(r.stdout).not.toContain("\r");
    }
    oneLineError(await cli(["warm", "--region", "mars", "--from", "us-east"]), /400 unknown region mars/, "unknown region");
    oneLineError(await cli(["warm", "--region", "eu-west"]), /either --from <region> or --key/, "nothing to warm");
  });

  test("purge by key and prefix", async () => {
    const r = ok(await cli(["purge", "--key", "npm:packument:@pkgedge-demo/app", "--prefix", "npm:tarball:@pkgedge-demo/", "--soft"]), "purge");
    expect(r.stdout).toMatch(/^purge \S+ \(soft\) accepted: npm:packument:@pkgedge-demo\/app, prefix npm:tarball:@pkgedge-demo\//);
    oneLineError(await cli(["purge"]), /purge needs --key, --tag or --prefix/, "empty purge");
  });

  test("audit filters by action and pages", async () => {
    const r = ok(await cli(["audit", "--action", "purge"]), "audit --action purge");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+REGION$/);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\d{4}-\S+\s+admin\s+purge\s/);
    const paged = ok(await cli(["audit", "--limit", "1"]), "audit --limit 1");
    const [, cursor] = paged.stdout.match(/^more: pkgedge audit --cursor (\S+) --limit 1$/m) ?? [];
    expect(cursor, paged.stdout).toBeTruthy();
    const next = ok(await cli(["audit", "--limit", "1", "--cursor", cursor!]), "audit --cursor").stdout;
    expect(next.split("\n")[1]).not.toBe(paged.stdout.split("\n")[1]);
    const all = ok(await cli(["audit", "--limit", "2", "--all", "--json"]), "audit --all").stdout;
    expect((JSON.parse(all) as { entries: unknown[] }).entries.length).toBeGreaterThan(5);
  });

  test("stats --once prints a table per region and tier", async () => {
    for (const name of DEMO) expect((await get(`${registry.npmUrl}${name.replace("/", "%2f")}`, { region: "ap-south" })).status).toBe(200);
    const r = ok(await cli(["stats", "--once", "--interval", "1"]), "stats --once");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^REGION\s+TIER\s+REQUESTS\s+REQ\/S\s+HIT%\s+P50 ms\s+P95 ms\s+P99 ms$/);
    for (const region of ["us-east", "eu-west", "ap-south"]) expect(r.stdout).toMatch(new RegExp(`^${region}\\s+all\\s+\\d+`, "m"));
    // The packument reads above went through the tiers: counted, with latencies.
    for (const region of ["us-east", "ap-south"]) expect(r.stdout).toMatch(new RegExp(`^${region}\\s+all\\s+[1-9]\\d*\\s+\\d+\\.\\d\\s+\\d+\\.\\d\\s+-`, "m"));
    expect(r.stdout).toMatch(/^ap-south\s+(L1-HIT|L2-HIT|MISS)\s+[1-9]\d*\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d/m);
  });
});

test("stats computes requests/s and the interval's latency from two real samples", async () => {
  const sample = async (): Promise<StatsSample> => {
    const res = await fetch(`${registry.url}/_/metrics?format=json`, { headers: { authorization: `Bearer ${registry.adminToken}` } });
    expect(res.status).toBe(200);
    return { at: Date.now(), m: (await res.json()) as StatsSample["m"] };
  };
  const before = await sample();
  for (let i = 0; i < 10; i++) expect((await get(`${registry.npmUrl}@pkgedge-demo%2fcolors`, { region: "eu-west" })).status).toBe(200);
  const after = await sample();
  const rows = summarize({ ...after, at: before.at + 2000 }, before);
  const all = rows.find((r) => r.region === "eu-west" && r.tier === "all")!;
  expect(all.perSecond).toBe(5);
  expect(all.hitRatio).toBeGreaterThan(0.5);
  const tiers = rows.filter((r) => r.region === "eu-west" && r.tier !== "all");
  expect(tiers.reduce((n, r) => n + (r.perSecond ?? 0), 0)).toBe(5);
  for (const r of tiers.filter((t) => (t.perSecond ?? 0) > 0)) expect(r.p50).toBeGreaterThan(0);
});

describe("on a terminal", () => {
  /** The CLI under `script`, so its stdout is a pseudo-terminal. */
  function onTty(command: string): Promise<RunResult> {
    return run("script", ["-qec", command, "/dev/null"], { cwd: projectRoot, env: cleanEnv({ PKGEDGE_URL: registry.url, PKGEDGE_TOKEN: registry.adminToken }), timeoutMs: 60_000 });
  }

  test("warm draws a progress bar in place; --no-progress prints lines", async () => {
    const bar = await onTty(`${process.execPath} ${CLI} warm --region ap-south --from us-east`);
    expect(bar.code, describeRun("warm on a tty", bar)).toBe(0);
    expect(bar.stdout).toMatch(/\r\[#+\.*\] \d+\/\d+ {2}warmed \d+ {2}failed 0/);
    expect(bar.stdout).toMatch(/\r\[#{30}\] (\d+)\/\1 /);
    expect(bar.stdout).not.toContain("warm ap-south:");
    const plain = await onTty(`${process.execPath} ${CLI} warm --region ap-south --from us-east --no-progress`);
    expect(plain.code, describeRun("warm --no-progress on a tty", plain)).toBe(0);
    expect(plain.stdout).toMatch(/warm ap-south: \d+\/\d+ \(warmed \d+, failed 0\)/);
    expect(plain.stdout).not.toContain("\r[");
  });

  test("stats redraws its table until interrupted", async () => {
    const r = await onTty(`timeout --preserve-status -s INT 4 ${process.execPath} ${CLI} stats --interval 1`);
    expect(r.code, describeRun("stats on a tty", r)).toBe(0);
    const frames = r.stdout.split("\x1b[H\x1b[2J").slice(1);
    expect(frames.length, r.stdout).toBeGreaterThanOrEqual(2);
    for (const frame of frames) expect(frame).toMatch(/REGION\s+TIER\s+REQUESTS/);
    expect(r.stdout).toContain("\x1b[?25h");
  });
});

describe("errors are one line", () => {
  test("an unreachable server", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    oneLineError(await cli(["token", "list", "--url", url]), new RegExp(`^pkgedge: cannot reach ${url}: connection refused$`, "m"), "closed port");
  });

  test("a wrong secret", async () => {
    oneLineError(await cli(["token", "list", "--token", "not-the-secret"]), /^pkgedge: the token was refused: .+ \(401\)$/m, "wrong secret");
    oneLineError(await cli(["stats", "--once", "--token", "not-the-secret"]), /the token was refused/, "stats wrong secret");
  });

  test("bad arguments point to --help", async () => {
    oneLineError(await cli(["token", "list", "--bogus"]), /^pkgedge: Unknown option '--bogus' \(see "pkgedge token list --help"\)$/m, "unknown flag");
    oneLineError(await cli(["token", "create", "--name"]), /argument missing \(see "pkgedge token create --help"\)/, "missing value");
    oneLineError(await cli(["audit", "--url", "not a url"]), /^pkgedge: malformed --url "not a url"/m, "malformed url");
    oneLineError(await cli(["audit", "--url", "ftp://example.test"]), /only http and https/, "ftp url");
    oneLineError(await cli(["frobnicate"]), /unknown command "frobnicate" \(see "pkgedge --help"\)/, "unknown command");
    oneLineError(await cli([]), /no command given/, "no command");
  });
});
