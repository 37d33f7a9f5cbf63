// How tests reach the Worker: through its real entry point, or with some wrangler vars changed.
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { app } from "../../workers/app";

export const BASE = "http://pkgedge.test";

/** A way to send one request to the Worker; `path` starts with `/`. */
export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** The Worker exactly as wrangler.toml configures it (the default export, real bindings). */
export const worker: Fetch = (path, init) => exports.default.fetch(new Request(BASE + path, init));

/**
 * The same app with some wrangler vars overridden (config is parsed per env object, so this env
 * gets its own). Each call resolves only after the request's waitUntil work (cache writes) is
 * done, with the body already read, so a test's next request sees the caches as they will be.
 */
export function workerWith(vars: Record<string, string>): Fetch {
  const custom = { ...env, ...vars } as Cloudflare.Env;
  return async (path, init) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(BASE + path, init), custom, ctx);
    // Read first: a streamed body is piped from a waitUntil task that waits for this reader.
    const body = res.body ? await res.arrayBuffer() : null;
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  };
}
