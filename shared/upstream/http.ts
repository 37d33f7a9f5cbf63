// One request to an upstream registry: a deadline on its answer (UPSTREAM_TIMEOUT_MS), every
// request recorded for pkgedge_upstream_requests_total, and failures told apart from answers.
// A 404 or 410 is an answer (the upstream does not have it); a 5xx, a 429, a refusal of our
// credentials, a timeout or a network error is a failure, after which the mirror serves its
// last good copy or answers 503, never a 404.
import type { UpstreamProtocol } from "../config";
import type { UpstreamCall } from "./types";

export class UpstreamFailure extends Error {
  constructor(message: string, readonly retryAfter?: number) {
    super(message);
    this.name = "UpstreamFailure";
  }
}

export interface UpstreamRequest {
  protocol: UpstreamProtocol;
  kind: "metadata" | "blob" | "token";
  timeoutMs: number;
  /** Where the request is recorded. */
  calls: UpstreamCall[];
}

/** Statuses that are answers about the object, not failures of the upstream. */
const ANSWERS = new Set([200, 206, 304, 404, 410]);

export async function upstreamFetch(url: string, init: RequestInit, req: UpstreamRequest, accept: (status: number) => boolean = (s) => ANSWERS.has(s)): Promise<Response> {
  const controller = new AbortController();
  // The deadline covers the answer's headers; a body then streams at the upstream's pace.
  const timer = setTimeout(() => controller.abort(), req.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: "follow", signal: controller.signal });
  } catch {
    const timedOut = controller.signal.aborted;
    req.calls.push({ protocol: req.protocol, kind: req.kind, status: timedOut ? "timeout" : "error" });
    // Never the URL's credentials or the error's internals: only where and what kind.
    throw new UpstreamFailure(timedOut ? `upstream registry did not answer within ${req.timeoutMs} ms` : "upstream registry unreachable");
  } finally {
    clearTimeout(timer);
  }
  req.calls.push({ protocol: req.protocol, kind: req.kind, status: String(res.status) });
  if (accept(res.status)) return res;
  await res.body?.cancel();
  throw new UpstreamFailure(`upstream registry answered ${res.status}`, retryAfterSeconds(res.headers.get("retry-after")));
}

/** Retry-After as seconds (RFC 9110 10.2.3: delay-seconds or an HTTP date). */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
