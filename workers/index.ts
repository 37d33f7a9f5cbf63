// wrangler's entry point: the edge Worker and the Durable Object classes it binds.
import { app } from "./app";

export { RegionalShield } from "../durable-objects/regional-shield";
export { UploadSession } from "../durable-objects/upload-session";
export { RateLimiter } from "../durable-objects/rate-limiter";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
