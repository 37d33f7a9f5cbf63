// Dev-only pause points for the kill -9 tests (test/e2e/crash-safety.test.ts): with DEV_MODE=true
// and CRASH_AT naming a point, a write that reaches it logs a marker and stalls, so the test can
// kill the whole process at exactly that instant. Inert in production (DEV_MODE is "false").
import { env } from "cloudflare:workers";

/** What the pause point prints; the e2e harness waits for this line in wrangler's output. */
export const CRASH_MARKER = "pkgedge-crash-point";

export async function crashPoint(name: string): Promise<void> {
  const vars = env as unknown as { DEV_MODE?: string; CRASH_AT?: string };
  if (vars.DEV_MODE !== "true" || !vars.CRASH_AT) return;
  if (!vars.CRASH_AT.split(",").includes(name)) return;
  console.log(`${CRASH_MARKER} ${name}`);
  // Long enough for the test to notice and kill; if nobody does, the write carries on. Under
  // 30 s, as a Durable Object's blockConcurrencyWhile allows no longer.
  await new Promise((resolve) => setTimeout(resolve, 25_000));
}
