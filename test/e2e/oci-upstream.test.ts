// OCI pull-through against real upstreams on loopback: Debian's docker-registry holding a
// multi-platform image, and a second pkgedge that requires a token (its Bearer challenge and
// token endpoint are what pkgedge's mirror has to follow). What a user observes: skopeo copies
// the image through pkgedge with every digest preserved; a herd from three regions reaches the
// upstream once per blob (from the upstream's own access log); repositories hosted here are
// never pulled through; and with the upstream stopped the image still pulls.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDockerRegistry } from "../../scripts/lib/bench/docker-registry.mjs";
import { describeRun, startRegistry, type Registry } from "./helpers";
import { Skopeo, buildImage, buildMultiPlatform, copyOrThrow, layoutDigests, tempDir, type OciImage } from "./oci-image";

const REGIONS = ["us-east", "eu-west", "ap-south"];

let work: string;
let skopeo: Skopeo;
let multi: OciImage & { children: OciImage[] };
let single: OciImage;
let upstream: Awaited<ReturnType<typeof startDockerRegistry>>;
let privateUpstream: Registry;
let registry: Registry;

beforeAll(async () => {
  work = tempDir("pkgedge-e2e-oci-upstream-");
  skopeo = new Skopeo(work);
  multi = await buildMultiPlatform(join(work, "multi"));
  single = await buildImage(join(work, "single"), { tag: "v1", layers: 2 });
  upstream = await startDockerRegistry({ accessLog: true });
  await copyOrThrow(skopeo, multi.ref, `docker://${upstream.host}/library/demo:multi`, { extra: ["--all", "--preserve-digests"] });
  await copyOrThrow(skopeo, single.ref, `docker://${upstream.host}/library/herd:v1`);
  // A pkgedge with anonymous reads off: pulling from it takes its Bearer token flow.
  privateUpstream = await startRegistry({ ANONYMOUS_READ: "false" });
  const pusher = await privateUpstream.createToken({ name: "upstream-push", scopes: ["read", "publish"] });
  const reader = await privateUpstream.createToken({ name: "mirror-read", scopes: ["read"] });
  await copyOrThrow(skopeo, single.ref, `docker://127.0.0.1:${privateUpstream.port}/team/app:v1`, { destCreds: `ci:${pusher}` });
  registry = await startRegistry({
    OCI_UPSTREAM: upstream.url,
    OCI_UPSTREAMS: `private=${privateUpstream.url}`,
    OCI_UPSTREAM_CREDENTIALS: `private=mirror:${reader}`,
    UPSTREAM_METADATA_TTL: "2",
    // An upstream 404 is remembered this long (shields, L1 and the mirror alike).
    NEGATIVE_TTL_SECONDS: "1",
    // A PoP's L1 keeps a tag this long before it asks its shield again.
    L1_METADATA_TTL: "1",
  });
}, 240_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), privateUpstream?.stop(), upstream?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const through = (repo: string, ref: string) => `docker://127.0.0.1:${registry.port}/${repo}${ref.startsWith("sha256:") ? "@" : ":"}${ref}`;

/** Every digest of a layout (index, manifests, configs, layers), sorted. */
const digests = (dir: string, tag: string) => layoutDigests(dir, tag).map((e) => `${e.kind} ${e.digest}`).sort();

/** Requests the upstream's access log shows for exactly this method and path. */
function upstreamHits(method: string, path: string): number {
  return upstream.output().split("\n").filter((line: string) => line.includes(`"${method} ${path} HTTP/`)).length;
}

async function pullThrough(repo: string, ref: string, extra: string[] = []) {
  const dir = tempDir("pkgedge-e2e-oci-upstream-pull-");
  const r = await skopeo.copy(through(repo, ref), `oci:${dir}:pulled`, { extra });
  return { dir, result: r };
}

describe("pull-through from docker-registry", () => {
  test("skopeo copy --all --preserve-digests of a multi-platform image gives identical digests", async () => {
    const { dir, result } = await pullThrough("library/demo", "multi", ["--all", "--preserve-digests"]);
    expect(result.code, describeRun("skopeo copy through pkgedge", result)).toBe(0);
    expect(digests(dir, "pulled")).toEqual(digests(multi.dir, multi.tag));
  });

  test("3 regions x 100 concurrent cold requests for one blob reach the upstream once", async () => {
    const layer = layoutDigests(single.dir, single.tag).find((e) => e.kind === "layer")!;
    const url = `${registry.url}/v2/library/herd/blobs/${layer.digest}`;
    const results = await Promise.all(REGIONS.flatMap((region) => Array.from({ length: 100 }, async () => {
      const res = await fetch(url, { headers: { "x-pkgedge-region": region } });
      return { status: res.status, size: (await res.arrayBuffer()).byteLength };
    })));
    expect(results.every((r) => r.status === 200 && r.size === layer.size)).toBe(true);
    expect(upstreamHits("GET", `/v2/library/herd/blobs/${layer.digest}`)).toBe(1);
  });

  test("a repository hosted here is never pulled through", async () => {
    const pusher = await registry.createToken({ name: "local-push", scopes: ["read", "publish"] });
    await copyOrThrow(skopeo, single.ref, through("library/local-only", "v1"), { destCreds: `ci:${pusher}` });
    const res = await fetch(`${registry.url}/v2/library/local-only/manifests/multi`, { headers: { accept: "application/vnd.oci.image.index.v1+json" } });
    expect(res.status).toBe(404);
    expect(upstreamHits("GET", "/v2/library/local-only/manifests/multi")).toBe(0);
  });
});

describe("tags that move upstream", () => {
  test("a tag pushed again upstream is served with its new digest within UPSTREAM_METADATA_TTL + L1_METADATA_TTL", async () => {
    const first = await fetch(`${registry.url}/v2/library/retag/manifests/v1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(first.status).toBe(404);
    await copyOrThrow(skopeo, single.ref, `docker://${upstream.host}/library/retag:v1`);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await fetch(`${registry.url}/v2/library/retag/manifests/v1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(before.headers.get("docker-content-digest")).toBe(single.digest);
    const moved = await buildImage(join(work, "moved"), { tag: "v1", layers: 1 });
    await copyOrThrow(skopeo, moved.ref, `docker://${upstream.host}/library/retag:v1`);
    await new Promise((r) => setTimeout(r, 3500));
    for (const region of REGIONS) {
      const after = await fetch(`${registry.url}/v2/library/retag/manifests/v1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json", "x-pkgedge-region": region } });
      expect(after.status).toBe(200);
      expect(after.headers.get("docker-content-digest")).toBe(moved.digest);
    }
  });
});

describe("an upstream with a Bearer token flow", () => {
  test("a prefix from OCI_UPSTREAMS pulls through the upstream's challenge and token endpoint", async () => {
    const { dir, result } = await pullThrough("private/team/app", "v1");
    expect(result.code, describeRun("skopeo copy through the private upstream", result)).toBe(0);
    expect(digests(dir, "pulled")).toEqual(digests(single.dir, single.tag));
  });

  test("containerd's ns= parameter names the prefix", async () => {
    const res = await fetch(`${registry.url}/v2/team/app/manifests/v1?ns=private`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(single.digest);
  });
});

describe("upstream outage", () => {
  test("with the upstream stopped, the image already pulled pulls again from a fresh client", async () => {
    await upstream.stop();
    await new Promise((r) => setTimeout(r, 3000));
    const fresh = new Skopeo(tempDir("pkgedge-e2e-oci-upstream-fresh-"));
    const dir = tempDir("pkgedge-e2e-oci-upstream-pull-");
    const r = await fresh.copy(through("library/demo", "multi"), `oci:${dir}:pulled`, { extra: ["--all", "--preserve-digests"] });
    expect(r.code, describeRun("skopeo copy with the upstream down", r)).toBe(0);
    expect(digests(dir, "pulled")).toEqual(digests(multi.dir, multi.tag));
    const never = await fetch(`${registry.url}/v2/library/never-pulled/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(never.status).toBe(503);
  });
});
