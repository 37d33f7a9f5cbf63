// Benchmarks pkgedge's upstream pull-through against the peers' own pull-through on this
// machine, in one run, with the upstream behind a fixed-latency proxy (250 ms each way): a cold
// and a warm `npm install` of a real tree through pkgedge (NPM_UPSTREAM) and through Verdaccio
// (uplink), and a cold and warm `skopeo copy` plus 50 concurrent cold pulls through pkgedge
// (OCI_UPSTREAM) and Debian's docker-registry (proxy mode). Upstream requests are counted at the
// proxy. Prints a table, writes bench-results/upstream.json and upstream.md. Loopback only.
// `node_modules/.bin/node scripts/bench-upstream.mjs --help` lists the options.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "./lib/dev-server.mjs";
import { benchmark, number, text } from "./lib/bench/cli.mjs";
import { onCleanup } from "./lib/bench/cleanup.mjs";
import { loadCorpus } from "./lib/bench/corpus.mjs";
import { measureNpmUpstream } from "./lib/bench/upstream-npm.mjs";
import { measureOciUpstream } from "./lib/bench/upstream-oci.mjs";
import { buildUpstreamReport } from "./lib/bench/upstream-report.mjs";
import { ensureVerdaccio } from "./lib/bench/verdaccio.mjs";

const { args, log, run } = benchmark({
  name: "upstream",
  about: "pkgedge's npm and OCI pull-through against Verdaccio's uplink and docker-registry's proxy mode, upstream behind a fixed latency.",
  steps: ["npm", "oci"],
  options: {
    latency: number(250, 0, 5000, "ms the proxy adds each way (request and answer)"),
    top: text("express", "the package whose dependency tree is installed"),
    "npm-variants": text("pkgedge,verdaccio,pkgedge-noprefetch", "registries installed through (pkgedge-noprefetch: PREFETCH=false)"),
    "prefetch-depth": text("", "PREFETCH_DEPTH for pkgedge (empty: the default)"),
    "prefetch-fanout": text("", "PREFETCH_FANOUT for pkgedge (empty: the default)"),
    "oci-variants": text("pkgedge,docker-registry", "registries pulled through"),
    layers: text("4096,2048,1024,512,256", "KiB of each image layer"),
    clients: number(50, 1, 200, "concurrent cold pulls of the herd image"),
    "herd-deadline": number(120, 5, 900, "seconds after which unfinished herd pulls are stopped (and count as failed)"),
  },
});

const pkgedgeVars = {
  ...(args["prefetch-depth"] ? { PREFETCH_DEPTH: args["prefetch-depth"] } : {}),
  ...(args["prefetch-fanout"] ? { PREFETCH_FANOUT: args["prefetch-fanout"] } : {}),
};
const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

await run(async ({ results, step }) => {
  results.options = { ...results.options, pkgedgeVars };
  const benchDir = join(projectRoot, "bench-results");
  await step("npm", "1. npm install through each pull-through, cold then warm", async () => {
    const corpus = await loadCorpus({ dir: join(benchDir, "corpus"), top: args.top, log });
    const verdaccioDir = join(benchDir, "verdaccio");
    log(`verdaccio ${ensureVerdaccio(verdaccioDir, log)} installed`);
    return measureNpmUpstream({ corpus, verdaccioDir, delayMs: args.latency, variants: list(args["npm-variants"]), pkgedgeVars, log });
  });
  await step("oci", "2. skopeo copy and a herd of pulls through each pull-through", async () => {
    const work = mkdtempSync(join(tmpdir(), "pkgedge-bench-upstream-oci-"));
    onCleanup(() => rmSync(work, { recursive: true, force: true }));
    return measureOciUpstream({ work, delayMs: args.latency, layerSizes: list(args.layers).map((k) => Number(k) * 1024), clients: args.clients, herdDeadlineS: args["herd-deadline"], variants: list(args["oci-variants"]), pkgedgeVars, log });
  });
}, {
  report: buildUpstreamReport,
  markdown: (results, report) => `# Pull-through benchmark (${results.startedAt})\n\n${report}\n`,
});
