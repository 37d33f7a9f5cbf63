// Types for verdaccio.mjs, so the TypeScript e2e tests can import it.
export function ensureVerdaccio(dir: string, log?: (line: string) => void): string;
export interface Verdaccio {
  url: string;
  port: number;
  storageDir: string;
  version: string | null;
  output(): string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}
export function startVerdaccio(options: { dir: string; storageDir: string; workDir: string; timeoutMs?: number; logLevel?: string; uplink?: string | null }): Promise<Verdaccio>;
export function createVerdaccioUser(url: string, name: string, password: string): Promise<string>;
export interface SeedEntry {
  manifest: { name: string; version: string; [field: string]: unknown };
  tgz: Uint8Array;
  dist: { integrity: string; shasum: string };
  /** ISO publish time; null: none; default: a moment ago. */
  time?: string | null;
}
export function seedVerdaccioStorage(storageDir: string, url: string, entries: SeedEntry[]): void;
