// Package names: npm's rules (validate-npm-package-name, new packages) hold for every write, and
// a rejected name leaves nothing in R2.
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { expectNpmError, storedKeys } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

// [what is wrong, name, the reason npm gives]. An unscoped `..` cannot be sent at all (URL
// parsing resolves the dot segment before any router sees it); `../escape` and `@acme/..` can.
const INVALID: Array<[string, string, RegExp]> = [
  ["uppercase", "LeftPad", /capital letters/],
  ["a leading dot", ".hidden", /cannot start with a period/],
  ["a leading underscore", "_private", /cannot start with an underscore/],
  ["over 214 characters", "a".repeat(215), /more than 214 characters/],
  ["a space", "left pad", /URL-friendly characters/],
  ["leading spaces", "  left-pad", /leading or trailing spaces/],
  ["a colon", "left:pad", /URL-friendly characters/],
  ["non-ASCII", "café", /URL-friendly characters/],
  ["npm's special characters", "left~pad", /special characters/],
  ["a reserved name", "node_modules", /not a valid package name/],
  ["an uppercase scope", "@Acme/pkg", /capital letters/],
  ["uppercase after the scope", "@acme/Pkg", /capital letters/],
  ["a leading dot after the scope", "@acme/.pkg", /cannot start with a period/],
  ["a scoped name over 214 characters", `@acme/${"a".repeat(209)}`, /more than 214 characters/],
  ["a space after the scope", "@acme/left pad", /URL-friendly characters/],
  ["a space in the scope", "@ac me/pkg", /URL-friendly characters/],
  ["a colon after the scope", "@acme/left:pad", /URL-friendly characters/],
];

// Names whose escaped form is an encoded-slash or dot-segment trick never reach the validator:
// the request filter (workers/middleware/request-filter.ts) refuses them first, still as npm 400s.
const FILTERED: Array<[string, string]> = [
  ["a path traversal", "../escape"],
  ["`..` after the scope", "@acme/.."],
  ["two slashes", "@acme/a/b"],
];

describe("package names", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it.each(INVALID)("refuses a name with %s (%s)", async (_what, name, reason) => {
    await expectNpmError(await npm.publish(name, "1.0.0"), 400, new RegExp(`invalid package name .*${reason.source}`));
    expect(await storedKeys(name)).toEqual([]);
    // Reads of such a name are refused the same way, so there is nothing to find either.
    await expectNpmError(await npm.getPackument(name), 400, /invalid package name/);
  });

  it.each(FILTERED)("refuses a name with %s (%s) before routing", async (_what, name) => {
    await expectNpmError(await npm.publish(name, "1.0.0"), 400, /^refused: /);
    expect(await storedKeys(name)).toEqual([]);
    await expectNpmError(await npm.getPackument(name), 400, /^refused: /);
  });

  it.each(["a.b-c_d", "@acme/left-pad", "@acme/_internal", "x".repeat(214)])("accepts %s, as npm does", async (name) => {
    expect((await npm.publish(name, "1.0.0")).status).toBe(201);
    expect((await npm.getPackument(name)).status).toBe(200);
  });
});
