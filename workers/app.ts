// The root app: context -> metrics -> request filter -> authenticate -> rate limit -> one router per protocol.
import { Hono } from "hono";
import { loadConfig } from "../shared/config";
import { RegistryError } from "../shared/errors";
import { recordRequest } from "../shared/metrics";
import { Tiers } from "../shared/tiers";
import { resolveRegion } from "../shared/tiers/region";
import { admin } from "./admin";
import "./context";
import { errorResponse, jsonError, protocolOf } from "./errors";
import { home } from "./home";
import { authenticate } from "./middleware/authenticate";
import { rateLimit } from "./middleware/rate-limit";
import { requestFilter } from "./middleware/request-filter";
import { auditRefusals } from "./middleware/audit-refusals";
import { npm } from "./npm";
import { oci } from "./oci";
import { pypi } from "./pypi";
import { CACHE_HEADER } from "./responses";

export const app = new Hono<{ Bindings: Cloudflare.Env }>();

app.use(async function requestContext(c, next) {
  const config = loadConfig(c.env);
  const region = resolveRegion(c.req.raw, config);
  c.set("config", config);
  c.set("region", region);
  c.set("tiers", new Tiers(c.env, config, region, (p) => c.executionCtx.waitUntil(p)));
  c.set("protocol", protocolOf(c.req.path));
  await next();
});

app.use(async function metrics(c, next) {
  const started = performance.now();
  await next();
  // Workers freezes timers during I/O-free compute, so this measures time to headers. Requests
  // not served through the tiers (writes, admin calls, search, refusals) count as "uncached".
  const tier = c.res.headers.get(CACHE_HEADER) ?? "uncached";
  recordRequest(c.get("region"), c.get("protocol"), tier, c.res.status, performance.now() - started);
});

// Outside the filter, so requests it refuses reach the audit log's record of refusals too.
app.use(auditRefusals());
// After metrics so refused requests are counted; before auth so hostile input meets no parser.
app.use(requestFilter());
app.use(authenticate());
app.use(rateLimit());

app.get("/", home);
app.route("/npm", npm);
app.route("/v2", oci);
app.route("/pypi", pypi);
app.route("/_", admin);

app.notFound((c) => jsonError(new RegistryError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), c));
// Errors thrown by middleware (before a protocol router ran) still answer in that protocol's format.
app.onError(errorResponse);
