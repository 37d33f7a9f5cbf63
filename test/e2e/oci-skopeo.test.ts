// The OCI registry as skopeo users meet it: push and pull real umoci-built images (end-2..end-7),
// inspect, list tags (end-8), delete (end-9), a multi-platform index, tags that move, and who may
// push. Every round trip compares every digest (index, manifests, configs, layers).
//
// OCI_E2E_REFERENCE=1 runs the same client checks against Debian's docker-registry instead (no
// auth there, so the auth tests are skipped): it proves the harness itself, not pkgedge.
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDockerRegistry } from "../../scripts/lib/bench/docker-registry.mjs";
import { describeRun, startRegistry } from "./helpers";
import {
  OCI_INDEX,
  Skopeo,
  buildImage,
  buildMultiPlatform,
  copyOrThrow,
  layoutDigests,
  readManifest,
  tempDir,
  type OciImage,
} from "./oci-image";

const reference = process.env.OCI_E2E_REFERENCE === "1";

interface Target {
  /** host:port, as skopeo's docker:// references want it. */
  host: string;
  /** `user:secret` for pushes (undefined: the registry needs none). */
  pushCreds?: string;
  /** `user:secret` of a token that may only pull. */
  readCreds?: string;
  stop(): Promise<void>;
}

let target: Target;
let work: string;
let skopeo: Skopeo;
let imageA: OciImage;
let imageB: OciImage;
let multi: OciImage & { children: OciImage[] };

beforeAll(async () => {
  work = tempDir("pkgedge-e2e-oci-");
  skopeo = new Skopeo(work);
  // Images first: umoci is CPU-bound and wrangler dev starting beside it would slow both.
  imageA = await buildImage(join(work, "image-a"), { tag: "v1", layers: 3 });
  imageB = await buildImage(join(work, "image-b"), { tag: "v2", layers: 2 });
  multi = await buildMultiPlatform(join(work, "multi"));
  if (reference) {
    const server = await startDockerRegistry();
    target = { host: server.host, stop: server.stop };
  } else {
    const registry = await startRegistry();
    const push = await registry.createToken({ name: "oci-push", scopes: ["read", "publish"] });
    const read = await registry.createToken({ name: "oci-read", scopes: ["read"] });
    target = { host: `127.0.0.1:${registry.port}`, pushCreds: `ci:${push}`, readCreds: `ci:${read}`, stop: registry.stop };
  }
});
afterAll(async () => {
  await target?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const remote = (repo: string, ref: string) => `docker://${target.host}/${repo}${ref.startsWith("sha256:") ? "@" : ":"}${ref}`;

/** Pushes `image` as repo:tag with the push credentials. */
function push(image: OciImage, repo: string, tag: string, extra: string[] = []) {
  return copyOrThrow(skopeo, image.ref, remote(repo, tag), { destCreds: target.pushCreds, extra });
}

/** Pulls repo:ref (anonymously unless `creds`) into a fresh layout; returns that layout's dir and tag. */
async function pull(repo: string, ref: string, opts: { creds?: string; extra?: string[] } = {}) {
  const dir = tempDir("pkgedge-e2e-oci-pull-");
  const r = await skopeo.copy(remote(repo, ref), `oci:${dir}:pulled`, { srcCreds: opts.creds, extra: opts.extra });
  return { dir, tag: "pulled", result: r, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function inspect(repo: string, ref: string, extra: string[] = []) {
  const r = await skopeo.remote("inspect", remote(repo, ref), { extra });
  return r;
}

test("end-4/5/6/7, end-2/3: skopeo copy round-trips a 3-layer image with every digest identical", async () => {
  await push(imageA, "e2e/app", "v1");
  const pulled = await pull("e2e/app", "v1");
  try {
    expect(pulled.result.code, describeRun("skopeo copy (pull)", pulled.result)).toBe(0);
    const sent = layoutDigests(imageA.dir, imageA.tag);
    expect(sent.filter((e) => e.kind === "layer")).toHaveLength(3);
    expect(layoutDigests(pulled.dir, pulled.tag)).toEqual(sent);
  } finally {
    pulled.cleanup();
  }
});

test("end-3: skopeo inspect reports the pushed manifest's digest, layers and platform", async () => {
  await push(imageA, "e2e/inspect", "v1");
  const r = await inspect("e2e/inspect", "v1");
  expect(r.code, describeRun("skopeo inspect", r)).toBe(0);
  const info = JSON.parse(r.stdout) as { Digest: string; Layers: string[]; Architecture: string; Os: string };
  const manifest = readManifest(imageA.dir, imageA.digest);
  expect(info.Digest).toBe(imageA.digest);
  expect(info.Layers).toEqual(manifest.layers!.map((l) => l.digest));
  expect([info.Os, info.Architecture]).toEqual(["linux", "amd64"]);
  // --raw shows the manifest bytes as stored: the same bytes the layout holds.
  const raw = await inspect("e2e/inspect", "v1", ["--raw"]);
  expect(raw.code, describeRun("skopeo inspect --raw", raw)).toBe(0);
  expect(JSON.parse(raw.stdout)).toEqual(manifest);
  // By digest as well as by tag.
  const byDigest = await inspect("e2e/inspect", imageA.digest);
  expect(byDigest.code, describeRun("skopeo inspect @digest", byDigest)).toBe(0);
  expect(JSON.parse(byDigest.stdout).Digest).toBe(imageA.digest);
});

test("end-8: skopeo list-tags lists every pushed tag", async () => {
  await push(imageA, "e2e/tags", "v1");
  await push(imageA, "e2e/tags", "1.0");
  await push(imageB, "e2e/tags", "latest");
  const r = await skopeo.remote("list-tags", `docker://${target.host}/e2e/tags`);
  expect(r.code, describeRun("skopeo list-tags", r)).toBe(0);
  const body = JSON.parse(r.stdout) as { Repository: string; Tags: string[] };
  expect(body.Repository).toBe(`${target.host}/e2e/tags`);
  expect([...body.Tags].sort()).toEqual(["1.0", "latest", "v1"]);
});

test("end-9: skopeo delete removes the manifest; pulling it then fails with manifest unknown", async () => {
  await push(imageB, "e2e/delete", "v2");
  await push(imageA, "e2e/delete", "keep");
  const del = await skopeo.remote("delete", remote("e2e/delete", "v2"), { creds: target.pushCreds });
  expect(del.code, describeRun("skopeo delete", del)).toBe(0);
  for (const ref of ["v2", imageB.digest]) {
    const pulled = await pull("e2e/delete", ref);
    pulled.cleanup();
    expect(pulled.result.code, describeRun(`pull ${ref} after delete`, pulled.result)).not.toBe(0);
    expect(pulled.result.stderr).toMatch(/manifest unknown/i);
  }
  // The other image of the repository is untouched.
  const kept = await pull("e2e/delete", "keep");
  try {
    expect(kept.result.code, describeRun("pull keep", kept.result)).toBe(0);
    expect(layoutDigests(kept.dir, kept.tag)).toEqual(layoutDigests(imageA.dir, imageA.tag));
  } finally {
    kept.cleanup();
  }
});

test("end-7: a Docker schema 2 manifest (skopeo --format v2s2) is stored and served as pushed", async () => {
  await push(imageA, "e2e/docker", "v1", ["--format", "v2s2"]);
  const raw = await inspect("e2e/docker", "v1", ["--raw"]);
  expect(raw.code, describeRun("skopeo inspect --raw", raw)).toBe(0);
  const manifest = JSON.parse(raw.stdout) as { mediaType: string; config: { digest: string }; layers: Array<{ digest: string; mediaType: string }> };
  expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
  // Conversion rewrites the manifest, not the blobs: the same config and layer bytes.
  const oci = readManifest(imageA.dir, imageA.digest);
  expect(manifest.config.digest).toBe(oci.config!.digest);
  expect(manifest.layers.map((l) => l.digest)).toEqual(oci.layers!.map((l) => l.digest));
  expect(new Set(manifest.layers.map((l) => l.mediaType))).toEqual(new Set(["application/vnd.docker.image.rootfs.diff.tar.gzip"]));
  const info = await inspect("e2e/docker", "v1");
  const digest = JSON.parse(info.stdout).Digest as string;
  expect(digest).toBe(`sha256:${createHash("sha256").update(raw.stdout).digest("hex")}`);
  // Pulled into an OCI layout with --preserve-digests, it arrives byte for byte.
  const pulled = await pull("e2e/docker", "v1", { extra: ["--preserve-digests"] });
  try {
    expect(pulled.result.code, describeRun("pull v2s2", pulled.result)).toBe(0);
    const got = layoutDigests(pulled.dir, pulled.tag);
    expect(got[0]).toMatchObject({ kind: "manifest", digest });
    expect(got.slice(1).map((e) => e.digest)).toEqual([oci.config!.digest, ...oci.layers!.map((l) => l.digest)]);
  } finally {
    pulled.cleanup();
  }
});

describe("multi-platform index", () => {
  test("copy --all --preserve-digests round-trips the index and both images with identical digests", async () => {
    await push(multi, "e2e/multi", "1", ["--all", "--preserve-digests"]);
    const raw = await inspect("e2e/multi", "1", ["--raw"]);
    expect(raw.code, describeRun("skopeo inspect --raw", raw)).toBe(0);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: Array<{ digest: string; platform: { architecture: string } }> };
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(index.manifests.map((m) => [m.platform.architecture, m.digest])).toEqual(multi.children.map((c) => [c.tag.split("-").pop(), c.digest]));

    const pulled = await pull("e2e/multi", "1", { extra: ["--all", "--preserve-digests"] });
    try {
      expect(pulled.result.code, describeRun("pull --all", pulled.result)).toBe(0);
      const sent = layoutDigests(multi.dir, multi.tag);
      expect(sent.map((e) => e.kind)).toEqual(["index", "manifest", "config", "layer", "layer", "manifest", "config", "layer", "layer"]);
      expect(layoutDigests(pulled.dir, pulled.tag)).toEqual(sent);
    } finally {
      pulled.cleanup();
    }
  });

  test("a client picks its platform's image from the index", async () => {
    await push(multi, "e2e/multi-pick", "1", ["--all", "--preserve-digests"]);
    for (const child of multi.children) {
      const arch = child.tag.split("-").pop()!;
      const r = await skopeo.run(["--override-arch", arch, "--override-os", "linux", "inspect", "--tls-verify=false", remote("e2e/multi-pick", "1")]);
      expect(r.code, describeRun(`skopeo inspect (${arch})`, r)).toBe(0);
      const info = JSON.parse(r.stdout) as { Digest: string; Architecture: string; Layers: string[] };
      expect(info.Architecture).toBe(arch);
      expect(info.Layers).toEqual(readManifest(child.dir, child.digest).layers!.map((l) => l.digest));
    }
  });
});

test("end-7: re-pushing a tag moves it to the new image; the old one stays pullable by digest", async () => {
  await push(imageA, "e2e/moving", "stable");
  const before = await inspect("e2e/moving", "stable");
  expect(JSON.parse(before.stdout).Digest, describeRun("inspect before", before)).toBe(imageA.digest);
  await push(imageB, "e2e/moving", "stable");
  const after = await inspect("e2e/moving", "stable");
  expect(after.code, describeRun("inspect after", after)).toBe(0);
  expect(JSON.parse(after.stdout).Digest).toBe(imageB.digest);
  const pulled = await pull("e2e/moving", "stable");
  const old = await pull("e2e/moving", imageA.digest);
  try {
    expect(pulled.result.code, describeRun("pull stable", pulled.result)).toBe(0);
    expect(layoutDigests(pulled.dir, pulled.tag)).toEqual(layoutDigests(imageB.dir, imageB.tag));
    expect(old.result.code, describeRun("pull old digest", old.result)).toBe(0);
    expect(layoutDigests(old.dir, old.tag)).toEqual(layoutDigests(imageA.dir, imageA.tag));
  } finally {
    pulled.cleanup();
    old.cleanup();
  }
});

describe.skipIf(reference)("who may push", () => {
  /** The tag was not created: a refused push leaves nothing a client can see. */
  async function expectNotPushed(repo: string, tag: string) {
    const r = await inspect(repo, tag);
    expect(r.code, describeRun(`inspect ${repo}:${tag} after a refused push`, r)).not.toBe(0);
    expect(r.stderr).toMatch(/manifest unknown|name unknown|repository name not known/i);
  }

  test("pushing without credentials fails with skopeo's authentication error", async () => {
    const r = await skopeo.copy(imageA.ref, remote("e2e/anon-push", "v1"));
    expect(r.code, describeRun("skopeo copy without creds", r)).not.toBe(0);
    // The anonymous bearer token carries pull only, so the first upload is refused; skopeo prints
    // its own "denied" line and then the registry's UNAUTHORIZED message.
    expect(r.stderr).toMatch(/denied: requested access to the resource is denied/);
    expect(r.stderr).toMatch(/unauthorized: token does not grant push on e2e\/anon-push/);
    await expectNotPushed("e2e/anon-push", "v1");
  });

  test("pushing with a read-only token fails", async () => {
    const r = await skopeo.copy(imageA.ref, remote("e2e/read-push", "v1"), { destCreds: target.readCreds });
    expect(r.code, describeRun("skopeo copy with a read token", r)).not.toBe(0);
    expect(r.stderr).toMatch(/denied: requested access to the resource is denied/);
    expect(r.stderr).toMatch(/unauthorized: token does not grant push on e2e\/read-push/);
    await expectNotPushed("e2e/read-push", "v1");
  });

  test("pushing with a wrong password fails with invalid username/password", async () => {
    const r = await skopeo.copy(imageA.ref, remote("e2e/bad-pass", "v1"), { destCreds: "ci:pke_ForgedForgedForgedForgedForgedForged00" });
    expect(r.code, describeRun("skopeo copy with a forged token", r)).not.toBe(0);
    // The token endpoint refuses the Basic login, so skopeo never gets to send a byte.
    expect(r.stderr).toMatch(/unable to retrieve auth token: invalid username\/password: unauthorized: /);
    await expectNotPushed("e2e/bad-pass", "v1");
  });

  test("anonymous pull works with the default configuration; a read token pulls too", async () => {
    await push(imageA, "e2e/public", "v1");
    for (const creds of [undefined, target.readCreds]) {
      const pulled = await pull("e2e/public", "v1", { creds });
      try {
        expect(pulled.result.code, describeRun(`pull (${creds ? "read token" : "anonymous"})`, pulled.result)).toBe(0);
        expect(layoutDigests(pulled.dir, pulled.tag)).toEqual(layoutDigests(imageA.dir, imageA.tag));
      } finally {
        pulled.cleanup();
      }
    }
  });

  test("a read-only token, or none, may not delete", async () => {
    await push(imageB, "e2e/nodelete", "v2");
    for (const creds of [target.readCreds, undefined]) {
      const r = await skopeo.remote("delete", remote("e2e/nodelete", "v2"), { creds });
      expect(r.code, describeRun(`skopeo delete (${creds ? "read token" : "anonymous"})`, r)).not.toBe(0);
      expect(r.stderr).toMatch(/token does not grant delete on e2e\/nodelete.*\(401 Unauthorized\)/);
    }
    const still = await inspect("e2e/nodelete", "v2");
    expect(JSON.parse(still.stdout).Digest, describeRun("inspect after refused delete", still)).toBe(imageB.digest);
  });
});
