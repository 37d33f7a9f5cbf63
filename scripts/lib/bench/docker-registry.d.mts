// Types for docker-registry.mjs, so the TypeScript e2e tests can import it.
export const DOCKER_REGISTRY_BIN: string;
export function dockerRegistryVersion(bin?: string): string | null;
export interface DockerRegistry {
  url: string;
  port: number;
  host: string;
  version: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}
export function startDockerRegistry(options?: { bin?: string; timeoutMs?: number; accessLog?: boolean; proxy?: string | null }): Promise<DockerRegistry>;
