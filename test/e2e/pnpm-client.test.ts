// pnpm (installed on first use, see ensureClient) against a live pkgedge: it resolves through the
// abbreviated packuments and lays out node_modules its own way, so it is a second opinion on npm.
import { afterAll, beforeAll, expect, test } from "vitest";
import { CHAIN, CHAIN_OUTPUT, describeRun, ensureClient, publishAll, startRegistry, type Registry } from "./helpers";

let registry: Registry;

beforeAll(async () => {
  // Fetch pnpm while wrangler dev starts.
  const [started] = await Promise.all([startRegistry(), ensureClient("pnpm")]);
  registry = started;
  const token = await registry.createToken({ name: "e2e-pnpm-publisher", scopes: ["read", "publish"] });
  await publishAll(registry, token, CHAIN);
});
afterAll(() => registry?.stop());

test("pnpm install a in a clean project with its own store, then require('a')", async () => {
  const client = registry.sandbox();
  const install = await client.pnpm(["install", "a"]);
  expect(install.code, describeRun("pnpm install a", install)).toBe(0);
  expect(install.stdout).toMatch(/\+ a 1\.0\.0/);

  const program = await client.node("console.log(require('a'))");
  expect(program.code, describeRun("node", program)).toBe(0);
  expect(program.stdout.trim()).toBe(CHAIN_OUTPUT);
});
