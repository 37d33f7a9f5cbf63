// The /_/ namespace: public health, metrics behind the admin secret or METRICS_TOKEN, the
// dashboard page, and admin APIs behind the admin secret.
import { Hono, type MiddlewareHandler } from "hono";
import { isAdmin } from "../../shared/auth/permissions";
import { secretsEqual } from "../../shared/auth/tokens";
import { RegistryError } from "../../shared/errors";
import { L1_UNAVAILABLE_HINT, l1Status } from "../../shared/tiers/l1-probe";
import { jsonError } from "../errors";
import { credentialsFrom } from "../middleware/authenticate";
import { bodyLimit } from "../middleware/body-limit";
import { pypiAdmin } from "../pypi/admin";
import { audit } from "./audit";
import { serveDashboard } from "./dashboard";
import { renderMetrics, topKeys } from "./metrics";
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

// Metrics need the admin secret (or an admin-scoped token) or METRICS_TOKEN: a read-only secret
// a Prometheus scraper can hold (its `authorization` setting) that grants nothing else. They name
// regions, keys and traffic, and each uncached answer costs a call to every shield shard.
const requireMetricsReader: MiddlewareHandler<{ Bindings: Cloudflare.Env }> = async function requireMetricsReader(c, next) {
  const p = c.get("principal");
  if (isAdmin(p)) return next();
  const presented = credentialsFrom(c.req.header("authorization"));
  const metricsToken = c.env.METRICS_TOKEN;
  if (metricsToken && presented && (await secretsEqual(presented, metricsToken))) return next();
  if (c.get("badCredentials")) throw new RegistryError("UNAUTHORIZED", "invalid metrics credentials");
  if (p.kind === "anonymous") throw new RegistryError("UNAUTHORIZED", "metrics: send the admin secret or METRICS_TOKEN as a Bearer token");
  throw new RegistryError("FORBIDDEN", "metrics need the admin secret, an admin-scoped token or METRICS_TOKEN");
};
admin.use("/metrics", requireMetricsReader);
admin.use("/metrics/*", requireMetricsReader);

admin.get("/metrics", async (c) => {
  const registry = await renderMetrics(c.get("tiers"), c.get("config"), c.env.BLOBS);
  if (c.req.query("format") === "json") return c.json(registry.toJSON(), 200, { "cache-control": "no-store" });
  return c.text(registry.toPrometheus(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
});

admin.get("/metrics/top-keys", async (c) => c.json({ keys: await topKeys(c.get("tiers"), c.get("config")) }, 200, { "cache-control": "no-store" }));

// The page itself is served to anyone: it is the same static shell for every caller and holds no
// data, and a browser cannot attach a Bearer header to a navigation. Its script asks for the admin
// secret or METRICS_TOKEN and sends it with each /_/metrics fetch (./dashboard-page.ts).
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
// PyPI yank, status and deletes: each route checks the caller against the project itself.
admin.route("/pypi", pypiAdmin);

admin.all("*", () => {
  throw new RegistryError("NOT_FOUND", "no such admin endpoint");
});
