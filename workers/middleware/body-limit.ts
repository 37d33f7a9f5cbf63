// Body limits on the routes they belong to, checked against the declared Content-Length before
// a handler reads anything, as hono's body-limit middleware does. Not hono's own: its limit is
// fixed when the app is built while ours comes from the request's config (MAX_PUBLISH_BYTES can
// differ per env), and it buffers a body sent without a length, which would hold a publish in
// memory twice; here the route's reader bounds such a body while it streams
// (shared/http/body.ts), and OCI blob uploads bound themselves as they stream into R2.
//
// The first bodyLimit a request meets decides: a router lists its routes' own limits before the
// default that covers every other route.
import type { MiddlewareHandler } from "hono";
import type { Config } from "../../shared/config";
import { RegistryError } from "../../shared/errors";

/** Bytes a route's body may have, or "streamed" for a route that bounds its body itself. */
export type BodyLimit = number | "streamed";

export function bodyLimit(limitOf: (config: Config) => BodyLimit): MiddlewareHandler {
  return async function bodyLimit(c, next) {
    if (c.get("bodyLimit") === undefined) {
      const limit = limitOf(c.get("config"));
      c.set("bodyLimit", limit);
      // The request filter has already refused a Content-Length that is not a decimal number.
      const declared = c.req.header("content-length");
      if (limit !== "streamed" && declared !== undefined && Number(declared) > limit) {
        throw new RegistryError("TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${limit} bytes for this route`);
      }
    }
    await next();
  };
}
