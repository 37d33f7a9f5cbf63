// A finish (end-6) cut off by a crash is completed or rolled back by whatever touches the upload
// next, and never deletes bytes a blob link points at. The crash is reproduced as it happens:
// the finishing request recorded its digest (prepare), wrote some of its objects, and then the
// UploadSession Durable Object was reset (ctx.abort) with the request gone. The kill -9 version
// of the same instants is test/e2e/crash-safety.test.ts.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Lease, UploadSession } from "../../../durable-objects/upload-session";
import { content, expectNoBlob, expectOciError, locationPath, OciClient, ociKeys, publisher, randomBytes, type Content } from "../../helpers/oci";

let oci: OciClient;
beforeAll(async () => {
  oci = await publisher();
});

const uuidOf = (location: string): string => location.split("?")[0]!.split("/").pop()!;

function sessionObject(uuid: string): DurableObjectStub<UploadSession> {
  const ns = (env as unknown as { UPLOAD_SESSION: DurableObjectNamespace<UploadSession> }).UPLOAD_SESSION;
  return ns.get(ns.idFromName(uuid));
}

type Cut = "after-prepare" | "after-data" | "after-blob-link";

/**
 * Uploads `blob` into a session of `name` and cuts its finish off at `cut`. Before the data is
 * complete ("after-prepare") the finishing PUT still carried the last bytes: the chunks sent
 * hold only a prefix (a small upload keeps its bytes in the data object between chunks).
 */
async function interruptedFinish(name: string, blob: Content, cut: Cut): Promise<string> {
  const sent = cut === "after-prepare" ? blob.bytes.subarray(0, blob.bytes.byteLength - 100) : blob.bytes;
  const location = locationPath(await oci.patchUpload(await oci.openUpload(name), sent, `0-${sent.byteLength - 1}`));
  const stub = sessionObject(uuidOf(location));
  const lease = (await stub.begin(name)) as Lease;
  // What the finishing request records once it has hashed every byte, its last chunk included.
  expect(await stub.prepare(lease.id, blob.digest, { ...lease.state, received: blob.bytes.byteLength })).toBe(true);
  if (cut !== "after-prepare") await env.BLOBS.put(lease.state.key, blob.bytes);
  if (cut === "after-blob-link") {
    await env.BLOBS.put(`oci/blobs/${blob.digest}`, "", { customMetadata: { "pkgedge-link": lease.state.key, digest: blob.digest } });
  }
  // The crash: the object is reset, and the request that held the finish lease is gone.
  await runInDurableObject(stub, (_instance, state) => state.abort("crash")).catch(() => {});
  return location;
}

const touches = {
  "the client's DELETE": async (location: string) => expect((await oci.cancelUpload(location)).status).toBe(204),
  "the alarm": async (location: string) => {
    await runDurableObjectAlarm(sessionObject(uuidOf(location)));
  },
  "a status GET": async (location: string) => {
    await expectOciError(await oci.uploadStatus(location), 404, "BLOB_UPLOAD_UNKNOWN");
  },
};

describe("a finish cut off after the digest was linked to the upload's data", () => {
  it.each(Object.keys(touches))("%s completes it: a repository that pushed the same layer meanwhile keeps it", async (touch) => {
    const name = `interrupted/linked-${Object.keys(touches).indexOf(touch)}`;
    const blob = await content(randomBytes(5000));
    const location = await interruptedFinish(name, blob, "after-blob-link");
    // A second repository pushes the same layer and is told it has it (the shared copy is reused).
    expect((await oci.pushBlob(`${name}-other`, blob)).status).toBe(201);

    await touches[touch as keyof typeof touches](location);

    for (const repo of [name, `${name}-other`]) {
      const pulled = await oci.getBlob(repo, blob.digest);
      expect(pulled.status, repo).toBe(200);
      expect(new Uint8Array(await pulled.arrayBuffer())).toEqual(blob.bytes);
    }
    expect((await ociKeys()).filter((k) => k.endsWith(".tail"))).toEqual([]);
  });

  it("the client's retried PUT is answered 201 and the blob pulls", async () => {
    const blob = await content(randomBytes(3000));
    const location = await interruptedFinish("interrupted/retried", blob, "after-blob-link");
    const retried = await oci.closeUpload(location, blob.digest);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("docker-content-digest")).toBe(blob.digest);
    expect(new Uint8Array(await (await oci.getBlob("interrupted/retried", blob.digest)).arrayBuffer())).toEqual(blob.bytes);
  });
});

describe("a finish cut off before its blob was linked", () => {
  it.each(["after-prepare", "after-data"] as const)("cut %s: a DELETE rolls it back and leaves nothing", async (cut) => {
    const before = await ociKeys();
    const blob = await content(randomBytes(4000));
    const location = await interruptedFinish(`interrupted/${cut}`, blob, cut);
    // after-data: the data object holds verified bytes, so the touch completes the commit instead.
    expect((await oci.cancelUpload(location)).status).toBe(204);
    if (cut === "after-prepare") {
      await expectNoBlob(oci, `interrupted/${cut}`, blob.digest);
      expect(await ociKeys()).toEqual(before);
    } else {
      expect(new Uint8Array(await (await oci.getBlob(`interrupted/${cut}`, blob.digest)).arrayBuffer())).toEqual(blob.bytes);
    }
  });

  it("cut after prepare of a small upload whose chunks held every byte: the data object is the blob, so a DELETE completes it", async () => {
    const blob = await content(randomBytes(3000));
    const name = "interrupted/whole-chunks";
    const location = locationPath(await oci.patchUpload(await oci.openUpload(name), blob.bytes, "0-2999"));
    const stub = sessionObject(uuidOf(location));
    const lease = (await stub.begin(name)) as Lease;
    expect(await stub.prepare(lease.id, blob.digest, lease.state)).toBe(true);
    await runInDurableObject(stub, (_instance, state) => state.abort("crash")).catch(() => {});
    expect((await oci.cancelUpload(location)).status).toBe(204);
    expect(new Uint8Array(await (await oci.getBlob(name, blob.digest)).arrayBuffer())).toEqual(blob.bytes);
  });

  it("while the finishing request may still be alive, a DELETE is refused and takes nothing away", async () => {
    const blob = await content(randomBytes(2000));
    const name = "interrupted/alive";
    const location = locationPath(await oci.patchUpload(await oci.openUpload(name), blob.bytes, "0-1999"));
    const stub = sessionObject(uuidOf(location));
    const lease = (await stub.begin(name)) as Lease;
    await stub.prepare(lease.id, blob.digest, lease.state);
    await expectOciError(await oci.cancelUpload(location), 416, "BLOB_UPLOAD_INVALID");
    // The request carries on: data, then finalize links it.
    await env.BLOBS.put(lease.state.key, blob.bytes);
    expect(await stub.finalize(lease.id)).toBe(true);
    expect(new Uint8Array(await (await oci.getBlob(name, blob.digest)).arrayBuffer())).toEqual(blob.bytes);
  });
});
