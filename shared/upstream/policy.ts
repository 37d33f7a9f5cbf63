// Which names may go upstream, and the release-age cooldown: the rules that keep dependency
// confusion and just-published malware out, applied the same way on every path.
import { matchesPattern } from "../auth/permissions";
import type { Config, UpstreamProtocol, UpstreamRegistry } from "../config";

/**
 * The upstream registry `name` may be looked up in, or null: none configured for the protocol,
 * or the name matches UPSTREAM_PRIVATE (it is ours, and must never be resolved elsewhere).
 */
export function upstreamOf(config: Config, protocol: UpstreamProtocol, name: string): UpstreamRegistry | null {
  if (config.upstream.private.some((p) => matchesPattern(p, name))) return null;
  if (protocol === "oci") return ociUpstreamOf(config, name)?.registry ?? null;
  return config.upstream[protocol] ?? null;
}

/**
 * The registry an OCI repository comes from and its name there: a configured prefix
 * (`hub/library/alpine` -> OCI_UPSTREAMS' `hub`, `library/alpine`) or OCI_UPSTREAM under the
 * same name.
 */
export function ociUpstreamOf(config: Config, name: string): { registry: UpstreamRegistry; remoteName: string } | null {
  const slash = name.indexOf("/");
  const prefixed = slash > 0 ? config.upstream.ociPrefixes[name.slice(0, slash)] : undefined;
  if (prefixed) return { registry: prefixed, remoteName: name.slice(slash + 1) };
  return config.upstream.oci ? { registry: config.upstream.oci, remoteName: name } : null;
}

/**
 * The cooldown for `name`: versions published after the returned time (ms) are hidden and
 * their files refused; null when no cooldown applies to it.
 */
export function releaseCutoff(config: Config, protocol: UpstreamProtocol, name: string, now = Date.now()): number | null {
  const age = config.upstream.minReleaseAgeMs[protocol];
  if (!age || config.upstream.releaseAgeExempt.some((p) => matchesPattern(p, name))) return null;
  return now - age;
}

/** "72h" for a cutoff's age, as error messages and the packument field name it. */
export function describeAge(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}
