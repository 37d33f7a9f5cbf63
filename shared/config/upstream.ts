// Settings of the upstream registries pkgedge pulls public content through (shared/upstream/):
// which registry each protocol mirrors, how long upstream metadata is trusted, how long an
// upstream may take, which names never go upstream and the release-age cooldown. Every
// upstream is off unless its URL is set; credentials are secrets read here, never logged.
import { configError, duration, list, parseDuration, text, type Vars } from "./vars";

export type UpstreamProtocol = "npm" | "oci" | "pypi";

export interface UpstreamRegistry {
  /** Base URL without a trailing slash (`http://127.0.0.1:4873`, or a Simple API root for PyPI). */
  url: string;
  /** npm: a bearer token. OCI: `user:password` for the Basic step of the token flow. */
  credentials?: string;
}

export interface UpstreamSettings {
  npm?: UpstreamRegistry;
  /** The registry for OCI repositories not hosted locally, under the same names. */
  oci?: UpstreamRegistry;
  /** OCI name prefixes mapped to further registries: `hub` -> `/v2/hub/library/alpine/...`. */
  ociPrefixes: Record<string, UpstreamRegistry>;
  pypi?: UpstreamRegistry;
  /** How long upstream metadata (packuments, tags, project pages) is used before revalidation. */
  metadataTtlSeconds: number;
  /** One upstream request's limit, headers and body together. */
  timeoutMs: number;
  /** Name patterns (`@acme/*`, `acme-*`, `team/*`) never looked up upstream. */
  private: string[];
  /** Per protocol: upstream versions younger than this (ms) are hidden and their files refused. */
  minReleaseAgeMs: Partial<Record<UpstreamProtocol, number>>;
  /** Name patterns the cooldown does not apply to. */
  releaseAgeExempt: string[];
}

// OCI registries give no publish time to measure an age by: a cooldown asked for them would be
// silently ignored (failing open), so it is refused instead.
const COOLDOWN_PROTOCOLS: readonly UpstreamProtocol[] = ["npm", "pypi"];

export function loadUpstreamSettings(env: Vars): UpstreamSettings {
  const secret = (name: string) => {
    const v = env[name];
    return typeof v === "string" && v.trim() ? v.trim() : undefined;
  };
  const registry = (name: "NPM_UPSTREAM" | "OCI_UPSTREAM" | "PYPI_UPSTREAM", credentials?: string): UpstreamRegistry | undefined => {
    const value = text(env, name);
    if (!value) return undefined;
    return { url: upstreamUrl(name, value), ...(credentials ? { credentials } : {}) };
  };
  const ociPrefixes: Record<string, UpstreamRegistry> = {};
  for (const item of list(env, "OCI_UPSTREAMS")) {
    const eq = item.indexOf("=");
    const prefix = item.slice(0, eq).trim();
    if (eq <= 0 || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(prefix)) throw configError("OCI_UPSTREAMS", item, "comma-separated prefix=<registry URL> pairs");
    ociPrefixes[prefix] = { url: upstreamUrl("OCI_UPSTREAMS", item.slice(eq + 1).trim()) };
  }
  // `user:password` for OCI_UPSTREAM, `<prefix>=user:password` for a prefix's registry: each
  // registry gets only its own credentials.
  let ociCredentials: string | undefined;
  for (const item of (secret("OCI_UPSTREAM_CREDENTIALS") ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf("=");
    const prefix = eq > 0 ? item.slice(0, eq) : "";
    if (prefix && ociPrefixes[prefix]) ociPrefixes[prefix] = { ...ociPrefixes[prefix], credentials: item.slice(eq + 1) };
    else ociCredentials = item;
  }
  const minReleaseAgeMs: Partial<Record<UpstreamProtocol, number>> = {};
  for (const item of list(env, "MIN_RELEASE_AGE")) {
    const colon = item.indexOf(":");
    const protocol = COOLDOWN_PROTOCOLS.find((p) => p === item.slice(0, colon).trim());
    const ms = colon > 0 ? parseDuration(item.slice(colon + 1), "h") : null;
    if (!protocol || ms === null) throw configError("MIN_RELEASE_AGE", item, "comma-separated protocol:age pairs such as npm:72h (protocols npm and pypi; bare numbers in hours)");
    minReleaseAgeMs[protocol] = ms * 3_600_000;
  }
  const npm = registry("NPM_UPSTREAM", secret("NPM_UPSTREAM_TOKEN"));
  const oci = registry("OCI_UPSTREAM", ociCredentials);
  const pypi = registry("PYPI_UPSTREAM");
  return {
    ...(npm ? { npm } : {}),
    ...(oci ? { oci } : {}),
    ...(pypi ? { pypi } : {}),
    ociPrefixes,
    metadataTtlSeconds: duration(env, "UPSTREAM_METADATA_TTL", "s"),
    timeoutMs: duration(env, "UPSTREAM_TIMEOUT_MS", "ms", { min: 1 }),
    private: list(env, "UPSTREAM_PRIVATE"),
    minReleaseAgeMs,
    releaseAgeExempt: list(env, "MIN_RELEASE_AGE_EXEMPT"),
  };
}

function upstreamUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(name, value, "an http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(name, value, "an http(s) URL");
  // Credentials belong in the secrets, where they are never echoed with the URL.
  if (url.username || url.password) throw configError(name, `${url.protocol}//***@${url.host}`, "a URL without credentials (use the *_TOKEN / *_CREDENTIALS secret)");
  return url.href.replace(/\/+$/, "");
}
