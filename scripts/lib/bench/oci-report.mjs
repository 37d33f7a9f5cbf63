// Turns the OCI benchmark's results into the printed table (pkgedge | docker-registry | ratio).
import { machineNotes } from "./report.mjs";
import { comparisonRow, formatBytes, markdownTable } from "./stats.mjs";

const P = "pkgedge";
const D = "docker-registry";

const row = (measure, a, b, better) => comparisonRow(measure, a, b, better, [P, D]);

const failCell = (section, target) => (section?.errors?.[target] ? "FAILED" : undefined);

function readRows(reads, image) {
  const rows = [];
  const labels = {
    blob: `blob GET (${formatBytes(image.layerSize)} layer)`,
    "manifest-tag": "manifest GET by tag",
    "manifest-digest": "manifest GET by digest",
  };
  for (const [name, label] of Object.entries(labels)) {
    const a = reads[name]?.[P];
    const b = reads[name]?.[D];
    const x = a ?? b;
    rows.push(row(`${label}: req/s (c=${x?.concurrency ?? "?"}, median of ${x?.rounds?.length ?? "?"})`, a?.rps ?? failCell(reads, P), b?.rps ?? failCell(reads, D), "higher"));
    if (name === "blob") rows.push(row(`${label}: MiB/s`, a?.mbPerSec, b?.mbPerSec, "higher"));
    rows.push(row(`${label}: p50 ms`, a?.latencyMs.p50, b?.latencyMs.p50, "lower"));
    rows.push(row(`${label}: p99 ms`, a?.latencyMs.p99, b?.latencyMs.p99, "lower"));
    const bad = (r) => (r ? Object.values(r.errors).reduce((m, n) => m + n, 0) + Object.entries(r.statuses).filter(([s]) => s !== "200").reduce((m, [, n]) => m + n, 0) : undefined);
    if (bad(a) || bad(b)) rows.push(row(`${label}: errors / non-200`, bad(a), bad(b), null));
    if (a?.l1HitShare !== undefined) rows.push(row(`${label}: pkgedge edge hit share (HOT-HIT + L1-HIT)`, `${(a.l1HitShare * 100).toFixed(1)}%`, "n/a", null));
  }
  return rows;
}

function copyRows(copies, image) {
  const sec = (ms) => (Number.isFinite(ms) ? ms / 1000 : undefined);
  const size = formatBytes(image.totalBytes);
  const rows = [];
  for (const [kind, label] of [["pull", `skopeo copy registry -> fresh oci: dir (${size} image)`], ["push", `skopeo copy of a new image (${size}) -> new repository`]]) {
    const a = copies[kind]?.[P];
    const b = copies[kind]?.[D];
    const n = (a ?? b)?.runsMs?.length ?? 0;
    rows.push(row(`${label}: median of ${n} s`, sec(a?.medianMs) ?? failCell(copies, P), sec(b?.medianMs) ?? failCell(copies, D), "lower"));
    rows.push(row(`${label}: runs s`, a?.runsMs?.map((v) => (v / 1000).toFixed(2)).join(" "), b?.runsMs?.map((v) => (v / 1000).toFixed(2)).join(" "), null));
  }
  return rows;
}

/** The whole printed report: one table and notes on the conditions of the run. */
export function buildOciReport(results) {
  const rows = [];
  if (results.seed) rows.push(row("first push of the image (skopeo copy) s", results.seed.pushMs?.[P] / 1000 || failCell(results.seed, P), results.seed.pushMs?.[D] / 1000 || failCell(results.seed, D), "lower"));
  if (results.reads) rows.push(...readRows(results.reads, results.image));
  if (results.copies) rows.push(...copyRows(results.copies, results.image));
  const dv = results.targets?.[D]?.version;
  const header = ["measure", P, dv ? `${D} ${dv}` : D, `ratio ${P} ÷ ${D}`];
  const notes = [
    `loopback only, ${results.machine.cpus} cores shared by workerd (wrangler dev), docker-registry, skopeo and the load generator; ` +
    "reads are anonymous on both (pkgedge's default anonymous pull; docker-registry without auth); pushes to pkgedge carry a publish token",
    `image: ${results.image.layers.length} layers (${results.image.layers.map((l) => formatBytes(l.size)).join(" + ")}), manifest ${formatBytes(results.image.manifestBytes)}`,
  ];
  notes.push(...machineNotes(results));
  return [markdownTable(header, rows), "", ...notes.map((n) => `- ${n}`)].join("\n");
}
