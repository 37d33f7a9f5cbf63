// Predictive prefetch for OCI: once a manifest is served, warm in the background what a client
// pulls next: an image manifest's config and layer blobs, or an index's child manifests (one
// level: the client picks one platform, so their layers are left to the child's own pull).
import type { Context } from "hono";
import type { Served, TierRequest, Tiers } from "../../shared/tiers";
import { RecentSet, regionKey } from "../../shared/tiers/isolate-state";
import { PrefetchRun, countPrefetch, shared } from "../../shared/tiers/prefetch";
import { blobRequest, manifestRequest } from "./objects";

const CONCURRENCY = 8;
// Manifests are small documents; anything bigger is not one worth parsing in the background.
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

// Per region: manifests expanded lately (by cache key and ETag) and objects warmed lately.
const expanded = new RecentSet<string>(2048, 30_000);
const warmed = new RecentSet<true>(8192, 10 * 60_000);

interface Target {
  kind: "blob" | "manifest";
  digest: string;
  size: number;
}

/** Called as a manifest is served (`req` is what the route asked the tiers for). */
export function prefetchReferenced(c: Context, name: string, req: TierRequest, served: Served & { found: true }): void {
  const config = c.get("config");
  const settings = config.tiers;
  if (!settings.prefetch || settings.prefetchFanout < 1 || settings.prefetchDepth < 1) return;
  const tiers = c.get("tiers");
  const recentKey = regionKey(tiers.region, req.key);
  const etag = served.meta.etag;
  if (expanded.get(recentKey) === etag) return;
  expanded.set(recentKey, etag);
  const job = (async () => {
    const targets = referenced(await readManifest(tiers, req));
    // Blobs the shield would only stream through (not store) are not worth an origin read now.
    const wanted = targets.filter((t) => t.size <= config.tiers.shieldMaxObjectBytes).slice(0, settings.prefetchFanout);
    const run = new PrefetchRun({ maxTasks: settings.prefetchFanout, concurrency: CONCURRENCY });
    for (const target of wanted) {
      const request = targetRequest(name, target);
      const warmKey = regionKey(tiers.region, request.key);
      if (warmed.get(warmKey)) continue;
      run.add(request.key, target.kind === "manifest" ? 0 : 1, async () => {
        const stored = await shared(`warm\n${warmKey}`, async () => {
          const ok = await tiers.warm(request);
          if (ok) countPrefetch(tiers.region, target.kind);
          return ok;
        });
        if (stored) warmed.set(warmKey, true);
      });
    }
    await run.done();
  })();
  c.executionCtx.waitUntil(job.catch(() => expanded.delete(recentKey)));
}

function targetRequest(name: string, target: Target): TierRequest {
  return target.kind === "blob" ? blobRequest(name, target.digest) : manifestRequest(name, target.digest);
}

async function readManifest(tiers: Tiers, req: TierRequest): Promise<unknown> {
  const served = await tiers.get(req);
  if (!served.found) return null;
  if (served.meta.size > MAX_MANIFEST_BYTES) {
    if (served.body instanceof ReadableStream) await served.body.cancel();
    return null;
  }
  const bytes = served.body instanceof Uint8Array ? served.body : new Uint8Array(await new Response(served.body).arrayBuffer());
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * What a manifest points at: config then layers for an image manifest (foreign layers with
 * `urls` live elsewhere), children for an index. Pushes were validated; this only reads.
 */
export function referenced(doc: unknown): Target[] {
  if (!doc || typeof doc !== "object") return [];
  const m = doc as { config?: unknown; layers?: unknown; manifests?: unknown };
  const out: Target[] = [];
  const add = (kind: Target["kind"], d: unknown) => {
    const desc = d as { digest?: unknown; size?: unknown; urls?: unknown } | null;
    if (!desc || typeof desc.digest !== "string" || !DIGEST.test(desc.digest)) return;
    if (Array.isArray(desc.urls) && desc.urls.length > 0) return;
    out.push({ kind, digest: desc.digest, size: typeof desc.size === "number" ? desc.size : 0 });
  };
  if (Array.isArray(m.manifests)) for (const d of m.manifests) add("manifest", d);
  else if (Array.isArray(m.layers)) {
    add("blob", m.config);
    for (const d of m.layers) add("blob", d);
  }
  return [...new Map(out.map((t) => [t.digest, t])).values()];
}
