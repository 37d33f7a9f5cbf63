// Two projects: unit + integration tests inside workerd (the vitest pool), and end-to-end tests
// in Node that start `wrangler dev` and drive it with the real package-manager clients.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The defaults are production-safe; the tests play regions and turn the dev knobs on. Tests
            // compare shield counters before and after a request, so /_/metrics asks the shields
            // every time here (test/integration/admin/metrics.test.ts turns the cache on).
            miniflare: { bindings: { PKGEDGE_ADMIN_TOKEN: "test-admin-secret", DEV_MODE: "true", DEV_REGION_HEADER: "true", METRICS_SHIELD_CACHE_MS: "0" } },
          }),
        ],
        test: { name: "workers", include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"], exclude: ["test/integration/edge-cache/geography/**"] },
      },
      {
        // The same pool with per-region propagation delays: the queue consumer reads its vars
        // from the pool's bindings, not from a test's workerWith() env, so geography needs its own.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                PKGEDGE_ADMIN_TOKEN: "test-admin-secret",
                DEV_MODE: "true",
                METRICS_SHIELD_CACHE_MS: "0",
                DEV_REGION_HEADER: "true",
                INVALIDATION_STRATEGY: "us-east:eager,eu-west:lazy,ap-south:lazy",
                PROPAGATION_DELAY_MS: "us-east:100,eu-west:300,ap-south:600",
              },
            },
          }),
        ],
        test: { name: "workers-geo", include: ["test/integration/edge-cache/geography/**/*.test.ts"] },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Each file starts its own wrangler dev; two at once is what 2 cores carry well.
          maxWorkers: 2,
          // Run after the workerd project, not beside it (vitest needs distinct groups for
          // projects with different worker limits).
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
