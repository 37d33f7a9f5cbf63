// Small statistics and formatting helpers shared by the npm benchmark's measures.

/** Percentile (0-100) of a list of numbers, nearest-rank on a sorted copy; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** count, mean, min, p50, p90, p99, max of a list of latencies (ms). */
export function summarize(values) {
  const n = values.length;
  if (n === 0) return { count: 0, mean: NaN, min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    count: n,
    mean: round(sum / n),
    min: round(min),
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(max),
  };
}

export function round(v, digits = 2) {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Milliseconds since `start` (a process.hrtime.bigint() value). */
export function msSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "-";
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A number for a table cell: integers for big values, two significant decimals for small. */
export function formatNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "-";
  if (typeof v === "string") return v;
  if (Number.isInteger(v) && Math.abs(v) < 100) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * Ratio a/b as text. `better` says which direction wins ("higher" for rates, "lower" for
 * latencies) so the table can mark which of `names` came out ahead.
 */
function formatRatio(a, b, better, names) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  const r = a / b;
  const wins = better === "higher" ? r > 1 : r < 1;
  const text = r >= 10 ? r.toFixed(1) : r.toFixed(2);
  return `${text}x${Math.abs(r - 1) < 0.05 ? "" : ` (${names[wins ? 0 : 1]} better)`}`;
}

/** A comparison table row: a measure, both targets' cells, and their ratio when `better` is set. */
export function comparisonRow(measure, a, b, better, names) {
  const cell = (v) => (v === undefined ? "-" : typeof v === "string" ? v : formatNumber(v));
  return [measure, cell(a), cell(b), better ? formatRatio(a, b, better, names) : "-"];
}

/** Renders rows of cells as a Markdown table with padded columns. */
export function markdownTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r) => `| ${r.map((c, i) => (c ?? "").padEnd(widths[i])).join(" | ")} |`;
  const sep = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(all[0]), sep, ...all.slice(1).map(line)].join("\n");
}
