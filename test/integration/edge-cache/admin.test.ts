// /_/purge and /_/warm as admin endpoints: the admin secret (or admin scope) is required, bodies
// are validated with a 400 {"error"}, purges are audited, and warming reports NDJSON progress
// and leaves the target region's shields holding the keys (first reads there are L2-HIT).
import { describe, expect, it } from "vitest";
import { packumentCacheKey } from "../../../workers/npm/objects";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";
import { npmPublisher, postPurge, readPackument } from "./helpers";

const fetch = workerWith({});
const admin = bearer(ADMIN_SECRET);

function postWarm(body: unknown, auth: Record<string, string> = admin): Promise<Response> {
  return fetch("/_/warm", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function expectError(res: Response, status: number, message: RegExp): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error: expect.stringMatching(message) } });
}

interface Progress {
  done: boolean;
  completed: number;
  total: number;
  warmed: number;
  failed: number;
  failures?: Array<{ key: string; reason: string }>;
}

async function progressLines(res: Response): Promise<Progress[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/x-ndjson");
  return (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as Progress);
}

describe("admin only", () => {
  for (const [path, body] of [["/_/purge", { keys: ["x"], mode: "hard" }], ["/_/warm", { region: "eu-west", from: "us-east" }]] as const) {
    it(`${path}: 401 without credentials, 403 with a publish token`, async () => {
      const send = (auth: Record<string, string>) => fetch(path, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
      await expectError(await send({}), 401, /admin/);
      const { token } = await createToken({ scopes: ["read", "publish"] });
      await expectError(await send(bearer(token)), 403, /admin/);
    });
  }
});

describe("/_/purge", () => {
  it.each([
    ["no selector", { mode: "hard" }],
    ["empty selectors", { keys: [], tags: [], mode: "soft" }],
    ["no mode", { keys: ["npm:packument:a"] }],
    ["unknown mode", { keys: ["npm:packument:a"], mode: "medium" }],
    ["keys not a list", { keys: "npm:packument:a", mode: "hard" }],
    ["empty key", { keys: [""], mode: "hard" }],
    ["control character", { tags: ["npm:a\n"], mode: "hard" }],
    ["unknown field", { keys: ["a"], mode: "hard", everything: true }],
  ])("400 for %s", async (_, body) => {
    await expectError(await postPurge(fetch, body), 400, /invalid purge/);
  });

  it("400 for a body that is not JSON", async () => {
    const res = await fetch("/_/purge", { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: "{mode:" });
    await expectError(res, 400, /JSON/);
  });

  it("answers 202 with what it purged and records it in the audit log", async () => {
    const res = await postPurge(fetch, { tags: ["npm:audited"], prefix: "npm:tarball:audited/", mode: "soft" });
    expect(res.status).toBe(202);
    const answer = await res.json<{ id: string }>();
    expect(answer).toEqual({ id: expect.any(String), mode: "soft", keys: [], tags: ["npm:audited"], prefix: "npm:tarball:audited/" });
    const log = await (await fetch("/_/audit?action=purge", { headers: admin })).json<{ entries: Array<{ action: string; actor: string; detail: { id: string } }> }>();
    expect(log.entries.some((e) => e.actor === "admin" && e.detail.id === answer.id)).toBe(true);
  });
});

describe("/_/warm", () => {
  it.each([
    ["no source", { region: "eu-west" }],
    ["both sources", { region: "eu-west", from: "us-east", keys: ["a"] }],
    ["unknown region", { region: "mars", from: "us-east" }],
    ["unknown source region", { region: "eu-west", from: "mars" }],
    ["top without from", { region: "eu-west", keys: ["a"], top: 3 }],
    ["top out of range", { region: "eu-west", from: "us-east", top: 0 }],
  ])("400 for %s", async (_, body) => {
    await expectError(await postWarm(body), 400, /invalid warm request|unknown region/);
  });

  it("warms a region from another's most requested keys, with progress, so its first reads are L2-HIT", async () => {
    const npm = await npmPublisher(fetch);
    const names = Array.from({ length: 5 }, (_, i) => `warm-top-${i}`);
    for (const name of names) {
      expect((await npm.publish(name, "1.0.0")).status).toBe(201);
      // Read in us-east (default region) a few times, so these rank at the top of its shields.
      for (let i = 0; i < 3; i++) await fetch(`/npm/${name}/-/${name}-1.0.0.tgz`).then((r) => r.arrayBuffer());
      await readPackument(fetch, name, "us-east");
    }
    const lines = await progressLines(await postWarm({ region: "ap-south", from: "us-east", top: 10 }));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ done: true, total: 10, completed: 10, warmed: 10, failed: 0, failures: [] });
    // Progress only grows, and every line before the last is a batch report.
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.completed).toBeGreaterThanOrEqual(lines[i - 1]!.completed);
    for (const l of lines.slice(0, -1)) expect(l.done).toBe(false);

    for (const name of names) {
      const tarball = await fetch(`/npm/${name}/-/${name}-1.0.0.tgz`, { headers: { "x-pkgedge-region": "ap-south" } });
      await tarball.arrayBuffer();
      expect(tarball.headers.get("x-pkgedge-cache"), name).toBe("L2-HIT");
      expect((await readPackument(fetch, name, "ap-south")).state, name).toBe("L2-HIT");
    }
  });

  it("warms explicit keys that some region has cached, and reports the ones none has", async () => {
    const npm = await npmPublisher(fetch);
    expect((await npm.publish("warm-listed", "1.0.0")).status).toBe(201);
    await readPackument(fetch, "warm-listed", "ap-south");
    const lines = await progressLines(await postWarm({ region: "eu-west", keys: [packumentCacheKey("warm-listed"), packumentCacheKey("never-cached")] }));
    expect(lines.at(-1)).toEqual({
      done: true, completed: 2, total: 2, warmed: 1, failed: 1,
      failures: [{ key: packumentCacheKey("never-cached"), reason: "not cached in any region" }],
    });
    expect((await readPackument(fetch, "warm-listed", "eu-west")).state).toBe("L2-HIT");
  });
});
