// Nothing secret in logs: every console call made while tokens, the admin secret and OCI grants
// flow through successes and failures (bad credentials, bad bodies, a failing audit store) is
// captured, and none of them contains a secret; each is one JSON object with level and msg.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../workers/app";
import { publishBody } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { basic, bearerToken, OciClient, randomImage } from "../../helpers/oci";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { BASE, workerWith, type Fetch } from "../../helpers/worker";

const logged: string[] = [];
const text = (v: unknown): string => (v instanceof Error ? `${v.name}: ${v.message}\n${v.stack ?? ""}\n${text(v.cause)}` : typeof v === "string" ? v : JSON.stringify(v) ?? String(v));

beforeEach(() => {
  logged.length = 0;
  for (const level of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(text).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

/** The app with an R2 bucket whose audit puts fail, so the audit error path logs. */
function withFailingAudit(): Fetch {
  const bucket = new Proxy(env.BLOBS, {
    get(target, prop) {
      if (prop === "put") return (key: string, ...rest: unknown[]) => (key.startsWith("audit/") ? Promise.reject(new Error(`put ${key} failed`)) : (target.put as (...a: unknown[]) => unknown).call(target, key, ...rest));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const broken = { ...env, BLOBS: bucket } as Cloudflare.Env;
  return async (path, init) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, init), broken, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  };
}

describe("logs", () => {
  it("never contain a token, the admin secret or a grant", async () => {
    const fetch = workerWith({});
    const failing = withFailingAudit();
    const { id, token } = await createToken({ name: "logged", scopes: ["publish"] }, fetch);
    const grant = await bearerToken(["repository:logs/app:pull,push"], basic(token), fetch);
    const secrets = [token, ADMIN_SECRET, grant, grant.split(".")[2]!];

    const npm = new NpmClient(failing, token);
    // A publish whose body carries the token (a careless package.json), through a failing audit store.
    expect((await npm.putPackument("logs-pkg", { ...(await publishBody("logs-pkg", "1.0.0")), description: `token ${token}` })).status).toBe(201);
    // Refusals of every kind, with secrets in the places they travel.
    await npm.as(`${token}x`).getPackument("logs-pkg");
    await npm.putPackument("logs-pkg", `{"name": "logs-pkg", "x": "${token}"`);
    await failing("/npm/-/whoami", { headers: { authorization: `Basic ${btoa(`u:${ADMIN_SECRET}x`)}` } });
    await failing(`/npm/${token}`, { headers: bearer(token) });
    await failing("/_/tokens", { method: "POST", headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" }, body: JSON.stringify({ name: "n", scopes: ["publish"], note: token }) });
    const oci = new OciClient(failing, `Bearer ${grant}`);
    await oci.pushImage("logs/app", "v1", await randomImage());
    await oci.as(`Bearer ${grant.slice(0, -2)}xx`).getManifest("logs/app", "v1");
    // Revoked last: a grant dies with the token it was minted from.
    await failing(`/_/tokens/${id}`, { method: "DELETE", headers: bearer(ADMIN_SECRET) });
    await oci.as(basic(token)).getManifest("logs/app", "v1");
    await oci.getManifest("logs/app", "v1");

    // The failing audit store did log (the test would prove nothing if no path logged).
    expect(logged.some((l) => l.includes("audit write failed"))).toBe(true);
    for (const line of logged) {
      // Structured: one JSON object per line with its level and message (shared/log.ts).
      expect(JSON.parse(line), line).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toMatch(/pke_[A-Za-z0-9]{8,}/);
    }
  });
});
