// CPU profile of the Worker under wrangler dev, taken through its V8 inspector while one workload
// runs: where a request's CPU goes, which workerd's frozen clock hides (timers advance only on
// I/O, so timing code inside the Worker sees no CPU). Prints the functions with the most self
// time and writes a .cpuprofile that Chrome DevTools opens.
//   node_modules/.bin/node scripts/profile.mjs --workload=publish --count=200
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
// Node's own WebSocket fails wrangler's inspector handshake; ws (which wrangler itself depends on) passes it.
import WebSocket from "ws";
import { freePort, projectRoot, randomSecret, startWrangler } from "./lib/dev-server.mjs";
import { findWorkerSocket } from "./lib/bench/workerd-socket.mjs";
import { buildPublishDoc } from "./lib/bench/npm-publish.mjs";
import { smallTarball } from "./lib/bench/synthetic.mjs";

const { values: args } = parseArgs({
  options: {
    workload: { type: "string", default: "publish" },
    count: { type: "string", default: "200" },
    top: { type: "string", default: "30" },
    // oci-push: the size of each blob pushed.
    "blob-kib": { type: "string", default: "16" },
    out: { type: "string", default: join(projectRoot, "bench-results", "profile.cpuprofile") },
  },
});
const count = Number(args.count);

/** Each workload: a setup, then one request at a time, `count` times. */
const workloads = {
  async publish(base, token) {
    const stamp = Date.now().toString(36);
    return async (i) => {
      const manifest = { name: `profile-${stamp}-${i}`, version: "1.0.0", description: "small", main: "index.js", license: "MIT" };
      const r = await fetch(`${base}/npm/${manifest.name}`, {
        method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(buildPublishDoc(`${base}/npm/`, [{ manifest, tgz: await smallTarball(manifest) }])),
      });
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`publish answered ${r.status}`);
    };
  },
  async packument(base, token) {
    const manifest = { name: `profile-read-${Date.now().toString(36)}`, version: "1.0.0", description: "small", main: "index.js", license: "MIT" };
    const put = await fetch(`${base}/npm/${manifest.name}`, {
      method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(buildPublishDoc(`${base}/npm/`, [{ manifest, tgz: await smallTarball(manifest) }])),
    });
    if (put.status !== 201) throw new Error(`publish answered ${put.status}`);
    return async () => {
      const r = await fetch(`${base}/npm/${manifest.name}`, { headers: { authorization: `Bearer ${token}`, accept: "application/vnd.npm.install-v1+json" } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`packument answered ${r.status}`);
    };
  },
};
/** Basic auth as skopeo sends it after the token flow would (the admin secret as the password). */
const basic = (token) => `Basic ${Buffer.from(`profile:${token}`).toString("base64")}`;
const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** One blob pushed as skopeo pushes one: HEAD (exists?), POST, PATCH with the bytes, PUT ?digest=. */
async function pushBlobLikeSkopeo(base, auth, repo, bytes, times) {
  const digest = sha256(bytes);
  const step = async (label, url, init) => {
    const started = performance.now();
    const r = await fetch(url, { ...init, headers: { authorization: auth, ...init.headers } });
    await r.arrayBuffer();
    times[label] = (times[label] ?? 0) + performance.now() - started;
    return r;
  };
  await step("HEAD blob", `${base}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
  const opened = await step("POST", `${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  const location = opened.headers.get("location");
  const patched = await step("PATCH", `${base}${location}`, { method: "PATCH", headers: { "content-type": "application/octet-stream" }, body: bytes });
  const url = new URL(patched.headers.get("location"), base);
  url.searchParams.set("digest", digest);
  const put = await step("PUT", url.href, { method: "PUT", headers: { "content-length": "0" } });
  if (put.status !== 201) throw new Error(`blob PUT answered ${put.status}`);
  return { digest, size: bytes.byteLength };
}

/** A small image (config + one layer) tagged `latest` in `repo`; returns the manifest's digest. */
async function pushImage(base, auth, repo) {
  const config = await pushBlobLikeSkopeo(base, auth, repo, Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" })), {});
  const layer = await pushBlobLikeSkopeo(base, auth, repo, randomBytes(4096), {});
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
  });
  const r = await fetch(`${base}/v2/${repo}/manifests/latest`, { method: "PUT", headers: { authorization: auth, "content-type": "application/vnd.oci.image.manifest.v1+json" }, body: manifest });
  await r.arrayBuffer();
  if (r.status !== 201) throw new Error(`manifest PUT answered ${r.status}`);
  return sha256(Buffer.from(manifest));
}

const MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json";

/** Anonymous manifest GETs (as the OCI benchmark makes them), by tag or by digest. */
function ociManifest(byDigest) {
  return async (base, token) => {
    const repo = `profile/read-${Date.now().toString(36)}`;
    const digest = await pushImage(base, basic(token), repo);
    const url = `${base}/v2/${repo}/manifests/${byDigest ? digest : "latest"}`;
    return async () => {
      const r = await fetch(url, { headers: { accept: MANIFEST_ACCEPT } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`manifest GET answered ${r.status}`);
    };
  };
}

workloads["oci-manifest"] = ociManifest(false);
workloads["oci-manifest-digest"] = ociManifest(true);
/** Small blobs pushed to a new repository each, as skopeo does; prints the time of each request. */
workloads["oci-push"] = async (base, token) => {
  const stamp = Date.now().toString(36);
  const times = {};
  let n = 0;
  process.on("exit", () => {
    if (n > 0) console.log(`per request at the client: ${Object.entries(times).map(([k, v]) => `${k} ${(v / n).toFixed(1)} ms`).join(", ")}`);
  });
  return async (i) => {
    if (i === 0) for (const k of Object.keys(times)) delete times[k];
    if (i === 0) n = 0;
    await pushBlobLikeSkopeo(base, basic(token), `profile/push-${stamp}-${i}`, randomBytes(Number(args["blob-kib"]) * 1024), times);
    n++;
  };
};

if (!workloads[args.workload]) throw new Error(`--workload is one of ${Object.keys(workloads).join(", ")}`);

const inspectorPort = await freePort();
const adminToken = `admin-${randomSecret(32)}`;
const server = await startWrangler({ args: ["--inspector-port", String(inspectorPort)], vars: { DEV_MODE: "true", PKGEDGE_ADMIN_TOKEN: adminToken } });
try {
  const base = (await findWorkerSocket(server.child.pid)) ?? server.url;
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let nextId = 1;
  const pending = new Map();
  const scripts = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.method === "Debugger.scriptParsed" && msg.params.url) scripts.set(msg.params.url, msg.params.scriptId);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  const send = (method, params = {}) => new Promise((resolve) => { const id = nextId++; pending.set(id, resolve); ws.send(JSON.stringify({ id, method, params })); });

  const step = await workloads[args.workload](base, adminToken);
  for (let i = 0; i < 20; i++) await step(1_000_000 + i); // warm the isolate first
  // The bundle's source, so the line numbers of the report can be read.
  await send("Debugger.enable");
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const started = performance.now();
  for (let i = 0; i < count; i++) await step(i);
  const wallMs = performance.now() - started;
  const { result } = await send("Profiler.stop");
  writeFileSync(args.out, JSON.stringify(result.profile));
  for (const [url, scriptId] of scripts) {
    if (!url.endsWith("index.js")) continue;
    const { result: source } = await send("Debugger.getScriptSource", { scriptId });
    writeFileSync(args.out.replace(/\.cpuprofile$/, ".bundle.js"), source.scriptSource);
  }

  const { nodes, samples, timeDeltas } = result.profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]);
    const f = n.callFrame;
    const label = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    self.set(label, (self.get(label) ?? 0) + (timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([k]) => k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
  console.log(`${args.workload}: ${count} requests in ${wallMs.toFixed(0)} ms (${(wallMs / count).toFixed(1)} ms each at the client); ` +
    `Worker isolate busy ${((total - idle) / 1000 / count).toFixed(2)} ms per request`);
  for (const [label, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
    console.log(`${(us / 1000 / count).toFixed(3).padStart(8)} ms/req ${((100 * us) / total).toFixed(1).padStart(5)}%  ${label}`);
  }
  // Inclusive time: each function counted once per sample it is on the stack of.
  const parent = new Map();
  for (const n of nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const inclusive = new Map();
  for (let i = 0; i < samples.length; i++) {
    if (byId.get(samples[i]).callFrame.functionName === "(idle)") continue;
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      const label = `${f.functionName || "(anonymous)"} :${f.lineNumber + 1}`;
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + (timeDeltas[i] ?? 0));
    }
  }
  console.log("\ninclusive (callees counted in):");
  for (const [label, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
    console.log(`${(us / 1000 / count).toFixed(3).padStart(8)} ms/req  ${label}`);
  }
  ws.close();
  console.log(`profile: ${args.out} (the bundle its line numbers refer to beside it, .bundle.js)`);
} finally {
  await server.stop();
}
