// Random and hostile input through the whole Worker (fast-check): publish bodies, package names,
// versions, tarball names, OCI names, digests, references, manifests and Content-Range. Every
// answer is a 4xx in the protocol's own format, and nothing is stored (R2; the audit log records
// only the refusal).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { NpmClient } from "../../helpers/npm-client";
import { publishBody } from "../../helpers/npm-body";
import { parseRepositoryName } from "../../../workers/oci/names";
import { content, expectOciError, imageManifest, locationPath, MEDIA, ociKeys, OciClient, basic, randomBytes, type OciCode } from "../../helpers/oci";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({});
const RUNS = { numRuns: 40 };

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

/** Audit entries of accepted writes: refusals (`write.refused`, `auth.failure`) are recorded too. */
async function acceptedWrites(): Promise<number> {
  const listed = await env.BLOBS.list({ prefix: "audit/", include: ["customMetadata"] });
  return listed.objects.filter((o) => !["write.refused", "auth.failure"].includes(o.customMetadata?.action ?? "")).length;
}

/** Asserts a 4xx npm answer: exactly `{"error": "<message>"}` as JSON. */
async function expectNpm4xx(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(400);
  expect(res.status, text).toBeLessThan(500);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error).toBe("string");
}

/** Asserts a 4xx answer in the OCI envelope with a spec code. */
async function expectOci4xx(res: Response): Promise<void> {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const code = (await res.clone().json<{ errors: Array<{ code: OciCode }> }>()).errors[0]!.code;
  await expectOciError(res, res.status, code);
}

// Pieces attackers reach for, mixed with arbitrary unicode.
const HOSTILE = fc.constantFrom("..", ".", "/", "\\", "%2f", "%252f", "%00", "\u0000", "\n", " ", "@", ":", "%", "\u202e", "\uff0e", "~", "'", "sha256:", "a".repeat(260));
const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.oneof(HOSTILE, fc.string({ maxLength: 6 }), fc.constantFrom("a", "-", "_", "0", "b")), { maxLength: 10 }).map((p) => p.join("")),
);
/** A string as a client would put it in one path segment. */
const segment = (s: string) => encodeURIComponent(s);

let nameCounter = 0;
const freshName = () => `prop-${Date.now().toString(36)}-${nameCounter++}`;

describe("npm, through the Worker", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient(fetch, (await createToken({ scopes: ["publish"] }, fetch)).token);
  });

  // Publish bodies: random JSON, random bytes, and publish-shaped documents with random parts.
  const attachment = fc.record({ content_type: fc.string(), data: fc.oneof(fc.base64String(), hostile), length: fc.oneof(fc.integer(), fc.constant(-1)) }, { requiredKeys: [] });
  const shaped = fc.record({
    _id: hostile,
    name: fc.oneof(hostile, fc.constant(undefined)),
    "dist-tags": fc.dictionary(hostile, fc.oneof(hostile, fc.constant("1.0.0"))),
    versions: fc.dictionary(fc.oneof(hostile, fc.constant("1.0.0")), fc.oneof(fc.anything(), fc.record({ name: hostile, version: hostile, dist: fc.record({ integrity: hostile, shasum: hostile }) }))),
    _attachments: fc.dictionary(fc.oneof(hostile, fc.constant("x-1.0.0.tgz")), fc.oneof(attachment, fc.anything())),
  }, { requiredKeys: [] });
  const bodies = fc.oneof(
    fc.json().map((text) => text as string | Uint8Array),
    fc.uint8Array({ maxLength: 2000 }),
    shaped.map((doc) => JSON.stringify(doc)),
    fc.string({ unit: "binary", maxLength: 200 }),
  );

  it("publish bodies: a 4xx with {error}, nothing in R2, no accepted write in the audit log", async () => {
    await fc.assert(fc.asyncProperty(bodies, async (body) => {
      const name = freshName();
      const audit = await acceptedWrites();
      const res = await npm.request(`/npm/${name}`, { method: "PUT", headers: { "content-type": "application/json" }, body });
      await expectNpm4xx(res);
      expect(await keysUnder(`npm/${name}/`)).toEqual([]);
      expect(await acceptedWrites()).toBe(audit);
    }), RUNS);
  });

  it("a real publish body with one part made hostile is refused whole", async () => {
    const field = fc.constantFrom("name", "version", "integrity", "shasum", "data", "length", "attachment", "tag");
    await fc.assert(fc.asyncProperty(field, hostile, async (which, value) => {
      const name = freshName();
      const body = await publishBody(name, "1.0.0");
      const version = body.versions["1.0.0"]!;
      const att = Object.values(body._attachments)[0]!;
      if (which === "name") version.name = value;
      if (which === "version") version.version = `1.0.0-${value}`;
      if (which === "integrity") version.dist.integrity = value;
      if (which === "shasum") version.dist.shasum = value;
      if (which === "data") att.data = value;
      if (which === "length") att.length = value.length + 1;
      if (which === "attachment") body._attachments = { [value]: att };
      if (which === "tag") body["dist-tags"] = { [value]: "1.0.0" };
      const res = await npm.putPackument(name, body);
      if (res.status < 300) {
        // Some values are harmless: a tag like "a0", or any key for the only attachment (npm's
        // publish names it, pkgedge stores it under the version's own file name regardless).
        expect(["tag", "attachment"]).toContain(which);
        expect(await keysUnder(`npm/${name}/`)).toEqual([`npm/${name}/-/${name}-1.0.0.tgz`, `npm/${name}/packument.json`]);
        return;
      }
      await expectNpm4xx(res);
      expect(await keysUnder(`npm/${name}/`)).toEqual([]);
    }), RUNS);
  });

  it("package names in every route: a 4xx (never a 5xx) and R2 unchanged", async () => {
    await fc.assert(fc.asyncProperty(hostile, fc.constantFrom("PUT", "GET", "DELETE"), async (name, method) => {
      const before = await keysUnder("npm/");
      const path = method === "DELETE" ? `/npm/${segment(name)}/-rev/1-x` : `/npm/${segment(name)}`;
      const res = await npm.request(path, method === "PUT" ? { method, headers: { "content-type": "application/json" }, body: "{}" } : { method });
      await expectNpm4xx(res);
      expect(await keysUnder("npm/")).toEqual(before);
    }), RUNS);
  });

  it("versions and tarball file names: a 4xx with {error}", async () => {
    expect((await npm.publish("prop-existing", "1.0.0")).status).toBe(201);
    await fc.assert(fc.asyncProperty(hostile, fc.boolean(), async (value, tarball) => {
      if (!tarball && ["1.0.0", "latest"].includes(value)) return;
      const res = await npm.request(tarball ? `/npm/prop-existing/-/${segment(value)}` : `/npm/prop-existing/${segment(value)}`);
      await expectNpm4xx(res);
    }), RUNS);
  });
});

describe("OCI, through the Worker", () => {
  let oci: OciClient;
  beforeAll(async () => {
    oci = new OciClient(fetch, basic((await createToken({ scopes: ["publish"] }, fetch)).token));
  });
  /** A repository name as a client sends it: slashes kept, everything else escaped. */
  const repoPath = (name: string) => name.split("/").map(segment).join("/");
  const digestish = fc.oneof(hostile, fc.stringMatching(/^[0-9a-f]{60,68}$/).map((h) => `sha256:${h}`), fc.stringMatching(/^[0-9A-F]{64}$/).map((h) => `sha256:${h}`), hostile.map((s) => `sha256:${s}`));

  it("repository names: manifests and blobs by a hostile name are a 4xx envelope and store nothing", async () => {
    const image = await imageManifest({ config: await content("{}"), layers: [] });
    await fc.assert(fc.asyncProperty(hostile, fc.constantFrom("get-manifest", "put-manifest", "get-blob", "start-upload", "tags"), async (name, op) => {
      // "." and ".." segments (escaped or not) are resolved by the URL parser before a request
      // leaves the client, so such a request lands outside /v2/ and is not an OCI request at
      // all; the request filter's own tests send those paths raw.
      fc.pre(!name.split("/").some((s) => s === "." || s === ".."));
      const before = await ociKeys();
      const repo = repoPath(name);
      const res =
        op === "get-manifest" ? await oci.request(`/v2/${repo}/manifests/latest`)
        : op === "put-manifest" ? await oci.request(`/v2/${repo}/manifests/latest`, { method: "PUT", headers: { "content-type": MEDIA.manifest }, body: image.bytes })
        : op === "get-blob" ? await oci.request(`/v2/${repo}/blobs/${image.digest}`)
        : op === "start-upload" ? await oci.request(`/v2/${repo}/blobs/uploads/`, { method: "POST" })
        : await oci.request(`/v2/${repo}/tags/list`);
      if (res.status === 202) {
        // A hostile string can still be a valid name ("a0"): an upload may start, and is cancelled.
        expect(op).toBe("start-upload");
        expect(parseRepositoryName(name)).toBe(name);
        const cancelled = await oci.cancelUpload(locationPath(res));
        expect(cancelled.status).toBe(204);
      } else {
        const valid = (() => {
          try {
            return parseRepositoryName(name) === name;
          } catch {
            return false;
          }
        })();
        // An invalid name is NAME_INVALID, or 404/405 when the path matches no route at all ("//").
        if (!valid) expect([400, 404, 405]).toContain(res.status);
        await expectOci4xx(res);
      }
      expect(await ociKeys()).toEqual(before);
    }), RUNS);
  });

  it("digests: blob reads, deletes and monolithic pushes by a hostile digest are 4xx and store nothing", async () => {
    await fc.assert(fc.asyncProperty(digestish, fc.constantFrom("GET", "DELETE", "PUSH"), async (digest, op) => {
      const before = await ociKeys();
      const res = op === "PUSH"
        ? await oci.request(`/v2/prop/repo/blobs/uploads/?digest=${encodeURIComponent(digest)}`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: randomBytes(64) })
        : await oci.request(`/v2/prop/repo/blobs/${segment(digest)}`, { method: op });
      await expectOci4xx(res);
      expect(await ociKeys()).toEqual(before);
    }), RUNS);
  });

  it("references and manifest bodies: a 4xx envelope and nothing stored", async () => {
    const bodies = fc.oneof(
      fc.json().map((t) => new TextEncoder().encode(t)),
      fc.uint8Array({ maxLength: 1000 }),
      fc.record({ schemaVersion: fc.oneof(fc.constant(2), fc.anything()), mediaType: fc.oneof(fc.constant(MEDIA.manifest), hostile), config: fc.anything(), layers: fc.anything(), subject: fc.anything() }, { requiredKeys: [] })
        .map((m) => new TextEncoder().encode(JSON.stringify(m))),
    );
    await fc.assert(fc.asyncProperty(fc.oneof(hostile, fc.constant("latest")), bodies, fc.constantFrom(MEDIA.manifest, MEDIA.index, MEDIA.dockerManifest, "text/plain"), async (ref, body, type) => {
      const before = await ociKeys();
      const res = await oci.request(`/v2/prop/manifests/${segment(ref)}`, { method: "PUT", headers: { "content-type": type }, body });
      await expectOci4xx(res);
      expect(await ociKeys()).toEqual(before);
    }), RUNS);
  });

  it("Content-Range on a chunk: accepted only when it names the next bytes, else 416; a cancelled upload leaves nothing", async () => {
    // Fetch cannot even send CR, LF or NUL in a header value, and HTTP/1.1 clients send ASCII.
    const ranges = fc.oneof(hostile.filter((h) => /^[\x20-\x7e]*$/.test(h)), fc.tuple(fc.integer({ min: -5, max: 40 }), fc.integer({ min: -5, max: 40 })).map(([a, b]) => `${a}-${b}`), fc.constant("0-15"));
    await fc.assert(fc.asyncProperty(ranges, async (range) => {
      const before = await ociKeys();
      const location = await oci.openUpload("prop/chunks");
      const res = await oci.patchUpload(location, randomBytes(16), range);
      if (res.status === 202) {
        // The next 16 bytes, or no range at all (an empty header is no header): a plain append.
        expect(["0-15", ""]).toContain(range.trim().replace(/^bytes[ =]/, ""));
        await res.body?.cancel();
      } else {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        await expectOci4xx(res);
      }
      const cancelled = await oci.cancelUpload(location);
      expect([204, 404]).toContain(cancelled.status);
      await cancelled.body?.cancel();
      expect(await ociKeys()).toEqual(before);
    }), { numRuns: 30 });
    // Each refused chunk is an audited refusal (an R2 write, up to the budget): room for a busy machine.
  }, 15_000);
});
