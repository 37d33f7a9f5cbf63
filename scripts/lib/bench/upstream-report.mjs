// Turns the pull-through benchmark's results into its printed tables: pkgedge against
// Verdaccio's uplink (npm) and docker-registry's proxy mode (OCI), times and upstream requests
// counted at the latency proxy, and the issue's goals checked against the same run.
import { machineNotes } from "./report.mjs";
import { comparisonRow, formatBytes, markdownTable } from "./stats.mjs";

const row = (measure, a, b, better, peer) => comparisonRow(measure, a, b, better, ["pkgedge", peer]);
const failed = (phase) => (phase && !phase.ok ? "FAILED" : undefined);
const num = (phase, v) => failed(phase) ?? v;

function npmRows(npm) {
  const p = npm.runs.pkgedge;
  const v = npm.runs.verdaccio;
  const tree = `${npm.spec} (${npm.treePackages} packages)`;
  const rows = [];
  for (const phase of ["cold", "warm"]) {
    const what = phase === "cold" ? "empty caches, fresh client" : "second clean client, caches warm";
    rows.push(row(`npm install ${tree}, upstream ${npm.delayMsEachWay} ms each way, ${what}: s`, num(p?.[phase], p?.[phase]?.seconds), num(v?.[phase], v?.[phase]?.seconds), "lower", "verdaccio"));
    rows.push(row(`same, ${phase}: upstream requests (packuments + tarballs)`, p?.[phase]?.upstream.total, v?.[phase]?.upstream.total, "lower", "verdaccio"));
  }
  return rows;
}

function ociRows(oci) {
  const p = oci.runs.pkgedge;
  const d = oci.runs["docker-registry"];
  const img = `${oci.image.layers.length}-layer image (${formatBytes(oci.image.totalBytes)})`;
  const P = "docker-registry";
  const rows = [];
  for (const phase of ["cold", "warm"]) {
    rows.push(row(`skopeo copy of a ${img}, upstream ${oci.delayMsEachWay} ms each way, ${phase}: s`, num(p?.[phase], p?.[phase]?.seconds), num(d?.[phase], d?.[phase]?.seconds), "lower", P));
    rows.push(row(`same, ${phase}: upstream requests`, p?.[phase]?.upstream.total, d?.[phase]?.upstream.total, "lower", P));
  }
  const h = (x) => x?.herd;
  // A herd that did not all finish has no slowest pull: say how many finished by the deadline.
  const slowest = (x) => (!x ? undefined : x.ok ? x.pullMs.max / 1000 : `> ${x.deadlineSeconds ?? "?"} (${x.succeeded}/${oci.clients} done)`);
  rows.push(row(`${oci.clients} concurrent cold pulls of another ${img}: slowest s`, slowest(h(p)), slowest(h(d)), "lower", P));
  rows.push(row("same: pulls complete and verified", h(p)?.succeeded, h(d)?.succeeded, "higher", P));
  rows.push(row("same: median pull s (of those complete)", h(p)?.pullMs.p50 / 1000, h(d)?.pullMs.p50 / 1000, "lower", P));
  rows.push(row("same: upstream GETs per blob, most", h(p)?.upstream.maxGetsPerBlob, h(d)?.upstream.maxGetsPerBlob, "lower", P));
  rows.push(row("same: upstream GETs per blob, mean", h(p)?.upstream.meanGetsPerBlob, h(d)?.upstream.meanGetsPerBlob, "lower", P));
  rows.push(row("same: upstream manifest requests", h(p)?.upstream.manifestRequests, h(d)?.upstream.manifestRequests, "lower", P));
  rows.push(row("same: upstream requests in all", h(p)?.upstream.total, h(d)?.upstream.total, "lower", P));
  rows.push(row("same: upstream GETs of each blob (config, layers)", h(p)?.upstream.blobGetsPerBlob.join(" "), h(d)?.upstream.blobGetsPerBlob.join(" "), null, P));
  return rows;
}

/** Goal lines: each says the figure, the goal and whether it holds in this run. */
function goals(results) {
  const out = [];
  const npm = results.npm;
  const p = npm?.runs.pkgedge;
  const v = npm?.runs.verdaccio;
  if (p?.cold.ok && v?.cold.ok) {
    const r = v.cold.seconds / p.cold.seconds;
    out.push(`cold install: pkgedge ${r.toFixed(2)}x faster than Verdaccio (goal: at least 2x): ${r >= 2 ? "HOLDS" : "MISSED"}`);
  }
  if (p?.warm.ok && v?.warm.ok) {
    const r = v.warm.seconds / p.warm.seconds;
    out.push(`warm install: pkgedge ${r.toFixed(2)}x Verdaccio's speed (goal: at least 1x, within 5%): ${r >= 0.95 ? "HOLDS" : "MISSED"}`);
  }
  const np = npm?.runs["pkgedge-noprefetch"];
  if (p?.cold.ok && np?.cold.ok) out.push(`prefetch's share: the same cold install with PREFETCH=false took ${np.cold.seconds} s (${(np.cold.seconds / p.cold.seconds).toFixed(2)}x pkgedge with prefetch), ${np.cold.upstream.total} upstream requests`);
  const oci = results.oci;
  const ph = oci?.runs.pkgedge?.herd;
  const dh = oci?.runs["docker-registry"]?.herd;
  if (ph) out.push(`OCI herd: pkgedge asked the upstream at most ${ph.upstream.maxGetsPerBlob} time(s) per blob for ${oci.clients} concurrent pulls (goal: 1): ${ph.upstream.maxGetsPerBlob === 1 && ph.ok ? "HOLDS" : "MISSED"}` +
    (dh ? `; docker-registry's proxy mode at most ${dh.upstream.maxGetsPerBlob}, mean ${dh.upstream.meanGetsPerBlob}` : ""));
  return out;
}

/** The whole printed report: one comparison table per protocol, then goals and run notes. */
export function buildUpstreamReport(results) {
  const header = (peer) => ["measure", "pkgedge", peer, `ratio pkgedge ÷ ${peer.split(" ")[0]}`];
  const parts = [];
  if (results.npm) {
    const vv = results.npm.runs.verdaccio?.version;
    parts.push("### npm: pkgedge (NPM_UPSTREAM) vs Verdaccio (uplink)", "", markdownTable(header(vv ? `verdaccio ${vv}` : "verdaccio"), npmRows(results.npm)), "");
    const np = results.npm.runs["pkgedge-noprefetch"];
    if (np) {
      parts.push(markdownTable(["pkgedge with PREFETCH=false", "cold", "warm"], [
        ["install: s", np.cold.ok ? np.cold.seconds : "FAILED", np.warm.ok ? np.warm.seconds : "FAILED"],
        ["upstream requests", np.cold.upstream.total, np.warm.upstream.total],
      ]), "");
    }
    const vars = Object.entries(results.npm.pkgedgeVars ?? {}).map(([k, val]) => `${k}=${val}`).join(", ");
    parts.push(`pkgedge settings: ${vars || "defaults"}; upstream requests counted at each registry's own instance of the latency proxy (the same upstream Verdaccio behind both); by kind: ` +
      Object.entries(results.npm.runs).map(([n, r]) => `${n} cold ${JSON.stringify(r.cold?.upstream.byKind ?? {})} (at most ${r.cold?.upstream.maxPerObject ?? "?"} per object; ` +
        `the upstream busy for ${r.cold?.upstream.spanSeconds ?? "?"} s with at most ${r.cold?.upstream.peakInFlight ?? "?"} requests in flight), warm ${JSON.stringify(r.warm?.upstream.byKind ?? {})}`).join("; "), "");
  }
  if (results.oci) {
    const dv = results.oci.runs["docker-registry"]?.version;
    parts.push("### OCI: pkgedge (OCI_UPSTREAM) vs docker-registry (proxy mode)", "", markdownTable(header(dv ? `docker-registry ${dv}` : "docker-registry"), ociRows(results.oci)), "");
    const errs = Object.entries(results.oci.runs).filter(([, r]) => r.herd?.errors?.length).map(([n, r]) => `${n}: ${r.herd.errors.join("; ")}`);
    parts.push(`Each pull of the herd: the manifest by tag, then the config and every layer at once, each checked against its digest; layer sizes ${results.oci.image.layers.map(formatBytes).join(", ")}; ` +
      `pulls unfinished after ${Object.values(results.oci.runs)[0]?.herd?.deadlineSeconds ?? "?"} s are stopped.${errs.length ? ` Failed pulls: ${errs.join(" | ")}.` : ""}`, "");
  }
  const g = goals(results);
  if (g.length) parts.push("Goals (issue 11):", "", ...g.map((l) => `- ${l}`), "");
  parts.push(...machineNotes(results).map((n) => `- ${n}`));
  return parts.join("\n").trim();
}
