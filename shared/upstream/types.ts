// What the tiers and the upstream mirror say to each other: which upstream object a tier request
// may fall back to, what one mirror call answers, and the upstream requests it made (counted in
// pkgedge_upstream_requests_total by the shield that asked).
import type { UpstreamProtocol } from "../config";

/** A protocol adapter's description of one upstream object (read by that adapter's mirror code). */
export type UpstreamObject =
  | { type: "npm-packument" }
  | { type: "npm-tarball"; version: string; file: string }
  | { type: "oci-manifest"; reference: string }
  | { type: "oci-blob"; digest: string }
  | { type: "pypi-project" }
  | { type: "pypi-file"; filename: string; metadata: boolean };

export interface UpstreamRef {
  protocol: UpstreamProtocol;
  /** The name as this registry knows it (UPSTREAM_PRIVATE patterns match it). */
  name: string;
  /** Where the mirrored copy lives at the origin (R2); also the mirror's identity. */
  originKey: string;
  /** Cache key of the object, for the invalidation a takedown sends. */
  key: string;
  object: UpstreamObject;
  /** Content that never changes once mirrored (by version or digest). */
  immutable: boolean;
}

/** One request made to an upstream registry. */
export interface UpstreamCall {
  protocol: UpstreamProtocol;
  /** metadata | blob | token */
  kind: string;
  /** HTTP status, or `timeout` / `error` when no answer came. */
  status: string;
}

/**
 * The mirror's answer for one object: its copy at `originKey` is current ("fresh"), or the last
 * good copy while the upstream fails ("stale"), or the upstream does not have it ("missing"),
 * or neither the upstream nor a copy can serve it now ("unavailable", retry after the given
 * seconds). Crosses Durable Object RPC as a value. `calls` lists the upstream requests this
 * call made (empty when it joined another call's request or none was needed).
 */
export interface MirrorAnswer {
  state: "fresh" | "stale" | "missing" | "unavailable";
  retryAfter?: number;
  message?: string;
  calls: UpstreamCall[];
}

/** What a protocol's mirror code is given for one refresh of one object. */
export interface MirrorContext {
  env: Cloudflare.Env;
  config: import("../config").Config;
  store: import("../origin").ObjectStore;
  ref: UpstreamRef;
  /** Every upstream request made goes here. */
  calls: UpstreamCall[];
  /** The upstream's validator of the copy held, for a conditional request. */
  etag?: string;
  /** Whether a copy is held (a 404 now means the upstream removed it: a takedown). */
  hadCopy: boolean;
}

/**
 * What a refresh did: stored a new copy (with the upstream's validator), found the held copy
 * current, or learned the upstream does not have the object. Failures throw UpstreamFailure.
 */
export type RefreshOutcome = { kind: "stored"; etag?: string } | { kind: "unchanged" } | { kind: "missing" };
