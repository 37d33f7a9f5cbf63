// The protocol code an UpstreamMirror runs for each kind of upstream object.
import type { MirrorContext, RefreshOutcome } from "../shared/upstream/types";
import { mirrorPackument, mirrorTarball } from "../workers/npm/upstream";
import { mirrorBlob, mirrorManifest } from "../workers/oci/upstream";
import { mirrorFile, mirrorProject } from "../workers/pypi/upstream";

export type { RefreshOutcome } from "../shared/upstream/types";

export function refreshFromUpstream(ctx: MirrorContext): Promise<RefreshOutcome> {
  switch (ctx.ref.object.type) {
    case "npm-packument": return mirrorPackument(ctx);
    case "npm-tarball": return mirrorTarball(ctx, ctx.ref.object);
    case "oci-manifest": return mirrorManifest(ctx, ctx.ref.object);
    case "oci-blob": return mirrorBlob(ctx, ctx.ref.object);
    case "pypi-project": return mirrorProject(ctx);
    case "pypi-file": return mirrorFile(ctx, ctx.ref.object);
  }
}
