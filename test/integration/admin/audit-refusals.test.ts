// The audit log beyond accepted writes: failed authentications and refused writes are recorded,
// within a per-caller budget so a flood cannot flood the log; names are never mistaken for secrets.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../../shared/origin/audit-store";
import { REFUSALS_PER_CALLER } from "../../../workers/middleware/audit-refusals";
import { NpmClient } from "../../helpers/npm-client";
import { basic, OciClient } from "../../helpers/oci";
import { bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

// Limits off: these tests send more failures than the auth limit would let through.
const fetch = workerWith({ RATE_LIMIT_ENABLED: "false" });

async function entries(): Promise<AuditEntry[]> {
  const listed = await env.BLOBS.list({ prefix: "audit/", include: ["customMetadata"] });
  return listed.objects.map((o) => {
    const m = o.customMetadata as Record<string, string>;
    return { ...m, detail: m.detail ? JSON.parse(m.detail) : undefined } as unknown as AuditEntry;
  });
}
const from = (ip: string, headers: Record<string, string> = {}) => ({ ...headers, "x-forwarded-for": ip });

describe("the audit log", () => {
  it("shows a package whose name looks like a token as it is", async () => {
    const npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
    expect((await npm.publish("pke_release2024", "1.0.0")).status).toBe(201);
    const publish = (await entries()).find((e) => e.action === "npm.publish" && e.target === "pke_release2024");
    expect(publish).toBeDefined();
    expect(JSON.stringify(await entries())).not.toContain("[redacted]");
  });

  it("records a failed authentication on any route, without the secret", async () => {
    const secret = `pke_${"q".repeat(40)}`;
    expect((await fetch("/npm/-/whoami", { headers: from("192.0.2.10", bearer(secret)) })).status).toBe(401);
    expect((await fetch("/v2/", { headers: from("192.0.2.10", { authorization: basic(secret) }) })).status).toBe(401);
    const failures = (await entries()).filter((e) => e.action === "auth.failure" && e.detail?.client === "192.0.2.10");
    expect(failures.map((e) => [e.target, e.actor, e.detail?.status]).sort()).toEqual([["/npm/-/whoami", "anonymous", 401], ["/v2/", "anonymous", 401]]);
    expect(JSON.stringify(failures)).not.toContain(secret);
  });

  it("records refused writes with the caller, method and status", async () => {
    const { id, token } = await createToken({ scopes: ["read"] }, fetch);
    const reader = new NpmClient(fetch, token);
    expect((await reader.request("/npm/refused-write", { method: "PUT", headers: from("192.0.2.11", { "content-type": "application/json" }), body: "{}" })).status).toBe(403);
    const oci = new OciClient(fetch, basic(token));
    expect((await oci.request("/v2/refused/app/blobs/uploads/", { method: "POST", headers: from("192.0.2.11") })).status).toBe(403);
    const refused = (await entries()).filter((e) => e.action === "write.refused" && e.actor === `token:${id}`);
    expect(refused.map((e) => [e.target, e.detail?.method, e.detail?.status]).sort()).toEqual([["/npm/refused-write", "PUT", 403], ["/v2/refused/app/blobs/uploads/", "POST", 403]]);
    // A 401 to a write without credentials is a challenge (docker's token flow starts with one
    // on every push): not recorded.
    expect((await fetch("/v2/anon/app/blobs/uploads/", { method: "POST", headers: from("192.0.2.12") })).status).toBe(401);
    expect((await entries()).filter((e) => e.detail?.client === "192.0.2.12")).toEqual([]);
  });

  it("keeps at most its budget of refusals per caller, and says how many it left out", async () => {
    const flood = Array.from({ length: 40 }, (_, i) => fetch("/npm/-/whoami", { headers: from("192.0.2.99", bearer(`pke_${String(i).padStart(40, "x")}`)) }));
    for (const res of await Promise.all(flood)) expect(res.status).toBe(401);
    const recorded = (await entries()).filter((e) => e.detail?.client === "192.0.2.99");
    expect(recorded).toHaveLength(REFUSALS_PER_CALLER);
    const metrics = await (await fetch("/_/metrics", { headers: bearer("test-admin-secret") })).text();
    expect(metrics).toMatch(/pkgedge_audit_refusals_dropped_total\{region="us-east"\} (\d+)/);
    expect(Number(/pkgedge_audit_refusals_dropped_total\{region="us-east"\} (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(30);
  });
});
