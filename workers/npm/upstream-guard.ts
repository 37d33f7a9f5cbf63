// Dependency confusion, from the publishing side: a name that exists on the upstream registry
// but has never been hosted here is not published by an ordinary token, since every client
// would then get our package instead of the public one. UPSTREAM_PRIVATE (names that are ours)
// or the admin secret allow it. When the upstream cannot be asked, the publish is refused
// (retry later): never fail open.
import type { Context } from "hono";
import { isAdmin } from "../../shared/auth/permissions";
import { RegistryError } from "../../shared/errors";
import { ObjectStore } from "../../shared/origin";
import { upstreamOf } from "../../shared/upstream/policy";
import { packumentObject } from "./keys";
import { packumentRequest } from "./objects";

export async function assertMayPublishName(c: Context, name: string): Promise<void> {
  if (!upstreamOf(c.get("config"), "npm", name)) return;
  if (isAdmin(c.get("principal"))) return;
  if (await new ObjectStore(c.env.BLOBS).exists(packumentObject(name))) return;
  let exists: boolean;
  try {
    const served = await c.get("tiers").get(packumentRequest(name));
    if (served.found && served.body instanceof ReadableStream) await served.body.cancel();
    exists = served.found;
  } catch {
    throw new RegistryError("ORIGIN_UNAVAILABLE", `cannot tell whether ${name} exists on the upstream registry (it is unavailable), so it cannot be published yet; try again later`, { retryAfter: 5 });
  }
  if (exists) {
    throw new RegistryError("FORBIDDEN", `${name} exists on the upstream registry and is not hosted here: publishing it would shadow the public package for every client. Add the name to UPSTREAM_PRIVATE, or publish it with the admin token.`);
  }
}
