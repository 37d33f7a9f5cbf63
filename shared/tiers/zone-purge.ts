// Production L1 purge: the Cache API deletes only in its own PoP, so when a zone and an API
// token are configured, purges by tag also go to Cloudflare's purge API, which matches the
// Cache-Tag header our L1 entries carry in every PoP. Without them, L1 copies of mutable
// metadata live at most L1_METADATA_TTL (see README, worst-case staleness).
import { log } from "../log";

const PURGE_API = "https://api.cloudflare.com/client/v4/zones";
// The purge API takes at most 30 tags per call.
const TAGS_PER_CALL = 30;

export async function purgeZoneTags(env: Cloudflare.Env, tags: string[]): Promise<void> {
  const zone = env.CF_ZONE_ID;
  const token = env.CF_API_TOKEN;
  if (!zone || !token || tags.length === 0) return;
  for (let i = 0; i < tags.length; i += TAGS_PER_CALL) {
    const res = await fetch(`${PURGE_API}/${zone}/purge_cache`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ tags: tags.slice(i, i + TAGS_PER_CALL) }),
    });
    if (!res.ok) log.error("zone purge by tag failed", { status: res.status });
  }
}
