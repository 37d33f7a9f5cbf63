// /_/audit: every write leaves who/what/when/where, newest first, admins only, never a secret;
// and a broken audit store never fails the write it records.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../../workers/app";
import type { AuditEntry } from "../../../shared/origin/audit-store";
import { NpmClient } from "../../helpers/npm-client";
import { basic, bearerToken, OciClient, randomImage } from "../../helpers/oci";
import { ADMIN_SECRET, bearer, createToken, revokeToken } from "../../helpers/tokens";
import { BASE, workerWith } from "../../helpers/worker";

// Waits for waitUntil work, so the audit entry of a request is in R2 when it returns.
const registry = workerWith({});
const npm = new NpmClient(registry);

interface Page {
  entries: AuditEntry[];
  cursor?: string;
}

async function auditPage(query = "", secret = ADMIN_SECRET): Promise<Page> {
  const res = await registry(`/_/audit${query}`, { headers: bearer(secret) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Page>();
}

describe("the audit log", () => {
  let publisherId: string;
  let publisherSecret: string;
  beforeAll(async () => {
    const created = await createToken({ name: "ci-publisher", scopes: ["publish"] }, registry);
    publisherId = created.id;
    publisherSecret = created.token;
    const as = npm.as(publisherSecret);
    expect((await as.publish("audited-pkg", "1.0.0")).status).toBe(201);
    expect((await as.publish("audited-pkg", "1.1.0")).status).toBe(201);
    expect((await as.setDistTag("audited-pkg", "beta", "1.1.0")).status).toBe(201);
    expect((await as.deleteDistTag("audited-pkg", "beta")).status).toBe(200);
    // Refused writes appear as refusals, never as the write: a republished version, a bad name.
    expect((await as.publish("audited-pkg", "1.0.0")).status).toBe(409);
    expect((await as.publish("Bad Name", "1.0.0")).status).toBe(400);
    await revokeToken(publisherId, registry);
  });

  it("records who, what, when and where for each accepted write, newest first", async () => {
    const { entries } = await auditPage("?limit=100");
    const mine = entries.filter((e) => e.target === "audited-pkg" || e.target === publisherId);
    expect(mine.map((e) => e.action)).toEqual(["token.revoke", "npm.dist-tag.rm", "npm.dist-tag.add", "npm.publish", "npm.publish", "token.create"]);
    const [revoke, , tagAdd, , firstPublish, create] = mine;
    expect(revoke).toMatchObject({ actor: "admin", actorKind: "admin", region: "us-east" });
    expect(create).toMatchObject({ actor: "admin", detail: { name: "ci-publisher", scopes: ["publish"] } });
    expect(firstPublish).toMatchObject({ actor: `token:${publisherId}`, actorKind: "token", actorName: "ci-publisher", detail: { versions: ["1.0.0"] } });
    expect(tagAdd!.detail).toEqual({ tag: "beta", version: "1.1.0" });
    const times = mine.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(Date.now() - times[0]!).toBeLessThan(60_000);
  });

  it("never stores a secret", async () => {
    const stored = await env.BLOBS.list({ prefix: "audit/", include: ["customMetadata"] });
    expect(stored.objects.length).toBeGreaterThan(0);
    for (const obj of stored.objects) {
      const text = JSON.stringify(obj.customMetadata) + (await (await env.BLOBS.get(obj.key))!.text());
      expect(text).not.toContain(publisherSecret);
      expect(text).not.toContain(ADMIN_SECRET);
      expect(text).not.toMatch(/pke_[A-Za-z0-9]{8,}/);
    }
  });

  it("pages with limit and cursor without gaps or repeats", async () => {
    const all = (await auditPage("?limit=500")).entries.map((e) => e.id);
    expect(all.length).toBeGreaterThanOrEqual(6);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await auditPage(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      paged.push(...page.entries.map((e) => e.id));
      cursor = page.cursor;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it("filters by action and by actor (id or token name)", async () => {
    const publishes = (await auditPage("?action=npm.publish")).entries;
    expect(publishes.length).toBeGreaterThanOrEqual(2);
    expect(publishes.every((e) => e.action === "npm.publish")).toBe(true);
    const byId = (await auditPage(`?actor=token:${publisherId}`)).entries;
    const byName = (await auditPage("?actor=ci-publisher")).entries;
    expect(byId.map((e) => e.action)).toEqual(["write.refused", "write.refused", "npm.dist-tag.rm", "npm.dist-tag.add", "npm.publish", "npm.publish"]);
    expect(byId.slice(0, 2).map((e) => [e.target, e.detail?.status])).toEqual([["/npm/Bad Name", 400], ["/npm/audited-pkg", 409]]);
    expect(byName).toEqual(byId);
  });

  it("refuses bad parameters with a 400", async () => {
    for (const q of ["?limit=0", "?limit=501", "?limit=abc", "?cursor=not-a-cursor"]) {
      const res = await registry(`/_/audit${q}`, { headers: bearer(ADMIN_SECRET) });
      expect([res.status, await res.json()]).toEqual([400, { error: expect.any(String) }]);
    }
  });

  it("is for admins only", async () => {
    expect((await registry("/_/audit")).status).toBe(401);
    expect((await registry("/_/audit", { headers: bearer(`pke_${"x".repeat(40)}`) })).status).toBe(401);
    const reader = await createToken({ scopes: ["read", "publish"] }, registry);
    const res = await registry("/_/audit", { headers: bearer(reader.token) });
    expect([res.status, await res.json()]).toEqual([403, { error: "admin API needs the admin scope" }]);
    const adminToken = await createToken({ scopes: ["admin"] }, registry);
    expect((await registry("/_/audit?limit=1", { headers: bearer(adminToken.token) })).status).toBe(200);
  });
});

describe("OCI writes in the audit log", () => {
  it("names the token behind a Basic login or a /v2/token grant, never the secret or the grant", async () => {
    const { id, token } = await createToken({ name: "oci-pusher", scopes: ["publish"] }, registry);
    const grant = await bearerToken(["repository:audited/app:pull,push,delete"], basic(token), registry);
    const viaBasic = new OciClient(registry, basic(token));
    const viaGrant = viaBasic.as(`Bearer ${grant}`);
    const image = await randomImage();
    await viaBasic.pushImage("audited/app", "v1", image);
    await viaGrant.pushManifest("audited/app", "v2", image.manifest);
    expect((await viaGrant.deleteManifest("audited/app", "v2")).status).toBe(202);
    expect((await viaGrant.deleteManifest("audited/app", image.manifest.digest)).status).toBe(202);
    expect((await viaBasic.deleteBlob("audited/app", image.layers[0]!.digest)).status).toBe(202);

    const all = (await auditPage(`?actor=token:${id}`)).entries;
    // Every blob push is recorded: the config and each layer.
    const pushed = all.filter((e) => e.action === "oci.blob.push").map((e) => e.target).sort();
    expect(pushed).toEqual([image.config, ...image.layers].map((b) => `audited/app@${b.digest}`).sort());
    const entries = all.filter((e) => e.action !== "oci.blob.push");
    expect(entries.map((e) => [e.action, e.target])).toEqual([
      ["oci.blob.delete", `audited/app@${image.layers[0]!.digest}`],
      ["oci.manifest.delete", `audited/app@${image.manifest.digest}`],
      ["oci.tag.delete", "audited/app:v2"],
      ["oci.manifest.push", `audited/app@${image.manifest.digest}`],
      ["oci.manifest.push", `audited/app@${image.manifest.digest}`],
    ]);
    expect(entries.every((e) => e.actorKind === "token" && e.actorName === "oci-pusher")).toBe(true);
    const stored = JSON.stringify(entries);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(grant);
  });
});

describe("when the audit store fails", () => {
  // The real bucket, except that every audit put rejects (an R2 outage limited to audit/).
  const failingAudit = new Proxy(env.BLOBS, {
    get(target, prop) {
      if (prop === "put") {
        return (key: string, ...rest: unknown[]) =>
          key.startsWith("audit/") ? Promise.reject(new Error("injected audit outage")) : (target.put as (...a: unknown[]) => unknown).call(target, key, ...rest);
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const broken = { ...env, BLOBS: failingAudit } as Cloudflare.Env;
  const send = async (path: string, init?: RequestInit) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, init), broken, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  };

  it("still accepts the write and serves it", async () => {
    const before = (await env.BLOBS.list({ prefix: "audit/" })).objects.length;
    const created = await send("/_/tokens", { method: "POST", headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" }, body: JSON.stringify({ name: "outage", scopes: ["publish"] }) });
    expect(created.status).toBe(201);
    const { token } = await created.json<{ token: string }>();
    const client = new NpmClient(send, token);
    expect((await client.publish("written-during-outage", "1.0.0")).status).toBe(201);
    expect((await client.getPackument("written-during-outage")).status).toBe(200);
    expect((await env.BLOBS.list({ prefix: "audit/" })).objects.length).toBe(before);
  });
});
