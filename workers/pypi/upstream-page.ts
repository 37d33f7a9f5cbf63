// Reading an upstream Simple API project page: PEP 691 JSON when the upstream speaks it, else
// PEP 503 HTML (a static tree, pypiserver, devpi), parsed with the runtime's own streaming HTML
// parser (HTMLRewriter). What comes out is only what the page states; the mirror decides what
// to keep (a file without a sha256 cannot be verified and is not served).

export interface UpstreamFile {
  filename: string;
  /** Absolute URL of the file. */
  url: string;
  sha256?: string;
  requiresPython?: string;
  /** PEP 592: absent when not yanked; the reason otherwise ("" for none). */
  yanked?: string;
  /** PEP 658/714: the sha256 of `<url>.metadata`, or "" when served without a hash. */
  coreMetadataSha256?: string;
  size?: number;
  /** PEP 700 `upload-time`, when the upstream gives it. */
  uploadTime?: string;
}

export interface UpstreamPage {
  name?: string;
  /** PEP 792 status and its reason, when stated. */
  status?: string;
  statusReason?: string;
  files: UpstreamFile[];
}

export const SIMPLE_JSON = "application/vnd.pypi.simple.v1+json";
/** What the mirror asks for: JSON first, HTML as the fallback every index serves. */
export const UPSTREAM_ACCEPT = `${SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1`;

const SHA256 = /^[0-9a-f]{64}$/;

export async function readUpstreamPage(res: Response, pageUrl: string): Promise<UpstreamPage> {
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === SIMPLE_JSON || type === "application/json") return fromJson(await res.json(), pageUrl);
  return fromHtml(res, pageUrl);
}

function absolute(href: string, base: string): { url: string; fragment: string } | null {
  try {
    const u = new URL(href, base);
    const fragment = u.hash.slice(1);
    u.hash = "";
    return { url: u.href, fragment };
  } catch {
    return null;
  }
}

function hashFrom(value: unknown): string | undefined {
  if (value && typeof value === "object" && typeof (value as { sha256?: unknown }).sha256 === "string") {
    const h = (value as { sha256: string }).sha256.toLowerCase();
    return SHA256.test(h) ? h : undefined;
  }
  return undefined;
}

function fromJson(raw: unknown, pageUrl: string): UpstreamPage {
  const doc = raw as { name?: unknown; files?: unknown; "project-status"?: { status?: unknown; reason?: unknown } } | null;
  const files: UpstreamFile[] = [];
  for (const f of Array.isArray(doc?.files) ? doc.files as Array<Record<string, unknown>> : []) {
    if (typeof f.filename !== "string" || typeof f.url !== "string") continue;
    const where = absolute(f.url, pageUrl);
    if (!where) continue;
    const meta = f["core-metadata"] ?? f["dist-info-metadata"];
    files.push({
      filename: f.filename,
      url: where.url,
      ...(hashFrom(f.hashes) ? { sha256: hashFrom(f.hashes)! } : {}),
      ...(typeof f["requires-python"] === "string" ? { requiresPython: f["requires-python"] } : {}),
      ...(f.yanked === true ? { yanked: "" } : typeof f.yanked === "string" ? { yanked: f.yanked } : {}),
      ...(meta === true ? { coreMetadataSha256: "" } : hashFrom(meta) ? { coreMetadataSha256: hashFrom(meta)! } : {}),
      ...(typeof f.size === "number" && Number.isSafeInteger(f.size) ? { size: f.size } : {}),
      ...(typeof f["upload-time"] === "string" ? { uploadTime: f["upload-time"] } : {}),
    });
  }
  const status = doc?.["project-status"];
  return {
    ...(typeof doc?.name === "string" ? { name: doc.name } : {}),
    ...(typeof status?.status === "string" ? { status: status.status } : {}),
    ...(typeof status?.reason === "string" ? { statusReason: status.reason } : {}),
    files,
  };
}

/** HTML attribute values as lol-html hands them over: entities still encoded. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[lower]!;
  });
}

async function fromHtml(res: Response, pageUrl: string): Promise<UpstreamPage> {
  const files: UpstreamFile[] = [];
  const page: UpstreamPage = { files };
  let current: { attrs: Map<string, string>; text: string } | null = null;
  const finish = () => {
    if (!current) return;
    const { attrs, text } = current;
    current = null;
    const where = absolute(attrs.get("href") ?? "", pageUrl);
    const filename = decodeEntities(text.trim()) || (where ? decodeURIComponent(new URL(where.url).pathname.split("/").pop() ?? "") : "");
    if (!where || !filename) return;
    const fragment = new URLSearchParams(where.fragment);
    const sha256 = fragment.get("sha256")?.toLowerCase();
    const meta = attrs.get("data-core-metadata") ?? attrs.get("data-dist-info-metadata");
    const metaHash = meta?.startsWith("sha256=") ? meta.slice(7).toLowerCase() : undefined;
    files.push({
      filename,
      url: where.url,
      ...(sha256 && SHA256.test(sha256) ? { sha256 } : {}),
      ...(attrs.has("data-requires-python") ? { requiresPython: attrs.get("data-requires-python")! } : {}),
      ...(attrs.has("data-yanked") ? { yanked: attrs.get("data-yanked")! } : {}),
      ...(meta !== undefined ? { coreMetadataSha256: metaHash && SHA256.test(metaHash) ? metaHash : "" } : {}),
    });
  };
  const rewriter = new HTMLRewriter()
    .on("a", {
      element(el) {
        finish();
        const attrs = new Map<string, string>();
        for (const [k, v] of el.attributes) if (k !== undefined && v !== undefined) attrs.set(k.toLowerCase(), decodeEntities(v));
        current = { attrs, text: "" };
        el.onEndTag(() => finish());
      },
      text(chunk) {
        if (current) current.text += chunk.text;
      },
    })
    .on("meta", {
      element(el) {
        const name = el.getAttribute("name");
        const content = decodeEntities(el.getAttribute("content") ?? "");
        if (name === "pypi:project-status") page.status = content;
        if (name === "pypi:project-status-reason") page.statusReason = content;
      },
    });
  await rewriter.transform(res).arrayBuffer();
  finish();
  return page;
}
