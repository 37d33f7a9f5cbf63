// Shared by the edge cache engine tests: npm packages published and read per region, purges,
// and each shard's shield counters.
import { env } from "cloudflare:workers";
import { loadConfig } from "../../../shared/config";
import { Tiers, type ShieldStats } from "../../../shared/tiers";
import { NpmClient, escapedName } from "../../helpers/npm-client";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { workerWith, type Fetch } from "../../helpers/worker";

export const REGIONS = ["us-east", "eu-west", "ap-south"] as const;

/** An npm client with a publish token, publishing through `fetch`. */
export async function npmPublisher(fetch: Fetch = workerWith({})): Promise<NpmClient> {
  const { token } = await createToken({ scopes: ["publish"] });
  return new NpmClient(fetch, token);
}

export interface Read {
  status: number;
  state: string | null;
  /** Versions in the packument (empty unless 200). */
  versions: string[];
  latest?: string;
}

/** GET of a packument in one region, as npm install asks for it. */
export async function readPackument(fetch: Fetch, name: string, region: string): Promise<Read> {
  const res = await fetch(`/npm/${escapedName(name)}`, { headers: { "x-pkgedge-region": region, accept: "application/json" } });
  const state = res.headers.get("x-pkgedge-cache");
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status, state, versions: [] };
  }
  const doc = await res.json<{ versions: Record<string, unknown>; "dist-tags": Record<string, string> }>();
  return { status: 200, state, versions: Object.keys(doc.versions), latest: doc["dist-tags"].latest };
}

export async function postPurge(fetch: Fetch, body: unknown, auth: Record<string, string> = bearer(ADMIN_SECRET)): Promise<Response> {
  return fetch("/_/purge", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** The tiers as a request in `region` sees them, for reading shield counters directly. */
export function tiersFor(vars: Record<string, string> = {}, region = "us-east"): Tiers {
  const custom = { ...env, ...vars } as Cloudflare.Env;
  return new Tiers(custom, loadConfig(custom), region, () => {});
}

/** Every shard's counters, keyed `<region>/<shard>`. */
export async function shardStats(tiers: Tiers = tiersFor()): Promise<Map<string, ShieldStats>> {
  return new Map((await tiers.shieldStats()).map((s) => [`${s.region}/${s.shard}`, s.stats]));
}

/** Origin reads (metadata + blob) summed over every shard of `region` (or every region). */
export async function originReads(region?: string, tiers: Tiers = tiersFor()): Promise<number> {
  let n = 0;
  for (const [id, s] of await shardStats(tiers)) if (!region || id.startsWith(`${region}/`)) n += s.originFetches.metadata + s.originFetches.blob;
  return n;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
