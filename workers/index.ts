// wrangler's entry point: the edge Worker, its queue consumer and the Durable Object classes it binds.
import type { InvalidationEvent } from "../shared/tiers";
import { app } from "./app";
import { consumeInvalidations } from "./invalidations";

export { RegionalShield } from "../durable-objects/regional-shield";
export { UploadSession } from "../durable-objects/upload-session";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { SearchIndex } from "../durable-objects/search-index";
export { LoginSession } from "../durable-objects/login-session";
export { UpstreamMirror } from "../durable-objects/upstream-mirror";

export default {
  fetch: app.fetch,
  queue: consumeInvalidations,
} satisfies ExportedHandler<Cloudflare.Env, InvalidationEvent>;
