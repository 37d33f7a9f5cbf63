// `npm search`: GET /-/v1/search answered from the SearchIndex Durable Object, filtered to the
// names the caller may read, and the index kept current by every write to a package.
import type { Context } from "hono";
import semver from "semver";
import { authorize } from "../../shared/auth/permissions";
import { badRequest } from "../../shared/errors";
import type { PackageSummary, SearchIndex } from "../../durable-objects/search-index";
import { isLive, type Packument, type VersionManifest } from "./packument";
import { parseSearchText } from "./search-query";

// npm's registry takes up to 250 results a page and answers 20 by default.
const MAX_SIZE = 250;
const DEFAULT_SIZE = 20;

function searchIndex(env: Cloudflare.Env): DurableObjectStub<SearchIndex> {
  return env.SEARCH.get(env.SEARCH.idFromName("npm")) as DurableObjectStub<SearchIndex>;
}

function integer(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw badRequest(`${name} must be an integer from 0 to ${max}`);
  return n;
}

export async function search(c: Context): Promise<Response> {
  const size = integer(c.req.query("size"), "size", DEFAULT_SIZE, MAX_SIZE);
  const from = integer(c.req.query("from"), "from", 0, 100_000);
  const query = parseSearchText(c.req.query("text") ?? "");
  const index = searchIndex(c.env);
  const principal = c.get("principal");
  const anonymousRead = c.get("config").anonymousRead;
  const hits = query ? ((await index.search(query)) as Array<{ name: string; relevance: number }>) : [];
  // Authorization runs on every candidate, so names a caller may not read are neither listed nor counted.
  const allowed = hits.filter((h) => authorize(principal, "read", h.name, anonymousRead) === "allow");
  const page = allowed.slice(from, from + size);
  const summaries = page.length ? ((await index.summaries(page.map((h) => h.name))) as PackageSummary[]) : [];
  const best = Math.max(...page.map((h) => h.relevance), 0);
  const origin = new URL(c.req.url).origin;
  const objects = summaries.map((s, i) => {
    const relevance = page[i]!.relevance;
    // pkgedge measures no quality, popularity or maintenance: the score is relevance alone.
    const final = best > 0 ? Math.max(0, relevance) / best : 1;
    const { deprecated, unstable, links, ...pkg } = s;
    return {
      package: { ...pkg, links: { npm: `${origin}/npm/${s.name}`, ...links } },
      score: { final, detail: { quality: 0, popularity: 0, maintenance: 0 } },
      searchScore: relevance,
      ...(deprecated || unstable ? { flags: { ...(deprecated ? { deprecated: true } : {}), ...(unstable ? { unstable: true } : {}) } } : {}),
    };
  });
  return c.json({ objects, total: allowed.length, time: new Date().toUTCString() }, 200, { "cache-control": "private, no-store" });
}

/**
 * Brings the index in line with the stored packument after a write: its latest version's facts,
 * or nothing once the package is unpublished.
 */
export async function reindex(env: Cloudflare.Env, doc: Packument | null, name: string): Promise<void> {
  const index = searchIndex(env);
  if (!doc || !isLive(doc)) return index.remove(name);
  const summary = summarize(doc);
  if (summary) await index.upsert(summary);
  else await index.remove(name);
}

/** The searchable facts of a packument's latest version (or its newest, when `latest` is gone). */
export function summarize(doc: Packument): PackageSummary | null {
  const versions = Object.keys(doc.versions);
  const latest = doc["dist-tags"].latest && doc.versions[doc["dist-tags"].latest] ? doc["dist-tags"].latest : semver.rsort(versions.filter((v) => semver.valid(v)))[0];
  const manifest: VersionManifest | undefined = latest ? doc.versions[latest] : undefined;
  if (!latest || !manifest) return null;
  const person = (p: unknown): { name: string; email?: string } | undefined => {
    if (typeof p === "string") {
      const m = /^([^<(]+?)\s*(?:<([^>]*)>)?/.exec(p);
      return m?.[1] ? { name: m[1].trim(), ...(m[2] ? { email: m[2] } : {}) } : undefined;
    }
    const o = p as { name?: unknown; email?: unknown } | null;
    return o && typeof o.name === "string" ? { name: o.name, ...(typeof o.email === "string" ? { email: o.email } : {}) } : undefined;
  };
  const url = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof (v as { url?: unknown })?.url === "string" ? (v as { url: string }).url : undefined);
  const npmUser = person(manifest._npmUser);
  const author = person(manifest.author);
  const time = doc.time[latest];
  const links = { homepage: url(manifest.homepage), repository: url(manifest.repository), bugs: url(manifest.bugs) };
  return {
    name: doc.name,
    scope: doc.name.startsWith("@") ? doc.name.slice(1, doc.name.indexOf("/")) : "unscoped",
    version: latest,
    description: typeof manifest.description === "string" ? manifest.description : typeof doc.description === "string" ? doc.description : "",
    keywords: Array.isArray(manifest.keywords) ? manifest.keywords.filter((k): k is string => typeof k === "string") : [],
    date: typeof time === "string" ? time : doc.time.modified,
    maintainers: (doc.maintainers ?? []).map((m) => ({ username: m.name, ...(m.email ? { email: m.email } : {}) })),
    ...(npmUser ? { publisher: { username: npmUser.name, ...(npmUser.email ? { email: npmUser.email } : {}) } } : {}),
    ...(author ? { author } : {}),
    links: Object.fromEntries(Object.entries(links).filter(([, v]) => v !== undefined)),
    deprecated: typeof manifest.deprecated === "string" && manifest.deprecated !== "",
    unstable: semver.valid(latest) ? semver.major(latest) === 0 : false,
  };
}
