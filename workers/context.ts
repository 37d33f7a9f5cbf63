// Per-request values every router can read with c.get(): typed by augmenting hono's map.
import type { Config } from "../shared/config";
import type { Principal } from "../shared/auth/permissions";
import type { Tiers } from "../shared/tiers";

declare module "hono" {
  interface ContextVariableMap {
    config: Config;
    region: string;
    tiers: Tiers;
    principal: Principal;
    /** Set when the request carried credentials that did not verify. */
    badCredentials: boolean;
    protocol: import("./errors").Protocol;
    /** Set by the first body-limit middleware a request meets (workers/middleware/body-limit.ts). */
    bodyLimit: import("./middleware/body-limit").BodyLimit | undefined;
  }
}

export type AppEnv = { Bindings: Cloudflare.Env };
