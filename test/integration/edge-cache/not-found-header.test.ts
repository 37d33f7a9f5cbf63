// A 404 answered through the tiers says where it came from, like every other answer: `MISS`
// when the origin was asked, `NEGATIVE` when a remembered not-found answered (README
// "x-pkgedge-cache"), for npm and OCI alike and in each protocol's error format.
import { beforeAll, expect, it } from "vitest";
import { publisher, randomImage } from "../../helpers/oci";
import { workerWith } from "../../helpers/worker";

const fetch = workerWith({});
const id = crypto.randomUUID().slice(0, 8);
const missingDigest = `sha256:${"0".repeat(56)}${id}`;
const otherDigest = `sha256:${"1".repeat(56)}${id}`;
const repo = `nf-${id}/app`;

beforeAll(async () => {
  // A repository that exists, so a missing manifest in it is MANIFEST_UNKNOWN, not NAME_UNKNOWN.
  await (await publisher(fetch)).pushImage(repo, "v1", await randomImage());
});

const cases: Array<{ what: string; path: string; method?: string; error?: unknown }> = [
  { what: "npm packument", path: `/npm/nf-${id}`, error: { error: `package nf-${id} not found` } },
  { what: "npm scoped packument", path: `/npm/@nf-${id}%2fpkg`, error: { error: `package @nf-${id}/pkg not found` } },
  // Another name: a tarball's 404 reports the read of its package's packument, which the cases
  // above already made a remembered not-found for nf-<id>.
  { what: "npm tarball", path: `/npm/nft-${id}/-/nft-${id}-1.0.0.tgz`, error: { error: `tarball nft-${id}/-/nft-${id}-1.0.0.tgz not found` } },
  { what: "OCI manifest of an unknown repository", path: `/v2/nf-${id}/none/manifests/latest`, error: { errors: [expect.objectContaining({ code: "NAME_UNKNOWN" })] } },
  { what: "OCI manifest by tag", path: `/v2/${repo}/manifests/v2`, error: { errors: [expect.objectContaining({ code: "MANIFEST_UNKNOWN" })] } },
  { what: "OCI manifest by digest", path: `/v2/${repo}/manifests/${missingDigest}`, error: { errors: [expect.objectContaining({ code: "MANIFEST_UNKNOWN" })] } },
  { what: "OCI blob", path: `/v2/${repo}/blobs/${missingDigest}`, error: { errors: [expect.objectContaining({ code: "BLOB_UNKNOWN" })] } },
  { what: "OCI blob HEAD", path: `/v2/${repo}/blobs/${otherDigest}`, method: "HEAD" },
];

it.each(cases)("$what: the first 404 says MISS, the next NEGATIVE", async ({ path, method = "GET", error }) => {
  for (const state of ["MISS", "NEGATIVE", "NEGATIVE"]) {
    const res = await fetch(path, { method });
    const body = method === "HEAD" ? undefined : await res.json();
    expect({ status: res.status, cache: res.headers.get("x-pkgedge-cache"), body }).toEqual({ status: 404, cache: state, body: error });
  }
});
