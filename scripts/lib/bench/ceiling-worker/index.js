// The benchmarks' harness ceilings: the least a Worker can do under the same wrangler dev as
// pkgedge. GET /const?bytes=N answers N constant bytes from isolate memory; GET /cache?bytes=N
// answers them from the Cache API (filled on the first miss), which is what an L1 hit costs
// before any of pkgedge's own code runs. GET /health answers "ok".
const bodies = new Map();

/** N constant bytes, built once per size per isolate. */
function body(bytes) {
  let b = bodies.get(bytes);
  if (!b) {
    b = new Uint8Array(bytes).fill(120);
    bodies.set(bytes, b);
  }
  return b;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const bytes = Math.min(Math.max(Number(url.searchParams.get("bytes") ?? 1024) | 0, 0), 64 * 1024 * 1024);
    const headers = { "content-type": "application/octet-stream", "cache-control": "public, max-age=86400" };
    if (url.pathname === "/health") return new Response("ok\n");
    if (url.pathname === "/const") return new Response(body(bytes), { headers });
    if (url.pathname === "/cache") {
      // One cache key per size, on a fixed host: the same lookup whichever socket the request came in on.
      const key = new Request(`https://ceiling.invalid/cache/${bytes}`);
      const hit = await caches.default.match(key);
      if (hit) return hit;
      await caches.default.put(key, new Response(body(bytes), { headers }));
      return new Response(body(bytes), { headers: { ...headers, "x-ceiling": "miss" } });
    }
    return new Response("not found\n", { status: 404 });
  },
};
