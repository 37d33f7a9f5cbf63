// Dependency confusion, from the publishing side: a name that exists on the upstream registry
// but has never been hosted here is not published by an ordinary token, since every client
// would then get our package instead of the public one. UPSTREAM_PRIVATE (names that are ours)
// or the admin secret allow it. When the upstream cannot be asked, the publish is refused
// (retry later): never fail open. Used by npm publish and twine upload alike.
import type { Context } from "hono";
import { isAdmin } from "../shared/auth/permissions";
import type { UpstreamProtocol } from "../shared/config";
import { RegistryError } from "../shared/errors";
import { ObjectStore } from "../shared/origin";
import type { TierRequest } from "../shared/tiers";
import { upstreamOf } from "../shared/upstream/policy";

/** `request` reads the name through the tiers (hosted first, then the upstream). */
export async function assertMayPublishName(c: Context, protocol: UpstreamProtocol, name: string, request: TierRequest): Promise<void> {
  if (!upstreamOf(c.get("config"), protocol, name)) return;
  if (isAdmin(c.get("principal"))) return;
  if (await new ObjectStore(c.env.BLOBS).exists(request.originKey)) return;
  let exists: boolean;
  try {
    const served = await c.get("tiers").get(request);
    if (served.found && served.body instanceof ReadableStream) await served.body.cancel();
    exists = served.found;
  } catch {
    throw new RegistryError("ORIGIN_UNAVAILABLE", `cannot tell whether ${name} exists on the upstream registry (it is unavailable), so it cannot be published yet; try again later`, { retryAfter: 5 });
  }
  if (exists) {
    throw new RegistryError("FORBIDDEN", `${name} exists on the upstream registry and is not hosted here: publishing it would shadow the public package for every client. Add the name to UPSTREAM_PRIVATE, or publish it with the admin token.`);
  }
}
