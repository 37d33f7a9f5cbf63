// A wrangler dev registry that can be killed with kill -9 at a named instant and restarted on the
// same --persist-to state, as a crashed machine comes back: what the crash-safety tests drive.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomSecret, startDevServer } from "../../scripts/lib/dev-server.mjs";

type DevServer = Awaited<ReturnType<typeof startDevServer>>;

// Printed by shared/crash-point.ts when a write reaches the pause point CRASH_AT names.
const MARKER = "pkgedge-crash-point";

export class CrashableRegistry {
  private constructor(private server: DevServer, readonly persistDir: string, readonly adminToken: string,
    private readonly extraVars: Record<string, string>) {}

  /**
   * Starts on fresh state; `crashAt` names the pause point (CRASH_AT) of this first run; `vars`
   * are kept across restarts (an upstream registry, short lifetimes).
   */
  static async start(crashAt?: string, vars: Record<string, string> = {}): Promise<CrashableRegistry> {
    const persistDir = mkdtempSync(join(tmpdir(), "pkgedge-crash-state-"));
    const adminToken = `admin-${randomSecret(32)}`;
    const server = await startDevServer({ persistDir, vars: CrashableRegistry.vars(adminToken, crashAt, vars) });
    return new CrashableRegistry(server, persistDir, adminToken, vars);
  }

  private static vars(adminToken: string, crashAt: string | undefined, extra: Record<string, string>): Record<string, string> {
    return { ...extra, PKGEDGE_ADMIN_TOKEN: adminToken, ...(crashAt ? { CRASH_AT: crashAt } : {}) };
  }

  get url(): string {
    return this.server.url;
  }

  /** Resolves once a request has reached the pause point `point` (and stalls there). */
  async reached(point: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.server.output().includes(`${MARKER} ${point}`)) {
      if (Date.now() > deadline) throw new Error(`no request reached ${point} in ${timeoutMs} ms:\n${this.server.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** kill -9 of the whole process group, then a start on the same state (optionally pausing again). */
  async crashAndRestart(crashAt?: string): Promise<void> {
    await this.server.kill();
    const start = () => startDevServer({ persistDir: this.persistDir, vars: CrashableRegistry.vars(this.adminToken, crashAt, this.extraVars) });
    // startDevServer itself tries another port when the free one it found was taken meanwhile.
    this.server = await start();
  }

  /** Creates a token with the admin API and returns its secret. */
  async createToken(scopes: string[]): Promise<string> {
    const res = await fetch(`${this.url}/_/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `crash-${scopes.join("-")}`, scopes }),
    });
    if (res.status !== 201) throw new Error(`POST /_/tokens answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.persistDir, { recursive: true, force: true });
  }
}
