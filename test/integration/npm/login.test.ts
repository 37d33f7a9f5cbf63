// npm login, logout and token, as npm 11 drives them: the web login hands npm a token once the
// person proved who they are on the login page (and never to someone holding only the login
// URL); the legacy login trades a pkgedge token for a new one; logout revokes the token npm
// holds; `npm token` lists, creates and revokes only the caller's own tokens, never with more
// rights than the caller has.
import { describe, expect, it } from "vitest";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({ ANONYMOUS_READ: "false" });

async function whoami(token: string): Promise<number> {
  return (await fetch("/npm/-/whoami", { headers: bearer(token) })).status;
}

async function startWebLogin(): Promise<{ loginUrl: string; doneUrl: string }> {
  const res = await fetch("/npm/-/v1/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hostname: "laptop" }) });
  expect(res.status).toBe(200);
  return res.json();
}

const path = (url: string) => new URL(url).pathname;
const submit = (loginUrl: string, secret: string, name = "my laptop") =>
  fetch(path(loginUrl), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ secret, name }) });

describe("npm web login", () => {
  it("npm polls 202 until the person approves with a token, then gets a new token once", async () => {
    const { token: mine } = await createToken({ scopes: ["read", "publish"], packages: ["@acme/*"] });
    const { loginUrl, doneUrl } = await startWebLogin();
    const pending = await fetch(path(doneUrl));
    expect([pending.status, pending.headers.get("retry-after")]).toEqual([202, "1"]);

    const page = await fetch(path(loginUrl));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await page.text()).toContain('name="secret"');

    expect((await submit(loginUrl, mine)).status).toBe(200);
    const done = await fetch(path(doneUrl));
    expect(done.status).toBe(200);
    const { token } = await done.json<{ token: string }>();
    expect(token).toMatch(/^pke_/);
    expect(token).not.toBe(mine);
    expect(await whoami(token)).toBe(200);
    // Collected once: the done URL is spent.
    expect((await fetch(path(doneUrl))).status).toBe(404);

    // The new token has the old one's names, no more.
    const listed = await (await fetch("/_/tokens", { headers: bearer(ADMIN_SECRET) })).json<{ tokens: Array<{ name: string; packages?: string[]; scopes: string[] }> }>();
    expect(listed.tokens.find((t) => t.name === "my laptop")).toMatchObject({ packages: ["@acme/*"], scopes: ["read", "publish"] });
  });

  it("refuses a wrong secret on the page, and the login URL alone collects nothing", async () => {
    const { loginUrl, doneUrl } = await startWebLogin();
    const refused = await submit(loginUrl, "pke_NotARealTokenNotARealTokenNotARealToken");
    expect(refused.status).toBe(401);
    expect((await fetch(path(doneUrl))).status).toBe(202);
    const forged = doneUrl.replace(/\/[^/]+$/, "/guessed-secret-guessed-secret-guessed");
    expect((await fetch(path(forged))).status).toBe(404);
  });

  it("the admin secret approves a read and publish token (not an admin one)", async () => {
    const { loginUrl, doneUrl } = await startWebLogin();
    expect((await submit(loginUrl, ADMIN_SECRET, "admin laptop")).status).toBe(200);
    const { token } = await (await fetch(path(doneUrl))).json<{ token: string }>();
    expect(await whoami(token)).toBe(200);
    expect((await fetch("/_/tokens", { headers: bearer(token) })).status).toBe(403);
  });

  it("an unknown login page answers 404 and asks to run npm login again", async () => {
    const res = await fetch("/npm/-/v1/login/AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("npm login");
  });
});

describe("npm login --auth-type=legacy and npm logout", () => {
  const legacy = (password: string) =>
    fetch("/npm/-/user/org.couchdb.user:someone", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ _id: "org.couchdb.user:someone", name: "someone", password, type: "user", roles: [] }) });

  it("trades a pkgedge token for a new one; logout revokes only the new one", async () => {
    const { token: mine } = await createToken({ scopes: ["read"] });
    const res = await legacy(mine);
    expect(res.status).toBe(201);
    const { token } = await res.json<{ token: string }>();
    expect(token).not.toBe(mine);
    expect(await whoami(token)).toBe(200);

    const out = await fetch(`/npm/-/user/token/${encodeURIComponent(token)}`, { method: "DELETE", headers: bearer(token) });
    expect(out.status).toBe(200);
    expect(await out.text()).not.toContain(token);
    expect(await whoami(token)).toBe(401);
    expect(await whoami(mine)).toBe(200);
  });

  it("a wrong password gets a 401 whose message says what to use, with no WWW-Authenticate", async () => {
    const res = await legacy("hunter2");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBeNull();
    expect((await res.json<{ error: string }>()).error).toMatch(/pkgedge token/);
  });
});

describe("npm token list, create and revoke", () => {
  it("a token sees itself and what it created; creates read-only and narrower tokens; revokes them", async () => {
    const { token: mine } = await createToken({ name: "creator", scopes: ["read", "publish"], packages: ["@team/*"] });
    const { token: other } = await createToken({ name: "someone-else", scopes: ["read"] });
    const create = (body: Record<string, unknown>) =>
      fetch("/npm/-/npm/v1/tokens", { method: "POST", headers: { ...bearer(mine), "content-type": "application/json" }, body: JSON.stringify({ password: mine, ...body }) });

    const readonly = await create({ name: "ci", readonly: true });
    expect(readonly.status).toBe(200);
    const created = await readonly.json<{ token: string; key: string; readonly: boolean }>();
    expect(created.readonly).toBe(true);
    expect((await fetch("/npm/-/whoami", { headers: bearer(created.token) })).status).toBe(200);

    expect((await create({ packages: ["@other/*"] })).status).toBe(403);
    expect((await create({ packages: ["@team/app"] })).status).toBe(200);
    expect((await create({ cidr_whitelist: ["10.0.0.0/8"] })).status).toBe(400);
    expect((await fetch("/npm/-/npm/v1/tokens", { method: "POST", headers: { ...bearer(mine), "content-type": "application/json" }, body: JSON.stringify({ password: "wrong" }) })).status).toBe(401);

    const list = await (await fetch("/npm/-/npm/v1/tokens", { headers: bearer(mine) })).json<{ objects: Array<{ key: string; name: string }>; total: number }>();
    expect(list.objects.map((t) => t.name).sort()).toEqual(["ci", "creator", "npm token"]);
    expect(JSON.stringify(list)).not.toContain(mine.slice(4));

    expect((await fetch(`/npm/-/npm/v1/tokens/token/${created.key}`, { method: "DELETE", headers: bearer(other) })).status).toBe(404);
    expect((await fetch(`/npm/-/npm/v1/tokens/token/${created.key}`, { method: "DELETE", headers: bearer(mine) })).status).toBe(204);
    expect((await fetch("/npm/-/whoami", { headers: bearer(created.token) })).status).toBe(401);
  });

  it("needs a logged-in caller", async () => {
    expect((await fetch("/npm/-/npm/v1/tokens")).status).toBe(401);
  });
});

describe("commands pkgedge does not serve", () => {
  it("npm owner and npm access get one line saying tokens decide who may publish", async () => {
    for (const url of ["/npm/-/user/org.couchdb.user:someone", "/npm/-/package/left-pad/collaborators", "/npm/-/package/@acme%2fpad/access", "/npm/-/org/acme/package"]) {
      const res = await fetch(url, { headers: bearer(ADMIN_SECRET) });
      expect(res.status, url).toBe(404);
      expect((await res.json<{ error: string }>()).error).toMatch(/per token/);
    }
  });
});
