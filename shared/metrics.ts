// In-isolate metrics registry with Prometheus text and JSON renderings. Edge counters live per
// isolate (Workers has no shared memory between isolates); shield counters come from the
// shields' own SQLite and are merged in when /_/metrics is rendered.

type Labels = Record<string, string>;

type Sample = { labels: Labels; value: number; buckets?: number[]; sum?: number; count?: number };

interface Family {
  name: string;
  help: string;
  type: "counter" | "histogram" | "gauge";
  /** Histogram bucket upper bounds (one set per family). */
  bounds: number[];
  samples: Map<string, Sample>;
}

/** A histogram sample gathered elsewhere (a shield's SQLite counters), to merge in. */
export interface HistogramSample {
  name: string;
  help: string;
  labels: Labels;
  bounds: number[];
  /** Observations at or below each bound (cumulative, as Prometheus buckets are). */
  counts: number[];
  sum: number;
  count: number;
}

export const DURATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** Upper bounds (ms) of the invalidation lag histogram (kept in each shield's counters). */
export const LAG_BUCKETS_MS = [10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family["type"], bounds = DURATION_BUCKETS_MS): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, type, bounds, samples: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  inc(name: string, help: string, labels: Labels, by = 1): void {
    const f = this.family(name, help, "counter");
    const id = labelId(labels);
    const s = f.samples.get(id);
    if (s) s.value += by;
    else f.samples.set(id, { labels, value: by });
  }

  /** A gauge: a level read when the metrics are rendered (e.g. uploads open right now). */
  set(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, help, "gauge").samples.set(labelId(labels), { labels, value });
  }

  observe(name: string, help: string, labels: Labels, value: number, buckets = DURATION_BUCKETS_MS): void {
    observeInto(this.histogramSample(name, help, labels, buckets), buckets, value);
  }

  /**
   * A counter's sample resolved once, for hot paths: incrementing it needs no label id (a sort
   * and a join per call). Counter and histogram samples are never replaced, so a handle stays valid.
   */
  counter(name: string, help: string, labels: Labels): (by?: number) => void {
    const f = this.family(name, help, "counter");
    const id = labelId(labels);
    let s = f.samples.get(id);
    if (!s) {
      s = { labels, value: 0 };
      f.samples.set(id, s);
    }
    const sample = s;
    return (by = 1) => {
      sample.value += by;
    };
  }

  /** A histogram's sample resolved once (see counter()). */
  histogram(name: string, help: string, labels: Labels, buckets = DURATION_BUCKETS_MS): (value: number) => void {
    const sample = this.histogramSample(name, help, labels, buckets);
    return (value) => observeInto(sample, buckets, value);
  }

  private histogramSample(name: string, help: string, labels: Labels, buckets: number[]): Sample {
    const f = this.family(name, help, "histogram", buckets);
    const id = labelId(labels);
    let s = f.samples.get(id);
    if (!s) {
      s = { labels, value: 0, buckets: buckets.map(() => 0), sum: 0, count: 0 };
      f.samples.set(id, s);
    }
    return s;
  }

  /** A copy with extra counter and histogram samples merged in (used for shield counters). */
  merged(extra: Array<{ name: string; help: string; labels: Labels; value: number }>, histograms: HistogramSample[] = []): MetricsRegistry {
    const copy = new MetricsRegistry();
    for (const f of this.families.values()) {
      const g = copy.family(f.name, f.help, f.type, f.bounds);
      for (const [id, s] of f.samples) g.samples.set(id, { ...s, labels: { ...s.labels }, buckets: s.buckets?.slice() });
    }
    for (const e of extra) copy.inc(e.name, e.help, e.labels, e.value);
    for (const h of histograms) {
      const f = copy.family(h.name, h.help, "histogram", h.bounds);
      const id = labelId(h.labels);
      const s = f.samples.get(id) ?? { labels: h.labels, value: 0, buckets: h.bounds.map(() => 0), sum: 0, count: 0 };
      h.counts.forEach((n, i) => (s.buckets![i]! += n));
      s.sum! += h.sum;
      s.count! += h.count;
      f.samples.set(id, s);
    }
    return copy;
  }

  toPrometheus(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples.values()) {
        if (f.type !== "histogram") {
          lines.push(`${f.name}${fmt(s.labels)} ${s.value}`);
          continue;
        }
        f.bounds.forEach((le, i) => lines.push(`${f.name}_bucket${fmt({ ...s.labels, le: String(le) })} ${s.buckets![i]}`));
        lines.push(`${f.name}_bucket${fmt({ ...s.labels, le: "+Inf" })} ${s.count}`);
        lines.push(`${f.name}_sum${fmt(s.labels)} ${s.sum}`, `${f.name}_count${fmt(s.labels)} ${s.count}`);
      }
    }
    return lines.join("\n") + "\n";
  }

  toJSON(): Record<string, { type: string; help: string; samples: unknown[] }> {
    const out: Record<string, { type: string; help: string; samples: unknown[] }> = {};
    for (const f of this.families.values()) {
      out[f.name] = {
        type: f.type,
        help: f.help,
        samples: [...f.samples.values()].map((s) =>
          f.type !== "histogram"
            ? { labels: s.labels, value: s.value }
            : {
                labels: s.labels,
                count: s.count,
                sum: s.sum,
                buckets: Object.fromEntries(f.bounds.map((le, i) => [le, s.buckets![i]])),
                p50: quantile(f.bounds, s.buckets!, s.count!, 0.5),
                p95: quantile(f.bounds, s.buckets!, s.count!, 0.95),
                p99: quantile(f.bounds, s.buckets!, s.count!, 0.99),
              }),
      };
    }
    return out;
  }
}

/**
 * Estimates a quantile from cumulative buckets by linear interpolation inside the bucket that
 * holds it (as Prometheus' histogram_quantile does); past the last bound it answers that bound.
 */
export function quantile(bounds: number[], cumulative: number[], count: number, q: number): number | null {
  if (count === 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upto = cumulative[i]!;
    if (upto >= rank) {
      const inBucket = upto - below;
      const share = inBucket === 0 ? 0 : (rank - below) / inBucket;
      return Math.round((lower + (bounds[i]! - lower) * share) * 100) / 100;
    }
    lower = bounds[i]!;
    below = upto;
  }
  return bounds[bounds.length - 1]!;
}

function observeInto(s: Sample, bounds: number[], value: number): void {
  // Cumulative buckets: every bound at or above the value counts it.
  for (let i = bounds.length - 1; i >= 0 && value <= bounds[i]!; i--) s.buckets![i]!++;
  s.sum! += value;
  s.count!++;
}

function labelId(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",");
}

function fmt(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export const COALESCED_HELP = "Requests that waited on another request's origin read or rendering.";
export const ORIGIN_FETCHES_HELP = "Reads of the origin: by the shields, and by the edge streaming objects too large for a shield.";

/** The edge registry of this isolate. */
export const edgeMetrics = new MetricsRegistry();

// Each (region, protocol, tier, status) meets its two samples once per isolate; every request
// after that is one Map lookup. Bounded: the label values come from small fixed sets, but the
// map is cleared past 4,096 entries in any case (the samples stay; only the shortcut goes).
const requestSamples = new Map<string, { count: () => void; duration: (ms: number) => void }>();

export function recordRequest(region: string, protocol: string, tier: string, status: number, ms: number): void {
  const key = `${region}\n${protocol}\n${tier}\n${status}`;
  let samples = requestSamples.get(key);
  if (!samples) {
    if (requestSamples.size >= 4096) requestSamples.clear();
    samples = {
      count: edgeMetrics.counter("pkgedge_requests_total", "Requests answered by the edge.", { region, protocol, tier, status: String(status) }),
      duration: edgeMetrics.histogram("pkgedge_request_duration_ms", "Time to response headers at the edge.", { region, tier }),
    };
    requestSamples.set(key, samples);
  }
  samples.count();
  samples.duration(ms);
}
