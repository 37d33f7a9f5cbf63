// Real OCI image layouts for the OCI end-to-end tests (built with umoci, plus a multi-platform
// index written by hand since umoci cannot), the digests a layout holds, and a skopeo runner.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../../scripts/lib/dev-server.mjs";
import { describeRun, run, type RunResult } from "./helpers";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const REF_NAME = "org.opencontainers.image.ref.name";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** One tagged image (or index) inside an OCI layout directory. */
export interface OciImage {
  /** The layout directory. */
  dir: string;
  tag: string;
  /** What skopeo calls it: `oci:<dir>:<tag>`. */
  ref: string;
  /** The digest of the top manifest (or index) the tag names. */
  digest: string;
  mediaType: string;
}

/** A fresh temp directory; the caller removes it (or its parent) when done. */
export function tempDir(prefix = "pkgedge-oci-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

async function mustRun(cmd: string, args: string[], cwd: string): Promise<RunResult> {
  const r = await run(cmd, args, { cwd, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(describeRun(`${cmd} ${args.join(" ")}`, r));
  return r;
}

// umoci refuses to set file owners it cannot map when not root; --rootless maps them to us.
const rootless = () => (process.getuid?.() === 0 ? [] : ["--rootless"]);

export interface ImageSpec {
  tag?: string;
  /** Number of layers, each one `umoci insert` of a directory of random files. */
  layers?: number;
  filesPerLayer?: number;
  bytesPerFile?: number;
  os?: string;
  architecture?: string;
}

/**
 * Builds a multi-layer image with umoci into `dir` (created as an OCI layout if it is not one
 * yet): `umoci new`, then one `umoci insert` a layer, each of a directory of random files
 * (incompressible, so each gzip layer is about as large as its files). Random content makes
 * every build a distinct image.
 */
export async function buildImage(dir: string, spec: ImageSpec = {}): Promise<OciImage> {
  const { tag = "latest", layers = 3, filesPerLayer = 3, bytesPerFile = 64 * 1024, os = "linux", architecture = "amd64" } = spec;
  mkdirSync(dir, { recursive: true });
  let isLayout = true;
  try {
    readFileSync(join(dir, "oci-layout"));
  } catch {
    isLayout = false;
  }
  if (!isLayout) {
    rmSync(dir, { recursive: true, force: true });
    await mustRun("umoci", ["init", "--layout", dir], tmpdir());
  }
  const image = `${dir}:${tag}`;
  await mustRun("umoci", ["new", "--image", image], tmpdir());
  await mustRun("umoci", ["config", ...rootless(), "--image", image, "--os", os, "--architecture", architecture,
    "--config.cmd", "/bin/true", "--no-history"], tmpdir());
  const scratch = tempDir("pkgedge-oci-layer-");
  try {
    for (let i = 0; i < layers; i++) {
      const src = join(scratch, `layer-${i}`);
      mkdirSync(src);
      for (let f = 0; f < filesPerLayer; f++) writeFileSync(join(src, `file-${f}.bin`), randomBytes(bytesPerFile));
      writeFileSync(join(src, "id"), `${tag} ${os}/${architecture} layer ${i} ${randomBytes(8).toString("hex")}\n`);
      await mustRun("umoci", ["insert", ...rootless(), "--image", image, src, `/data/layer-${i}`], tmpdir());
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // `umoci config` and each insert leave the previous manifest and config behind as garbage.
  await mustRun("umoci", ["gc", "--layout", dir], tmpdir());
  const top = taggedDescriptor(dir, tag);
  return { dir, tag, ref: `oci:${dir}:${tag}`, digest: top.digest, mediaType: top.mediaType };
}

/** Builds one image whose only layer holds a single random file of `bytes` bytes. */
export function buildImageWithLayer(dir: string, bytes: number, tag = "latest"): Promise<OciImage> {
  return buildImage(dir, { tag, layers: 1, filesPerLayer: 1, bytesPerFile: bytes });
}

/** Writes a blob into the layout's content store and returns its descriptor. */
function writeBlob(dir: string, mediaType: string, bytes: Buffer): Descriptor {
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

function readIndexJson(dir: string): { schemaVersion: number; manifests: Descriptor[] } {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
}

/** The descriptor `index.json` gives for `tag` (skopeo's oci: transport names refs the same way). */
export function taggedDescriptor(dir: string, tag: string): Descriptor {
  const found = readIndexJson(dir).manifests.filter((m) => m.annotations?.[REF_NAME] === tag);
  if (found.length !== 1) throw new Error(`${dir}: ${found.length} entries tagged ${tag} in index.json`);
  return found[0]!;
}

/**
 * A multi-platform image: a linux/amd64 and a linux/arm64 image built with umoci, tied by an OCI
 * image index (written here: umoci builds single images only) tagged `tag` in the same layout.
 */
export async function buildMultiPlatform(dir: string, tag = "multi", spec: Omit<ImageSpec, "tag" | "os" | "architecture"> = {}): Promise<OciImage & { children: OciImage[] }> {
  const children: OciImage[] = [];
  for (const architecture of ["amd64", "arm64"]) {
    children.push(await buildImage(dir, { layers: 2, filesPerLayer: 2, bytesPerFile: 32 * 1024, ...spec, tag: `${tag}-${architecture}`, architecture, os: "linux" }));
  }
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: children.map((c) => {
      const d = taggedDescriptor(dir, c.tag);
      const arch = c.tag.slice(tag.length + 1);
      return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: { os: "linux", architecture: arch } };
    }),
  };
  const desc = writeBlob(dir, OCI_INDEX, Buffer.from(JSON.stringify(index)));
  const layout = readIndexJson(dir);
  layout.manifests = layout.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  layout.manifests.push({ ...desc, annotations: { [REF_NAME]: tag } });
  writeFileSync(join(dir, "index.json"), JSON.stringify(layout));
  return { dir, tag, ref: `oci:${dir}:${tag}`, digest: desc.digest, mediaType: OCI_INDEX, children };
}

export type BlobKind = "index" | "manifest" | "config" | "layer";

export interface LayoutEntry {
  kind: BlobKind;
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * Every content-addressed object the tag reaches, in a stable order: the index (if the tag
 * names one), each manifest, its config and its layers. Checks that each blob on disk has the
 * digest and size its descriptor claims, so a comparison of two lists compares real bytes.
 */
export function layoutDigests(dir: string, tag: string): LayoutEntry[] {
  const out: LayoutEntry[] = [];
  const blob = (d: Descriptor): Buffer => {
    const [alg, hex] = d.digest.split(":");
    const bytes = readFileSync(join(dir, "blobs", alg!, hex!));
    const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (actual !== d.digest || bytes.length !== d.size) {
      throw new Error(`${dir}: blob ${d.digest} (${d.size} B) holds ${actual} (${bytes.length} B)`);
    }
    return bytes;
  };
  const walk = (d: Descriptor) => {
    const doc = JSON.parse(blob(d).toString("utf8")) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    if (doc.manifests) {
      out.push({ kind: "index", digest: d.digest, mediaType: d.mediaType, size: d.size });
      for (const m of doc.manifests) walk(m);
      return;
    }
    out.push({ kind: "manifest", digest: d.digest, mediaType: d.mediaType, size: d.size });
    if (doc.config) {
      blob(doc.config);
      out.push({ kind: "config", digest: doc.config.digest, mediaType: doc.config.mediaType, size: doc.config.size });
    }
    for (const l of doc.layers ?? []) {
      blob(l);
      out.push({ kind: "layer", digest: l.digest, mediaType: l.mediaType, size: l.size });
    }
  };
  walk(taggedDescriptor(dir, tag));
  return out;
}

/** The parsed manifest (or index) blob a descriptor points to. */
export function readManifest(dir: string, digest: string): { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; mediaType?: string } {
  const [alg, hex] = digest.split(":");
  return JSON.parse(readFileSync(join(dir, "blobs", alg!, hex!), "utf8"));
}

// ---- skopeo ----

/**
 * Runs skopeo with its own policy (accept anything: these are local test images), empty
 * registries.conf and auth file, and a throwaway HOME, so nothing from the machine's container
 * configuration (stored credentials, mirrors) takes part. One thing stays shared: skopeo's
 * blob-info cache (machine-wide for root), so a push of a blob skopeo has already pushed to
 * another repository of the same registry first tries a cross-repository mount (end-11).
 */
export class Skopeo {
  readonly home: string;
  private readonly policy: string;
  private readonly registriesConf: string;
  private readonly authFile: string;

  constructor(root: string) {
    this.home = join(root, "skopeo-home");
    mkdirSync(this.home, { recursive: true });
    this.policy = join(this.home, "policy.json");
    writeFileSync(this.policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    this.registriesConf = join(this.home, "registries.conf");
    writeFileSync(this.registriesConf, "unqualified-search-registries = []\n");
    this.authFile = join(this.home, "auth.json");
    writeFileSync(this.authFile, "{}\n");
  }

  run(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    const env = cleanEnv({ HOME: this.home, REGISTRY_AUTH_FILE: this.authFile, CONTAINERS_REGISTRIES_CONF: this.registriesConf,
      XDG_RUNTIME_DIR: this.home, XDG_CONFIG_HOME: this.home, NO_COLOR: "1" });
    delete env.DOCKER_CONFIG;
    return run("skopeo", ["--policy", this.policy, "--tmpdir", this.home, ...args], { cwd: this.home, env, timeoutMs });
  }

  /** `skopeo copy src dest` to/from a plain-HTTP loopback registry. */
  copy(src: string, dest: string, opts: { srcCreds?: string; destCreds?: string; extra?: string[] } = {}): Promise<RunResult> {
    const args = ["copy", "--retry-times", "0"];
    if (src.startsWith("docker://")) args.push("--src-tls-verify=false");
    if (dest.startsWith("docker://")) args.push("--dest-tls-verify=false");
    if (opts.srcCreds) args.push("--src-creds", opts.srcCreds);
    if (opts.destCreds) args.push("--dest-creds", opts.destCreds);
    return this.run([...args, ...(opts.extra ?? []), src, dest]);
  }

  /** Runs `skopeo <cmd>` (inspect, list-tags, delete) against a plain-HTTP loopback registry. */
  remote(cmd: "inspect" | "list-tags" | "delete", ref: string, opts: { creds?: string; extra?: string[] } = {}): Promise<RunResult> {
    const args = [cmd, "--retry-times", "0", "--tls-verify=false"];
    if (opts.creds) args.push("--creds", opts.creds);
    return this.run([...args, ...(opts.extra ?? []), ref]);
  }
}

/** `skopeo copy` and throw with its output when it fails. */
export async function copyOrThrow(skopeo: Skopeo, src: string, dest: string, opts: Parameters<Skopeo["copy"]>[2] = {}): Promise<RunResult> {
  const r = await skopeo.copy(src, dest, opts);
  if (r.code !== 0) throw new Error(describeRun(`skopeo copy ${src} ${dest}`, r));
  return r;
}
