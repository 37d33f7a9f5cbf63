// In-isolate metrics registry with Prometheus text and JSON renderings. Edge counters live per
// isolate (Workers has no shared memory between isolates); shield counters come from the
// shields' own SQLite and are merged in when /_/metrics is rendered.

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "histogram";
  samples: Map<string, { labels: Labels; value: number; buckets?: number[]; sum?: number; count?: number }>;
}

export const DURATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family["type"]): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, type, samples: new Map() };
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

  observe(name: string, help: string, labels: Labels, value: number, buckets = DURATION_BUCKETS_MS): void {
    const f = this.family(name, help, "histogram");
    const id = labelId(labels);
    let s = f.samples.get(id);
    if (!s) {
      s = { labels, value: 0, buckets: buckets.map(() => 0), sum: 0, count: 0 };
      f.samples.set(id, s);
    }
    buckets.forEach((le, i) => {
      if (value <= le) s!.buckets![i]!++;
    });
    s.sum! += value;
    s.count!++;
  }

  /** A copy with extra counter samples merged in (used for shield counters). */
  merged(extra: Array<{ name: string; help: string; labels: Labels; value: number }>): MetricsRegistry {
    const copy = new MetricsRegistry();
    for (const f of this.families.values()) {
      const g = copy.family(f.name, f.help, f.type);
      for (const [id, s] of f.samples) g.samples.set(id, { ...s, labels: { ...s.labels }, buckets: s.buckets?.slice() });
    }
    for (const e of extra) copy.inc(e.name, e.help, e.labels, e.value);
    return copy;
  }

  toPrometheus(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples.values()) {
        if (f.type === "counter") {
          lines.push(`${f.name}${fmt(s.labels)} ${s.value}`);
          continue;
        }
        DURATION_BUCKETS_MS.forEach((le, i) => lines.push(`${f.name}_bucket${fmt({ ...s.labels, le: String(le) })} ${s.buckets![i]}`));
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
          f.type === "counter"
            ? { labels: s.labels, value: s.value }
            : { labels: s.labels, count: s.count, sum: s.sum, buckets: Object.fromEntries(DURATION_BUCKETS_MS.map((le, i) => [le, s.buckets![i]])) }),
      };
    }
    return out;
  }
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

export function recordRequest(region: string, protocol: string, tier: string, status: number, ms: number): void {
  edgeMetrics.inc("pkgedge_requests_total", "Requests answered by the edge.", { region, protocol, tier, status: String(status) });
  edgeMetrics.observe("pkgedge_request_duration_ms", "Time to response headers at the edge.", { region, tier }, ms);
}
