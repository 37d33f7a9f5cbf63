// Types for dev-server.mjs, so the TypeScript e2e tests can import it.
export const projectRoot: string;
export function freePort(): Promise<number>;
export function randomSecret(length?: number): string;
export function cleanEnv(extra?: Record<string, string>): Record<string, string>;
export interface DevServer {
  url: string;
  port: number;
  adminToken: string;
  persistDir: string;
  output(): string;
  /** kill -9 of wrangler dev's process group. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}
export function startDevServer(options?: { vars?: Record<string, string>; timeoutMs?: number; log?: boolean; persistDir?: string; port?: number }): Promise<DevServer>;
