// A 256 MiB layer through the chunked upload (end-4a, end-5, end-13, end-6) and back (end-2, whole
// and ranged), with a small fetch client, while watching the memory of the workerd processes of
// `wrangler dev`: the layer must stream through the Worker, never sit in its memory.
//
// OCI_E2E_REFERENCE=1 runs it against Debian's docker-registry instead (watching that process):
// it proves the client and the memory probe, and gives the reference's figures.
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startDockerRegistry } from "../../scripts/lib/bench/docker-registry.mjs";
import { startRegistry } from "./helpers";

const MiB = 1024 * 1024;
/** 256 MiB (268 MB) plus an odd tail, so the last chunk is not a multiple of anything. */
const LAYER_BYTES = 256 * MiB + 12_345;
/** Client chunk size, like containerd's and the docker client's PATCH sizes. */
const CHUNK_BYTES = 32 * MiB;
/**
 * Allowed RSS growth of each workerd process over its warmed-up baseline (see the warm-up in
 * beforeAll) while the layer goes through. Calibrated on this machine kind under
 * `wrangler dev`: a trivial Worker that streams a 200 MiB request body into R2 multipart parts
 * grows ~30 MiB after the same warm-up, and 60-70 MiB when it streams the object back in 8 MiB
 * ranged R2 reads. pkgedge, which adds a 32 MiB PATCH chunk, parts in flight and the L1 fill,
 * measured 93-103 MiB pushing and 80-88 MiB pulling this layer (3 runs; 72-84 and 81-92 MiB
 * for a 200 MiB one: pushes grow a little with size, probably garbage not yet collected). A
 * server that holds the whole layer must grow by at least the layer minus the warm-up
 * (208 MiB; the first implementation, which relayed one R2 stream over DO RPC, grew 300-350
 * MiB pulling 200 MiB). 144 MiB, just over half the layer, leaves 40+ MiB each side.
 * Beware: the same trivial Worker streaming the object back from ONE R2 get (directly or from
 * a Durable Object) grows ~150 MiB, as local R2 reads ahead of the client, so under wrangler dev
 * only bounded reads (e.g. 8 MiB ranged gets pulled as the client reads) stay under the bound.
 */
const MAX_RSS_GROWTH = 144 * MiB;
const REPO = "e2e/large";

const reference = process.env.OCI_E2E_REFERENCE === "1";
let registry: { url: string; stop(): Promise<void>; servingPids(): number[] };
let auth = "";
const key = randomBytes(32);

beforeAll(async () => {
  if (reference) {
    const server = await startDockerRegistry();
    registry = { url: server.url, stop: server.stop, servingPids: () => [server.pid] };
    return;
  }
  const pkgedge = await startRegistry();
  registry = { url: pkgedge.url, stop: pkgedge.stop, servingPids: () => workerdPids(pkgedge.port) };
  const token = await pkgedge.createToken({ name: "oci-large", scopes: ["read", "publish"] });
  auth = `Basic ${Buffer.from(`ci:${token}`).toString("base64")}`;
});
afterAll(() => registry?.stop());

/** Headers with the credentials (none for the reference, which has no auth). */
const withAuth = (h: Record<string, string> = {}): Record<string, string> => (auth ? { ...h, authorization: auth } : h);

// ---- the layer: AES-256-CTR keystream, so any byte range can be regenerated without the rest ----

/** The layer's bytes [offset, offset + length). */
function layerBytes(offset: number, length: number): Buffer {
  const block = Math.floor(offset / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  const skip = offset - block * 16;
  return cipher.update(Buffer.alloc(skip + length)).subarray(skip);
}

// ---- memory of the workerd processes that serve the Worker ----

function procStat(pid: number): { ppid: number; comm: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    return { ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), comm };
  } catch {
    return null;
  }
}

/** The workerd processes started by the `wrangler dev` that listens on `port`. */
function workerdPids(port: number): number[] {
  const all = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).map(Number);
  const wrangler = all.filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return args.some((a) => a.endsWith("wrangler-dist/cli.js")) && args[args.indexOf("--port") + 1] === String(port);
    } catch {
      return false;
    }
  });
  const family = new Set(wrangler);
  for (let grew = true; grew;) {
    grew = false;
    for (const pid of all) {
      const s = procStat(pid);
      if (s && !family.has(pid) && family.has(s.ppid)) {
        family.add(pid);
        grew = true;
      }
    }
  }
  return [...family].filter((pid) => procStat(pid)?.comm === "workerd");
}

/** RSS in bytes; throws a clear error when the process is gone (wrangler dev restarts workerd
 * when the Worker's sources change, which would make any figure meaningless). */
function rssBytes(pid: number): number {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    // gone
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`process ${pid} exited during the measurement (wrangler dev restarts workerd when sources change): rerun`);
  return Number(m[1]) * 1024;
}

/** Polls the RSS of each process every 50 ms; stop() gives each one's peak growth over `baseline`. */
function watchRss(pids: number[]) {
  const baseline = new Map(pids.map((p) => [p, rssBytes(p)]));
  const peak = new Map(baseline);
  let lost: Error | null = null;
  const timer = setInterval(() => {
    try {
      for (const p of pids) peak.set(p, Math.max(peak.get(p)!, rssBytes(p)));
    } catch (err) {
      lost = err as Error;
      clearInterval(timer);
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      if (lost) throw lost;
      for (const p of pids) peak.set(p, Math.max(peak.get(p)!, rssBytes(p)));
      return pids.map((pid) => ({ pid, baselineMiB: +(baseline.get(pid)! / MiB).toFixed(1), growthMiB: +((peak.get(pid)! - baseline.get(pid)!) / MiB).toFixed(1) }));
    },
  };
}

// ---- a minimal OCI push/pull client ----

const v2 = (path: string) => `${registry.url}/v2/${REPO}${path}`;

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(Object.fromEntries(res.headers))} ${await res.text()}`);
  return res;
}

/** Chunked upload (end-4a, end-5 with Content-Range, end-6); returns the digest the client computed. */
async function pushLayer(size: number): Promise<string> {
  const start = await expectStatus(await fetch(v2("/blobs/uploads/"), { method: "POST", headers: withAuth() }), 202, "POST /blobs/uploads/");
  let location = new URL(start.headers.get("location")!, registry.url).href;
  const hash = createHash("sha256");
  for (let offset = 0; offset < size; offset += CHUNK_BYTES) {
    const chunk = layerBytes(offset, Math.min(CHUNK_BYTES, size - offset));
    hash.update(chunk);
    const res = await expectStatus(await fetch(location, {
      method: "PATCH",
      headers: withAuth({ "content-type": "application/octet-stream", "content-range": `${offset}-${offset + chunk.length - 1}` }),
      body: chunk,
    }), 202, `PATCH at ${offset}`);
    await res.arrayBuffer();
    expect(res.headers.get("range")).toBe(`0-${offset + chunk.length - 1}`);
    location = new URL(res.headers.get("location")!, registry.url).href;
    if (offset === CHUNK_BYTES) {
      // end-13 in the middle of the upload: the server reports what it holds so far.
      const status = await expectStatus(await fetch(location, { headers: withAuth() }), 204, "GET upload status");
      expect(status.headers.get("range")).toBe(`0-${offset + chunk.length - 1}`);
    }
  }
  const digest = `sha256:${hash.digest("hex")}`;
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  const done = await expectStatus(await fetch(url, { method: "PUT", headers: withAuth() }), 201, "PUT ?digest=");
  expect(done.headers.get("docker-content-digest")).toBe(digest);
  return digest;
}

/** Streams GET /blobs/<digest> and hashes it as it arrives (never holding the body). */
async function pullLayer(digest: string): Promise<{ digest: string; bytes: number; contentLength: string | null }> {
  const res = await expectStatus(await fetch(v2(`/blobs/${digest}`), { headers: withAuth() }), 200, "GET blob");
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, bytes, contentLength: res.headers.get("content-length") };
}

/** What the tests share: the big layer once pushed, and the pushing test's memory figures. */
let pushed: { digest: string; pids: number[] } | null = null;

/** One line a measurement, for the report and for calibrating the bound below. */
function report(what: string, ms: number, mem: Array<{ pid: number; baselineMiB: number; growthMiB: number }>) {
  console.log(`${what} (${LAYER_BYTES} B): ${ms} ms; RSS growth over baseline (MiB) ${JSON.stringify(mem)}`);
}

function expectBounded(what: string, mem: Array<{ pid: number; baselineMiB: number; growthMiB: number }>) {
  for (const m of mem) {
    expect(m.growthMiB * MiB, `${what}: ${reference ? "docker-registry" : "workerd"} ${m.pid} RSS growth (all: ${JSON.stringify(mem)})`).toBeLessThan(MAX_RSS_GROWTH);
  }
}

beforeAll(async () => {
  // Warm-up: a 48 MiB layer (several chunks and R2 parts) pushed and pulled first. Runtimes grow
  // their heaps and allocator pools to a steady size on the first large transfer whatever its
  // size (a trivial streaming Worker under wrangler dev gains ~180 MiB on its first 100 MiB
  // upload and about as much on a 400 MiB one); after this, growth is what the big layer
  // itself costs. The warm-up stays well under the layer, so a server that buffers whole
  // layers still has to grow by the difference.
  const warm = await pushLayer(48 * MiB + 7);
  expect((await pullLayer(warm)).digest).toBe(warm);
}, 300_000);

test("end-4a/5/13/6: a 256 MiB layer pushed in 32 MiB chunks streams into storage", { timeout: 600_000 }, async () => {
  const pids = registry.servingPids();
  expect(pids.length, "processes serving the registry").toBeGreaterThan(0);
  const watch = watchRss(pids);
  const t0 = Date.now();
  const digest = await pushLayer(LAYER_BYTES);
  const mem = watch.stop();
  report("push", Date.now() - t0, mem);
  pushed = { digest, pids };
  expectBounded("push", mem);
});

test("end-2: the 256 MiB layer streams back whole with its digest, Content-Length and bounded memory", { timeout: 600_000 }, async () => {
  expect(pushed, "the push test stored the layer").not.toBeNull();
  const watch = watchRss(pushed!.pids);
  const t0 = Date.now();
  const pulled = await pullLayer(pushed!.digest);
  const mem = watch.stop();
  report("pull (first, fills the caches)", Date.now() - t0, mem);
  expect(pulled).toEqual({ digest: pushed!.digest, bytes: LAYER_BYTES, contentLength: String(LAYER_BYTES) });
  expectBounded("pull", mem);
});

test("end-2: ranges of the 256 MiB layer and HEAD answer with the right bytes and lengths, before and after a whole read", { timeout: 600_000 }, async () => {
  expect(pushed, "the push test stored the layer").not.toBeNull();
  const { digest } = pushed!;
  // A range across the boundary between the client's 3rd and 4th chunks, and the last bytes.
  const from = 3 * CHUNK_BYTES - 1000;
  const to = from + MiB + 499;
  const cases: Array<[string, number, number]> = [[`bytes=${from}-${to}`, from, to], ["bytes=-4096", LAYER_BYTES - 4096, LAYER_BYTES - 1]];
  // Twice each: the second time the blob has been read whole (by the test before) and may be
  // served from a cache tier, which must keep the object's length.
  for (let round = 0; round < 2; round++) {
    for (const [range, a, b] of cases) {
      const res = await expectStatus(await fetch(v2(`/blobs/${digest}`), { headers: withAuth({ range }) }), 206, `GET ${range} (round ${round + 1})`);
      expect(res.headers.get("content-range"), `${range} round ${round + 1}`).toBe(`bytes ${a}-${b}/${LAYER_BYTES}`);
      const part = Buffer.from(await res.arrayBuffer());
      expect(part.length).toBe(b - a + 1);
      expect(part.equals(layerBytes(a, b - a + 1)), `bytes of ${range}`).toBe(true);
    }
    const head = await expectStatus(await fetch(v2(`/blobs/${digest}`), { method: "HEAD", headers: withAuth() }), 200, "HEAD blob");
    expect(head.headers.get("content-length"), `HEAD round ${round + 1} (x-pkgedge-cache ${head.headers.get("x-pkgedge-cache")})`).toBe(String(LAYER_BYTES));
    if (round === 0) await pullLayer(digest);
  }
});
