// PEP 691 content negotiation: which Simple API format a request gets, from `?format=` or the
// `Accept` header with its quality values (RFC 9110 section 12.5.1); null means 406.

export type PageFormat = "html" | "json";

/** The media types we serve, and the format behind each. `latest` is v1 today. */
// Ties go to the earlier entry: `*/*` alone gets text/html, what clients older than PEP 691 read.
const OFFERED: Array<{ type: string; format: PageFormat; served: string }> = [
  { type: "text/html", format: "html", served: "text/html" },
  { type: "application/vnd.pypi.simple.v1+html", format: "html", served: "application/vnd.pypi.simple.v1+html" },
  { type: "application/vnd.pypi.simple.latest+html", format: "html", served: "application/vnd.pypi.simple.v1+html" },
  { type: "application/vnd.pypi.simple.v1+json", format: "json", served: "application/vnd.pypi.simple.v1+json" },
  { type: "application/vnd.pypi.simple.latest+json", format: "json", served: "application/vnd.pypi.simple.v1+json" },
];

export interface Negotiated {
  format: PageFormat;
  /** The Content-Type to answer with. */
  contentType: string;
}

const HTML: Negotiated = { format: "html", contentType: "text/html" };

interface Range {
  type: string;
  q: number;
  /** 0 for `*\/*`, 1 for `type/*`, 2 for an exact type: the most specific range decides. */
  specificity: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(",")) {
    const [rawType, ...params] = part.split(";");
    const type = rawType!.trim().toLowerCase();
    if (!type) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=").map((s) => s.trim());
      if (k?.toLowerCase() === "q") {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    ranges.push({ type, q, specificity: type === "*/*" ? 0 : type.endsWith("/*") ? 1 : 2 });
  }
  return ranges;
}

function qualityOf(offered: string, ranges: Range[]): number {
  let best: Range | null = null;
  for (const r of ranges) {
    const matches = r.type === offered || r.type === "*/*" || (r.specificity === 1 && offered.startsWith(r.type.slice(0, -1)));
    if (matches && (!best || r.specificity > best.specificity)) best = r;
  }
  return best ? best.q : 0;
}

/**
 * The format to serve. `?format=<media type>` wins (PEP 691's URL parameter), then `Accept`;
 * no `Accept` at all means HTML (PEP 691: what clients from before it expect).
 */
export function negotiate(accept: string | undefined, formatParam: string | undefined): Negotiated | null {
  const header = formatParam ?? accept;
  if (!header || !header.trim()) return HTML;
  const ranges = parseAccept(header);
  let chosen: Negotiated | null = null;
  let bestQ = 0;
  for (const o of OFFERED) {
    const q = qualityOf(o.type, ranges);
    if (q > bestQ) {
      bestQ = q;
      chosen = { format: o.format, contentType: o.served };
    }
  }
  return chosen;
}
