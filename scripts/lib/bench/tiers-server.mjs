// `wrangler dev` on a persist dir the tiers benchmark keeps across restarts: it restarts the
// Worker with other vars (origin latency, prefetch) on the same R2/KV state, and empties the
// caches between runs by deleting only the shields' Durable Object storage and the Cache API.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, startDevServer } from "../dev-server.mjs";

/**
 * A copy of the committed tree at `rev` (git archive) with this checkout's node_modules linked
 * in: other engineers edit the shared working tree while the benchmark runs, and wrangler dev
 * would otherwise bundle their half-done edits and reload mid-run. Returns { dir, commit }.
 */
export function exportRevision(rev = "HEAD") {
  const commit = execFileSync("git", ["-C", projectRoot, "rev-parse", rev], { encoding: "utf8" }).trim();
  const dir = join(tmpdir(), `pkgedge-bench-src-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, "wrangler.toml"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["-C", projectRoot, "archive", "--format=tar", commit], { maxBuffer: 512 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    symlinkSync(join(projectRoot, "node_modules"), join(dir, "node_modules"));
  }
  return { dir, commit };
}

/**
 * Starts wrangler dev on `persistDir` (which it does not delete) with DEV_MODE=true and `vars`.
 * Returns { url, registry, output(), stop() }.
 */
export async function startOn({ persistDir, vars, adminToken, srcDir = projectRoot, timeoutMs = 120_000, log = () => {} }) {
  const server = await startDevServer({ persistTo: persistDir, cwd: srcDir, vars: { ...vars, PKGEDGE_ADMIN_TOKEN: adminToken }, timeoutMs });
  log(`wrangler dev on ${server.url} (${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")})`);
  return { url: server.url, registry: `${server.url}/npm/`, output: server.output, stop: server.stop };
}

/**
 * With the server stopped: deletes every region's L1 (Cache API) and every shield shard's storage
 * (RegionalShield Durable Objects), keeping R2, KV and the other Durable Objects (tokens, rate
 * limits). Returns the paths removed, so the report can say what "cold" meant.
 */
export function emptyCaches(persistDir, { shields = true, l1 = true } = {}) {
  const removed = [];
  const root = join(persistDir, "v3");
  if (l1 && existsSync(join(root, "cache"))) {
    rmSync(join(root, "cache"), { recursive: true, force: true });
    removed.push("v3/cache");
  }
  if (shields && existsSync(join(root, "do"))) {
    for (const d of readdirSync(join(root, "do"))) {
      if (!d.endsWith("-RegionalShield")) continue;
      rmSync(join(root, "do", d), { recursive: true, force: true });
      removed.push(`v3/do/${d}`);
    }
  }
  return removed;
}

/** GET /_/metrics?format=json; also wakes every shield shard (it asks each for its stats). */
export async function metricsJson(url, adminToken) {
  const r = await fetch(`${url}/_/metrics?format=json`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(60_000) });
  if (!r.ok) throw new Error(`/_/metrics?format=json -> ${r.status} ${(await r.text()).slice(0, 300)}`);
  return r.json();
}

/** Sum of pkgedge_origin_fetches_total in a metrics JSON, by kind (and in total). */
export function originFetches(metrics) {
  const out = { metadata: 0, blob: 0, total: 0 };
  const walk = (series) => {
    for (const s of series) {
      if (s.name !== "pkgedge_origin_fetches_total") continue;
      const kind = s.labels?.kind;
      const v = Number(s.value) || 0;
      if (kind in out) out[kind] += v;
      out.total += v;
    }
  };
  walk(flattenMetrics(metrics));
  return out;
}

/** The metrics JSON as a flat [{ name, labels, value }] list, whatever nesting toJSON uses. */
export function flattenMetrics(metrics) {
  if (Array.isArray(metrics)) return metrics.flatMap((m) => (m.samples ?? m.values ? (m.samples ?? m.values).map((s) => ({ name: m.name, ...s })) : [m]));
  if (metrics && Array.isArray(metrics.metrics)) return flattenMetrics(metrics.metrics);
  if (metrics && typeof metrics === "object") {
    return Object.entries(metrics).flatMap(([name, m]) => {
      const list = Array.isArray(m) ? m : m?.samples ?? m?.values ?? [];
      return list.map((s) => ({ name, ...s }));
    });
  }
  return [];
}

/** Histogram samples of one family as [{ labels, count, p50, p95, p99 }] (quantiles as the server estimates them). */
export function histogram(metrics, name) {
  return (metrics?.[name]?.samples ?? []).map((x) => ({ labels: x.labels, count: x.count, p50: x.p50 ?? null, p95: x.p95 ?? null, p99: x.p99 ?? null }));
}

/** Sum of a counter family's samples (0 when the family is absent). */
export function counterSum(metrics, name) {
  return (metrics?.[name]?.samples ?? []).reduce((n, x) => n + (Number(x.value) || 0), 0);
}
