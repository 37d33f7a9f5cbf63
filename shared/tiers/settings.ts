// The cache engine's settings now live with the rest of the configuration (shared/config/cache.ts);
// this re-export keeps health.ts and hot-keys.ts compiling until they import from there.
export type { Strategy, TierSettings } from "../config/cache";
