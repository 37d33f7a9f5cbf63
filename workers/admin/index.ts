// The /_/ namespace: health and metrics for operators, admin APIs behind the admin secret.
import { Hono, type MiddlewareHandler } from "hono";
import { isAdmin } from "../../shared/auth/permissions";
import { RegistryError } from "../../shared/errors";
import { L1_UNAVAILABLE_HINT, l1Status } from "../../shared/tiers/l1-probe";
import { jsonError } from "../errors";
import { bodyLimit } from "../middleware/body-limit";
import { audit } from "./audit";
import { serveDashboard } from "./dashboard";
import { renderMetrics } from "./metrics";
import { purge } from "./purge";
import { tokens } from "./tokens";
import { warm } from "./warm";

export const admin = new Hono<{ Bindings: Cloudflare.Env }>();

admin.onError(jsonError);
// Admin calls take small JSON bodies; each handler bounds its own read further.
admin.use(bodyLimit((config) => config.maxRequestBodyBytes));

// Liveness, and whether L1 can work where this runs (it cannot on *.workers.dev).
admin.get("/health", async (c) => {
  const l1 = await l1Status();
  return c.json({ status: "ok", region: c.get("region"), regions: c.get("config").regions, l1, ...(l1 === "ok" ? {} : { hint: L1_UNAVAILABLE_HINT }) });
});

admin.get("/metrics", async (c) => {
  const registry = await renderMetrics(c.get("tiers"));
  if (c.req.query("format") === "json") return c.json(registry.toJSON());
  return c.text(registry.toPrometheus(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});

admin.get("/dashboard", serveDashboard);

// Everything below needs the admin secret (or a token with the admin scope).
const requireAdmin: MiddlewareHandler = async function requireAdmin(c, next) {
  if (c.get("badCredentials")) throw new RegistryError("UNAUTHORIZED", "invalid, expired or revoked token");
  const p = c.get("principal");
  if (p.kind === "anonymous") throw new RegistryError("UNAUTHORIZED", "admin API: send the admin secret as a Bearer token");
  if (!isAdmin(p)) throw new RegistryError("FORBIDDEN", "admin API needs the admin scope");
  await next();
};
admin.use("/tokens/*", requireAdmin);
admin.use("/audit/*", requireAdmin);
admin.use("/purge/*", requireAdmin);
admin.use("/warm/*", requireAdmin);
admin.route("/tokens", tokens);
admin.route("/audit", audit);
admin.route("/purge", purge);
admin.route("/warm", warm);

admin.all("*", () => {
  throw new RegistryError("NOT_FOUND", "no such admin endpoint");
});
