// The harness table a read benchmark prints under its comparison: for each read case, pkgedge
// through wrangler dev and straight to its workerd, the peer, nginx and the two trivial Workers
// (each through wrangler dev and straight to workerd), all measured in the same run, with
// pkgedge's req/s as a ratio to each. Seven columns, so `npm run bench`'s summary (which takes
// four-column pkgedge-vs-peer rows) leaves it to the benchmark's own section.
import { formatNumber, markdownTable } from "./stats.mjs";

const DIRECT = "pkgedge-direct";

/**
 * `cases`: [[key, label]]; `reads[key][server]` are loadRounds results of the same rounds, the
 * ceilings named in `reads.harness.names`; `peer` is the peer's target name. Returns Markdown (a
 * table and goal lines), or "" when there is nothing to show.
 */
export function harnessTable({ cases, reads, peer, peerLabel = peer }) {
  if (!reads?.harness) return "";
  const rows = [];
  const goals = [];
  for (const [key, label] of cases) {
    const r = reads?.[key] ?? {};
    const c = Object.fromEntries(reads.harness.names.filter((n) => r[n]).map((n) => [n, r[n]]));
    const dev = r.pkgedge?.rps;
    const direct = r[DIRECT]?.rps;
    const servers = [
      ["pkgedge, through wrangler dev (npm run dev)", r.pkgedge],
      ["pkgedge, straight to its workerd", r[DIRECT]],
      [peerLabel, r[peer]],
      ...Object.entries(c),
    ];
    for (const [name, x] of servers) {
      if (!x) continue;
      const ratio = (a) => (Number.isFinite(a) && x.rps > 0 ? `${(a / x.rps).toFixed(2)}x` : "-");
      rows.push([label, name, formatNumber(x.rps), formatNumber(x.latencyMs?.p50), formatNumber(x.latencyMs?.p99), ratio(dev), ratio(direct)]);
    }
    const constDirect = c["const Worker, workerd direct"]?.rps;
    const peerRps = r[peer]?.rps;
    if (Number.isFinite(direct) && Number.isFinite(peerRps)) goals.push(`${label}: straight to workerd ${(direct / peerRps).toFixed(2)}x ${peerLabel}'s req/s`);
    if (Number.isFinite(direct) && Number.isFinite(constDirect)) goals.push(`${label}: straight to workerd ${Math.round((direct / constDirect) * 100)}% of the constant-body Worker on the same socket`);
    if (Number.isFinite(dev) && Number.isFinite(peerRps)) goals.push(`${label}: through wrangler dev ${(dev / peerRps).toFixed(2)}x ${peerLabel}'s req/s`);
  }
  if (!rows.length) return "";
  const table = markdownTable(["read", "served by", "req/s", "p50 ms", "p99 ms", "pkgedge (wrangler dev) ÷ this", "pkgedge (workerd) ÷ this"], rows);
  return [
    "Harness ceilings, same rounds (every server takes its turn in each round, so the machine's load reaches all alike): nginx serves the same bytes as static files; the trivial Workers answer as many bytes, constant or from the Cache API, under the same wrangler dev:",
    "",
    table,
    "",
    ...goals.map((g) => `- ${g}`),
  ].join("\n");
}
