// The /_/ namespace: health and metrics for operators, admin APIs behind the admin secret.
import { Hono } from "hono";
import { RegistryError, toRegistryError } from "../../shared/errors";
import { renderMetrics } from "./metrics";
import { tokens } from "./tokens";

export const admin = new Hono<{ Bindings: Cloudflare.Env }>();

admin.onError((err, c) => {
  const e = toRegistryError(err);
  // RFC 9110 section 15.5.2: a 401 must carry a challenge saying how to authenticate.
  if (e.status === 401) c.header("www-authenticate", 'Bearer realm="pkgedge"');
  return c.json({ error: e.message }, e.status as 400);
});

admin.get("/health", (c) => c.json({ status: "ok", region: c.get("region"), regions: c.get("config").regions }));

admin.get("/metrics", async (c) => {
  const registry = await renderMetrics(c.get("tiers"));
  if (c.req.query("format") === "json") return c.json(registry.toJSON());
  return c.text(registry.toPrometheus(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});

// Everything below needs the admin secret (or a token with the admin scope).
admin.use("/tokens/*", async (c, next) => {
  if (c.get("badCredentials")) throw new RegistryError("UNAUTHORIZED", "invalid, expired or revoked token");
  const p = c.get("principal");
  if (p.kind === "anonymous") throw new RegistryError("UNAUTHORIZED", "admin API: send the admin secret as a Bearer token");
  if (!(p.kind === "admin" || p.token.scopes.includes("admin"))) throw new RegistryError("FORBIDDEN", "admin API needs the admin scope");
  await next();
});
admin.route("/tokens", tokens);

admin.all("*", () => {
  throw new RegistryError("NOT_FOUND", "no such admin endpoint");
});
