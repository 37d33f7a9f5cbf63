// The last step of mirroring any file (a tarball, a blob, a wheel): the upstream's answer
// streamed into the origin under the mirror's key, verified on the way, or nothing stored.
import { log } from "../log";
import { UpstreamFailure } from "./http";
import type { MirrorContext, RefreshOutcome } from "./types";
import { verifiedStream, type DigestAlgorithm } from "./verified-stream";

/** `what` names the object in errors (`tarball of left-pad@1.3.0`); the upstream's URL never appears. */
export async function storeVerifiedCopy(ctx: MirrorContext, res: Response, digest: { algorithm: DigestAlgorithm; bytes: Uint8Array }, what: string): Promise<RefreshOutcome> {
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { kind: "missing" };
  }
  const length = Number(res.headers.get("content-length"));
  if (!res.headers.has("content-length") || !Number.isSafeInteger(length) || length < 0) {
    await res.body.cancel();
    throw new UpstreamFailure(`upstream sent the ${what} without a length`);
  }
  try {
    await ctx.store.createIfAbsent(ctx.ref.originKey, verifiedStream(res.body, length, digest.algorithm, digest.bytes), "application/octet-stream");
  } catch (err) {
    log.error("upstream copy refused", { object: ctx.ref.originKey, error: err instanceof Error ? err.message : "unknown" });
    throw new UpstreamFailure(`upstream ${what} failed verification against its digest; not stored`);
  }
  return { kind: "stored" };
}
