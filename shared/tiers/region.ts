// Which region (PoP group) a request belongs to: from request.cf in production, or from the
// `x-pkgedge-region` header in dev and tests so one workerd process can play several PoPs.
import type { Config } from "../config";

export const REGION_HEADER = "x-pkgedge-region";

// Continent codes Cloudflare puts in request.cf.continent, mapped onto the region names we
// ship by default. Regions not listed here fall back to DEFAULT_REGION.
const CONTINENT_PREFERENCE: Record<string, string[]> = {
  NA: ["us-east", "us-west"],
  SA: ["us-east"],
  EU: ["eu-west", "eu-central"],
  AF: ["eu-west"],
  AS: ["ap-south", "ap-east"],
  OC: ["ap-south", "ap-east"],
};

export function resolveRegion(request: Request, config: Config): string {
  if (config.devRegionHeader) {
    const asked = request.headers.get(REGION_HEADER);
    if (asked && config.regions.includes(asked)) return asked;
  }
  const continent = (request.cf as { continent?: string } | undefined)?.continent;
  for (const candidate of (continent && CONTINENT_PREFERENCE[continent]) || []) {
    if (config.regions.includes(candidate)) return candidate;
  }
  return config.defaultRegion;
}
