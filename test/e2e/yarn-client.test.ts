// yarn 1 (installed on first use, see ensureClient) against a live pkgedge, reading public
// packages anonymously and private ones with the token from .npmrc.
import { afterAll, beforeAll, expect, test } from "vitest";
import { CHAIN, CHAIN_OUTPUT, describeRun, ensureClient, publishAll, startRegistry, type Registry } from "./helpers";

let registry: Registry;
let token: string;

beforeAll(async () => {
  // Private reads, so yarn must send the token for every package, scoped or not.
  const [started] = await Promise.all([startRegistry({ ANONYMOUS_READ: "false" }), ensureClient("yarn")]);
  registry = started;
  token = await registry.createToken({ name: "e2e-yarn", scopes: ["read", "publish"] });
  await publishAll(registry, token, CHAIN);
});
afterAll(() => registry?.stop());

test("yarn add a with a token in a clean project, then require('a')", async () => {
  const client = registry.sandbox(token);
  const add = await client.yarn(["add", "a"]);
  expect(add.code, describeRun("yarn add a", add)).toBe(0);

  const program = await client.node("console.log(require('a'))");
  expect(program.code, describeRun("node", program)).toBe(0);
  expect(program.stdout.trim()).toBe(CHAIN_OUTPUT);
});

test("yarn add without a token is refused when reads are private", async () => {
  const client = registry.sandbox();
  const add = await client.yarn(["add", "a"]);
  expect(add.code).not.toBe(0);
  expect(add.output).toMatch(/401|Unauthorized|authentication/i);
});
