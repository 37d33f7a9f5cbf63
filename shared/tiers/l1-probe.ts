// Whether the Cache API keeps anything where this Worker runs. On *.workers.dev (and in previews)
// cache.put and cache.match do nothing, so L1 would silently never hit and purge by tag would have
// no zone: /_/health says so. The check is one round trip of a tiny entry, once per isolate.

export type L1Status = "ok" | "unavailable";

/** Puts a tiny entry, reads it back and deletes it: "ok" only if it came back. */
export async function probeCacheApi(storage: CacheStorage): Promise<L1Status> {
  const cache = await storage.open("pkgedge:probe");
  // The host never resolves; a fresh path per probe so an old entry cannot answer for a new one.
  const url = `https://l1.pkgedge.internal/_probe/${crypto.randomUUID()}`;
  await cache.put(url, new Response("1", { headers: { "cache-control": "max-age=60" } }));
  const hit = await cache.match(url);
  await hit?.body?.cancel();
  await cache.delete(url);
  return hit ? "ok" : "unavailable";
}

// The answer, not a promise: a promise made in one request must not be awaited by another.
let known: L1Status | undefined;

/** probeCacheApi on the real Cache API, remembered for the isolate's life (a failed probe is not). */
export async function l1Status(): Promise<L1Status> {
  if (known) return known;
  try {
    return (known = await probeCacheApi(caches));
  } catch {
    return "unavailable";
  }
}

export const L1_UNAVAILABLE_HINT =
  "the Cache API keeps nothing here (a *.workers.dev address or a preview), so L1 never hits and purge by tag has no zone: serve pkgedge from a route or custom domain on a Cloudflare zone (README \"Deploying\")";
