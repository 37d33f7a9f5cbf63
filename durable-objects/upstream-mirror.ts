// UpstreamMirror: one instance per upstream object worldwide (named by the origin key of its
// copy), so however many PoPs, regions and shards miss it at once, the upstream registry sees
// one request, and revalidation of mutable metadata happens at most once per
// UPSTREAM_METADATA_TTL for the whole deployment. It keeps the copy at the origin (R2) current:
// fetching and verifying through the protocol's adapter (workers/<protocol>/upstream.ts),
// remembering a 404 briefly, and while the upstream fails answering "stale" (a copy exists) or
// "unavailable" (none does) with exponential backoff that honours Retry-After.
import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../shared/config";
import { log } from "../shared/log";
import { ObjectStore } from "../shared/origin";
import { UpstreamFailure } from "../shared/upstream/http";
import type { MirrorAnswer, MirrorContext, UpstreamCall, UpstreamRef } from "../shared/upstream/types";
import { refreshFromUpstream, type RefreshOutcome } from "./upstream-adapters";

export type MirrorStub = DurableObjectStub<UpstreamMirror>;

/** The mirror of the object whose copy lives at `originKey`. */
export function upstreamMirror(env: Cloudflare.Env, originKey: string): MirrorStub {
  return env.UPSTREAM_MIRROR.get(env.UPSTREAM_MIRROR.idFromName(originKey)) as MirrorStub;
}

/**
 * The mirrored document `ref` names, from the origin when the copy there satisfies `has`, else
 * after asking its mirror to refresh it (a file asked for before its packument or project page;
 * `maxAgeMs` as for `ensure`). The mirror's upstream requests are counted with the caller's; no
 * copy and no upstream: a failure.
 */
export async function mirroredDocumentHaving<T>(ctx: Pick<MirrorContext, "env" | "store" | "calls">, ref: UpstreamRef, has: (doc: T) => boolean, maxAgeMs?: number): Promise<T | null> {
  const held = (await ctx.store.readJson<T>(ref.originKey))?.doc ?? null;
  if (held && has(held)) return held;
  const answer = await upstreamMirror(ctx.env, ref.originKey).ensure(ref, maxAgeMs);
  ctx.calls.push(...answer.calls);
  if (answer.state === "unavailable") throw new UpstreamFailure(answer.message ?? "upstream registry unavailable", answer.retryAfter);
  return (await ctx.store.readJson<T>(ref.originKey))?.doc ?? null;
}

interface MirrorState {
  /** A copy is at the origin key. */
  present: boolean;
  /** When the upstream last answered for this object (a copy, "unchanged" or "not found"). */
  checkedAt: number;
  /** The upstream's validator of the copy, for conditional revalidation. */
  etag?: string;
  missingUntil?: number;
  /** No upstream request before this time (backoff after failures). */
  retryAt?: number;
  failures: number;
}

const MAX_BACKOFF_SECONDS = 60;
// An upstream asking for more than this is asked again sooner: an outage must not pin a mirror.
const MAX_RETRY_AFTER_SECONDS = 3600;

export class UpstreamMirror extends DurableObject<Cloudflare.Env> {
  private state: MirrorState = { present: false, checkedAt: 0, failures: 0 };
  private flight: Promise<MirrorAnswer> | null = null;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<MirrorState>("state")) ?? this.state;
    });
  }

  /**
   * Makes sure the origin holds a current copy of `ref`, asking the upstream only when it must.
   * `maxAgeMs`: a copy checked longer ago than this is checked again now, even within its
   * lifetime (a lockfile names a version newer than the copy).
   */
  async ensure(ref: UpstreamRef, maxAgeMs?: number): Promise<MirrorAnswer> {
    const config = loadConfig(this.env);
    const now = Date.now();
    const s = this.state;
    const lifetime = Math.min(config.upstream.metadataTtlSeconds * 1000, maxAgeMs ?? Number.POSITIVE_INFINITY);
    if (s.present && (ref.immutable || now - s.checkedAt < lifetime)) return { state: "fresh", calls: [] };
    if (!s.present && s.missingUntil !== undefined && now < s.missingUntil) return { state: "missing", calls: [] };
    if (s.retryAt !== undefined && now < s.retryAt) return this.failing(Math.ceil((s.retryAt - now) / 1000), "upstream registry failing; retrying later", []);
    const joined = this.flight !== null;
    this.flight ??= this.refresh(ref).finally(() => {
      this.flight = null;
    });
    const answer = await this.flight;
    return joined ? { ...answer, calls: [] } : answer;
  }

  private async refresh(ref: UpstreamRef): Promise<MirrorAnswer> {
    const config = loadConfig(this.env);
    const calls: UpstreamCall[] = [];
    const s = this.state;
    let outcome: RefreshOutcome;
    try {
      outcome = await refreshFromUpstream({
        env: this.env, config, store: new ObjectStore(this.env.BLOBS), ref, calls,
        ...(s.present && s.etag ? { etag: s.etag } : {}), hadCopy: s.present,
      });
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) log.error("upstream mirror failed", { object: ref.originKey, error: err });
      const message = err instanceof UpstreamFailure ? err.message : "upstream copy could not be stored";
      s.failures += 1;
      const backoff = Math.min(MAX_RETRY_AFTER_SECONDS, err instanceof UpstreamFailure && err.retryAfter !== undefined
        ? Math.max(1, err.retryAfter) : Math.min(MAX_BACKOFF_SECONDS, 2 ** (s.failures - 1)));
      s.retryAt = Date.now() + backoff * 1000;
      await this.ctx.storage.put("state", s);
      return this.failing(backoff, message, calls);
    }
    const now = Date.now();
    s.failures = 0;
    delete s.retryAt;
    s.checkedAt = now;
    if (outcome.kind === "missing") {
      s.present = false;
      delete s.etag;
      s.missingUntil = now + config.tiers.negativeTtlSeconds * 1000;
    } else if (outcome.kind === "stored") {
      s.present = true;
      delete s.missingUntil;
      if (outcome.etag) s.etag = outcome.etag;
      else delete s.etag;
    }
    await this.ctx.storage.put("state", s);
    return { state: outcome.kind === "missing" ? "missing" : "fresh", calls };
  }

  /** While the upstream fails: the last good copy if there is one, else "unavailable". */
  private failing(retryAfter: number, message: string, calls: UpstreamCall[]): MirrorAnswer {
    return this.state.present ? { state: "stale", retryAfter, calls } : { state: "unavailable", retryAfter, message, calls };
  }
}
