// Types for dev-server.mjs, so the TypeScript e2e tests can import it.
import type { ChildProcess } from "node:child_process";
export const projectRoot: string;
export function freePort(): Promise<number>;
export function randomSecret(length?: number): string;
export function cleanEnv(extra?: Record<string, string>): Record<string, string>;
export function readWranglerArgs(args: string[]): { given: Set<string>; ip?: string; port?: string; config?: string; vars: Record<string, string>; envFiles: string[] };
export function stopProcessGroup(child: ChildProcess, hasExited: () => boolean, graceMs?: number): Promise<void>;
export interface Wrangler {
  url: string;
  port: number;
  persistDir: string | null;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
  /** kill -9 of wrangler dev's process group; the persisted state stays. */
  kill(): Promise<void>;
  exited: Promise<number>;
}
export interface DevServer extends Wrangler {
  adminToken: string;
}
export function startWrangler(options?: {
  args?: string[];
  vars?: Record<string, string>;
  envFiles?: string[];
  cwd?: string;
  persistTo?: string | null;
  ip?: string;
  port?: number;
  interactive?: boolean;
  healthPath?: string;
  timeoutMs?: number;
  log?: boolean;
}): Promise<Wrangler>;
export function startDevServer(options?: { vars?: Record<string, string>; timeoutMs?: number; log?: boolean; cwd?: string; persistTo?: string | null; persistDir?: string; port?: number }): Promise<DevServer>;
export interface Server {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}
export function startServer(options: {
  name: string; command: string; args: string[]; cwd: string; env: Record<string, string>; healthUrl: string;
  timeoutMs?: number; interactive?: boolean; log?: boolean; fails?: (output: string) => string | null; graceMs?: number;
}): Promise<Server>;
