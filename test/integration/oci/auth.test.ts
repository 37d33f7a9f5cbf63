// Auth as OCI clients meet it: the end-1 challenge, the token endpoint, bearer token expiry and
// tampering, insufficient scope, DENIED for scoped pkgedge tokens (anonymous pull: anonymous-pull.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN, API_VERSION, basic, bearerToken, CHALLENGE, clientWithToken, content, expectNoBlob, expectNothingStored,
  expectOciError, OciClient, publisher, randomImage, tokenRequest, type Image, type TokenAnswer,
} from "../../helpers/oci";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

let oci: OciClient;
const anonymous = new OciClient();
let image: Image;
let flowImage: Image;
const blobForFlow = { bytes: new TextEncoder().encode("docker token flow"), digest: "", size: 17 };
beforeAll(async () => {
  oci = await publisher();
  image = await randomImage();
  await oci.pushImage("auth/app", "v1", image);
  flowImage = await randomImage();
  await oci.pushImage("auth/flow", "gone", flowImage);
  blobForFlow.digest = (await content(blobForFlow.bytes)).digest;
});

const bearer = (token: string) => `Bearer ${token}`;

/** The token with one character in its middle replaced (a full base64 digit, never padding bits). */
function tamper(token: string): string {
  const i = Math.floor(token.length / 2);
  const replacement = token[i] === "A" ? "B" : "A";
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

describe("end-1 GET /v2/", () => {
  it("answers 401 UNAUTHORIZED with the Bearer challenge to a caller without credentials", async () => {
    const res = await anonymous.request("/v2/");
    expect(res.headers.get("www-authenticate")).toBe(CHALLENGE);
    await expectOciError(res, 401, "UNAUTHORIZED");
  });

  it.each([
    ["Basic with a pkgedge token", async () => basic((await createToken({ scopes: ["read"] })).token)],
    ["Basic with the admin secret", async () => ADMIN],
    ["Bearer with a pkgedge token", async () => bearer((await createToken({ scopes: ["read"] })).token)],
    ["Bearer with a token from /v2/token", async () => bearer(await bearerToken(["repository:auth/app:pull"]))],
  ])("answers 200 {} to %s", async (_what, authorization) => {
    const res = await anonymous.as(await authorization()).request("/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
    expect(await res.json()).toEqual({});
  });

  it("answers 401 to credentials that do not verify", async () => {
    await expectOciError(await anonymous.as(basic("pke_not-a-real-token")).request("/v2/"), 401, "UNAUTHORIZED");
    await expectOciError(await anonymous.as(bearer("garbage")).request("/v2/"), 401, "UNAUTHORIZED");
  });

  it("answers 401 to bad credentials on pulls and pushes, rather than treating them as anonymous", async () => {
    const wrong = anonymous.as(basic("wrong-password"));
    await expectOciError(await wrong.getManifest("auth/app", "v1"), 401, "UNAUTHORIZED");
    await expectNothingStored(async () => {
      await expectOciError(await wrong.pushBlob("auth/app", await content("bad credentials")), 401, "UNAUTHORIZED");
    });
  });
});

describe("GET /v2/token", () => {
  it("grants an anonymous caller pull, and that token pulls", async () => {
    const res = await tokenRequest(["repository:auth/app:pull"]);
    expect(res.status).toBe(200);
    const answer = await res.json<TokenAnswer>();
    expect(answer.token).toBeTruthy();
    expect(answer.access_token).toBe(answer.token);
    expect(answer.expires_in).toBe(300);
    expect(Math.abs(Date.parse(answer.issued_at) - Date.now())).toBeLessThan(60_000);
    const pulled = await anonymous.as(bearer(answer.token)).getManifest("auth/app", "v1");
    expect(pulled.status).toBe(200);
  });

  it("grants a publish token push, across repeated scope parameters", async () => {
    const { token } = await createToken({ scopes: ["publish"] });
    const jwt = await bearerToken(["repository:auth/one:pull,push", "repository:auth/two:pull,push"], basic(token));
    const pusher = anonymous.as(bearer(jwt));
    for (const name of ["auth/one", "auth/two"]) {
      const blob = await content(`pushed to ${name} with a bearer token`);
      expect((await pusher.pushBlob(name, blob)).status).toBe(201);
    }
  });

  it("answers docker login's request (account, client_id, offline_token)", async () => {
    const { token } = await createToken({ scopes: ["read"] });
    const res = await anonymous.request("/v2/token?account=tester&client_id=docker&offline_token=true&service=pkgedge", { headers: { authorization: basic(token) } });
    expect(res.status).toBe(200);
    const answer = await res.json<TokenAnswer>();
    expect((await anonymous.as(bearer(answer.token)).request("/v2/")).status).toBe(200);
  });

  it("answers 401 UNAUTHORIZED for a wrong password", async () => {
    await expectOciError(await tokenRequest(["repository:auth/app:pull"], basic("wrong")), 401, "UNAUTHORIZED");
  });

  it("grants a read token pull but not push", async () => {
    const { token } = await createToken({ scopes: ["read"] });
    const jwt = await bearerToken(["repository:auth/app:pull,push"], basic(token));
    const client = anonymous.as(bearer(jwt));
    expect((await client.getManifest("auth/app", "v1")).status).toBe(200);
    const blob = await content("read token asked for push");
    const res = await expectNothingStored(() => client.pushBlob("auth/app", blob));
    expect(res.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/);
    await expectOciError(res, 401, "UNAUTHORIZED");
  });

  it("grants only what is allowed: an anonymous push scope yields a token that cannot push", async () => {
    const jwt = await bearerToken(["repository:auth/app:pull,push"]);
    const blob = await content("anonymous push through a token");
    const res = await expectNothingStored(() => anonymous.as(bearer(jwt)).pushBlob("auth/app", blob));
    expect(res.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/);
    await expectOciError(res, 401, "UNAUTHORIZED");
    await expectNoBlob(anonymous, "auth/app", blob.digest);
  });
});

describe("bearer tokens from /v2/token", () => {
  it("answer 401 once expired", async () => {
    const registry = workerWith({ OCI_TOKEN_TTL_SECONDS: "1" });
    const res = await tokenRequest(["repository:auth/app:pull"], ADMIN, registry);
    const answer = await res.json<TokenAnswer>();
    expect(answer.expires_in).toBe(1);
    const client = new OciClient(registry, bearer(answer.token));
    expect((await client.getManifest("auth/app", "v1")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    await expectOciError(await client.getManifest("auth/app", "v1"), 401, "UNAUTHORIZED");
    await expectOciError(await client.request("/v2/"), 401, "UNAUTHORIZED");
  }, 15_000);

  it("answer 401 when tampered with", async () => {
    const jwt = await bearerToken(["repository:auth/app:pull,push"], ADMIN);
    await expectOciError(await anonymous.as(bearer(tamper(jwt))).request("/v2/"), 401, "UNAUTHORIZED");
    const blob = await content("pushed with a tampered token");
    await expectNothingStored(async () => {
      await expectOciError(await anonymous.as(bearer(tamper(jwt))).pushBlob("auth/app", blob), 401, "UNAUTHORIZED");
    });
  });

  it("answer 401 when one token's claims carry another token's signature", async () => {
    const pullOnly = await bearerToken(["repository:auth/app:pull"]);
    const pushing = await bearerToken(["repository:auth/app:pull,push"], ADMIN);
    const [a, b] = [pullOnly.split("."), pushing.split(".")];
    // Only meaningful for JWT-shaped tokens (claims.signature); other shapes are covered by tamper().
    if (a.length < 2 || b.length !== a.length) return;
    const forged = [...b.slice(0, -1), a.at(-1)].join(".");
    await expectOciError(await anonymous.as(bearer(forged)).pushBlob("auth/app", await content("forged")), 401, "UNAUTHORIZED");
  });

  it("are limited to their repository: elsewhere the answer asks for the missing scope", async () => {
    const { token } = await createToken({ scopes: ["publish"] });
    const jwt = await bearerToken(["repository:auth/one:pull,push"], basic(token));
    const res = await anonymous.as(bearer(jwt)).pushBlob("auth/other", await content("wrong repository"));
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/error="insufficient_scope"/);
    expect(challenge).toMatch(/scope="repository:auth\/other:[a-z,]*push/);
    await expectOciError(res, 401, "UNAUTHORIZED");
  });
});

describe("the docker token flow", () => {
  /** The scope a 401 challenge asks for (`scope="..."`), as a client reads it. */
  function challengedScope(res: Response): string {
    const m = /scope="([^"]+)"/.exec(res.headers.get("www-authenticate") ?? "");
    expect(m, `challenge ${res.headers.get("www-authenticate")}`).not.toBeNull();
    return m![1]!;
  }

  it.each([
    ["a blob push", (c: OciClient) => c.pushBlob("auth/flow", blobForFlow)],
    ["a manifest delete", (c: OciClient) => c.deleteManifest("auth/flow", "gone")],
    ["a blob delete", (c: OciClient) => c.deleteBlob("auth/flow", flowImage.config.digest)],
  ])("a token for the scope a challenge names lets %s through", async (_what, write) => {
    const { token } = await createToken({ scopes: ["publish"] });
    // Start as a client does: with a pull token, then follow the challenge.
    const pullOnly = await bearerToken(["repository:auth/flow:pull"], basic(token));
    const refused = await write(anonymous.as(bearer(pullOnly)));
    expect(refused.status).toBe(401);
    const scope = challengedScope(refused);
    expect(scope).toMatch(/^repository:auth\/flow:/);
    const granted = await bearerToken([scope], basic(token));
    expect([201, 202]).toContain((await write(anonymous.as(bearer(granted)))).status);
  });

  it("a token for `*` (what skopeo asks for to delete) may delete", async () => {
    const { token } = await createToken({ scopes: ["publish"] });
    const all = await bearerToken(["repository:auth/flow:*"], basic(token));
    await oci.pushImage("auth/flow", "star", await randomImage());
    expect((await anonymous.as(bearer(all)).deleteManifest("auth/flow", "star")).status).toBe(202);
  });
});

describe("pkgedge tokens", () => {
  it("answer 403 DENIED for a push with a read token, storing nothing", async () => {
    const reader = await clientWithToken({ scopes: ["read"] });
    const blob = await content("read token push");
    await expectNothingStored(async () => {
      await expectOciError(await reader.pushBlob("auth/read-only", blob), 403, "DENIED");
      await expectOciError(await reader.startUpload("auth/read-only"), 403, "DENIED");
      await expectOciError(await reader.putManifest("auth/app", "v2", image.manifest), 403, "DENIED");
    });
    await expectNoBlob(anonymous, "auth/read-only", blob.digest);
  });

  it("answer 403 DENIED outside their repository patterns", async () => {
    const team = await clientWithToken({ scopes: ["publish"], packages: ["team/*"] });
    const blob = await content("outside the pattern");
    await expectNothingStored(async () => {
      await expectOciError(await team.pushBlob("other/app", blob), 403, "DENIED");
    });
    expect((await team.pushBlob("team/app", blob)).status).toBe(201);
  });

  it("match an exact repository pattern exactly, not as a prefix", async () => {
    const alpine = await clientWithToken({ scopes: ["publish"], packages: ["library/alpine"] });
    const blob = await content("exact pattern");
    expect((await alpine.pushBlob("library/alpine", blob)).status).toBe(201);
    await expectNothingStored(async () => {
      for (const name of ["library/alpine2", "library/alpine-edge", "library/alpine/extra", "library"]) {
        await expectOciError(await alpine.pushBlob(name, blob), 403, "DENIED");
      }
    });
  });

  it("see only their repositories in the catalog when reads need a token", async () => {
    await oci.pushImage("team/listed", "v1", image);
    const registry = workerWith({ ANONYMOUS_READ: "false" });
    const team = await clientWithToken({ scopes: ["read"], packages: ["team/*"] }, registry);
    const { repositories } = await (await team.catalog()).json<{ repositories: string[] }>();
    expect(repositories).toContain("team/listed");
    expect(repositories.filter((r) => !r.startsWith("team/"))).toEqual([]);
    // Anonymous callers may pull nothing here: an empty catalog (or a 401), never a name.
    const anon = await new OciClient(registry).catalog();
    if (anon.status === 401) await expectOciError(anon, 401, "UNAUTHORIZED");
    else expect([anon.status, await anon.json()]).toEqual([200, { repositories: [] }]);
  });

  it("answer 403 DENIED for pulls outside their patterns when reads need a token", async () => {
    const registry = workerWith({ ANONYMOUS_READ: "false" });
    const team = await clientWithToken({ scopes: ["read"], packages: ["team/*"] }, registry);
    await expectOciError(await team.getManifest("auth/app", "v1"), 403, "DENIED");
    await expectOciError(await team.getBlob("auth/app", image.config.digest), 403, "DENIED");
    await expectOciError(await team.tags("auth/app"), 403, "DENIED");
  });
});
