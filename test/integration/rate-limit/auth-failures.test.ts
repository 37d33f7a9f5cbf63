// Credential guessing: every failed authentication, on any route, counts against the caller's
// auth limit; once an address is out of attempts, a right guess answers 429 like a wrong one.
import { describe, expect, it } from "vitest";
import { expectNpmError } from "../../helpers/npm-expect";
import { basic, expectOciError } from "../../helpers/oci";
import { bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";
import { count } from "./helpers";

const from = (ip: string, headers: Record<string, string> = {}) => ({ ...headers, "x-forwarded-for": ip });
const guess = (i: number) => `pke_${String(i).padStart(40, "0")}`;

describe("failed authentications", () => {
  const fetch = workerWith({ RATE_LIMIT_AUTH: "10/60s" });

  it.each([
    ["npm whoami", "/npm/-/whoami", (s: string) => bearer(s)],
    ["the OCI base endpoint", "/v2/", (s: string) => ({ authorization: basic(s) })],
    ["a package read", "/npm/left-pad", (s: string) => bearer(s)],
  ])("on %s: wrong secrets meet 429 after the auth limit, and so does the right one", async (what, path, header) => {
    const ip = `198.51.100.${what.length}`;
    const { token } = await createToken({ scopes: ["read"] }, fetch);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(path, { headers: from(ip, header(guess(i))) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(count(statuses, 401)).toBe(10);
    expect(count(statuses, 429)).toBe(10);
    const right = await fetch(path, { headers: from(ip, header(token)) });
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toMatch(/^\d+$/);
    if (path.startsWith("/v2/")) await expectOciError(right, 429, "TOOMANYREQUESTS");
    else await expectNpmError(right, 429, /too many failed authentications/);
    // The admin secret, right as it is, meets the same 429 from this address.
    const admin = await fetch(path, { headers: from(ip, header("test-admin-secret")) });
    expect(admin.status).toBe(429);
    await admin.arrayBuffer();
    // Another address with the same token is not affected, nor is anonymous reading from this one.
    expect((await fetch(path === "/npm/left-pad" ? "/npm/-/whoami" : path, { headers: from("203.0.113.9", header(token)) })).status).toBe(200);
    expect((await fetch("/npm/-/ping", { headers: from(ip) })).status).toBe(200);
  });
});
