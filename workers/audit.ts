// recordAudit(): routes call it after a write succeeded; it records who, what, when and where
// in the audit log without ever making that write fail or wait, and without any secret.
import type { Context } from "hono";
import type { Principal } from "../shared/auth/permissions";
import { AuditStore, type ActorKind, type AuditEntry } from "../shared/origin/audit-store";
import { log } from "../shared/log";

export interface AuditInput {
  /** Dotted verb: `npm.publish`, `token.create`, `oci.manifest.push`, ... */
  action: string;
  /** Package, `repository@reference`, token id. */
  target: string;
  detail?: Record<string, unknown>;
}

// Secrets are redacted by where they sit, never by what a value looks like: a package called
// `pke_release2024` is a name. Fields named like credentials (a headers object's Authorization
// and Cookie included) are replaced whatever they hold; `tokenId` and friends are not secrets.
const SECRET_KEY = /^(token|secret|password|passwd|authorization|proxy-authorization|cookie|set-cookie|x-api-key|auth|credentials?|_authToken|access_token|refresh_token|admin_?token|otp)$/i;

/** A copy of `value` with credential fields replaced; depth-limited so a cyclic detail cannot hang. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 6) return "[nested]";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

// An OCI bearer grant (shared/auth/grants.ts) names the pkgedge token it was issued for; it is
// read structurally so this module does not depend on the grant format.
interface GrantLike {
  subject?: string;
  tokenId?: string;
  scopes?: string[];
}

/** Who an audit entry names as the actor: the admin secret, a token (by id), or anonymous. */
export function auditActorOf(principal: Principal | undefined): { actor: string; actorKind: ActorKind; actorName?: string } {
  const p = principal as { kind?: string; token?: { id: string; name: string }; grant?: GrantLike } | undefined;
  if (p?.kind === "admin") return { actor: "admin", actorKind: "admin" };
  if (p?.kind === "token" && p.token) return { actor: `token:${p.token.id}`, actorKind: "token", actorName: p.token.name };
  if (p?.kind === "grant" && p.grant) {
    const g = p.grant;
    if (g.tokenId) return { actor: `token:${g.tokenId}`, actorKind: "token", ...(g.subject ? { actorName: g.subject } : {}) };
    if (g.scopes?.includes("admin")) return { actor: "admin", actorKind: "admin" };
  }
  return { actor: "anonymous", actorKind: "anonymous" };
}

/** The entry recordAudit would store for this request (exported for tests and the lead's routes). */
export function auditEntry(c: Context, input: AuditInput, now = new Date()): AuditEntry {
  const who = auditActorOf(c.get("principal") as Principal | undefined);
  return {
    id: crypto.randomUUID(),
    at: now.toISOString(),
    action: input.action,
    target: input.target,
    ...who,
    region: (c.get("region") as string | undefined) ?? "unknown",
    ...(input.detail ? { detail: redact(input.detail) as Record<string, unknown> } : {}),
  };
}

/**
 * Records a successful write. The R2 put runs in waitUntil: the response never waits for it,
 * and a failing audit store is logged (action and target only) instead of failing the write.
 * Call it only after the write has committed, so the log never claims a write that did not happen.
 */
export function recordAudit(c: Context, input: AuditInput): void {
  let entry: AuditEntry;
  try {
    entry = auditEntry(c, input);
  } catch (err) {
    log.error("audit entry could not be built", { action: input.action, error: err instanceof Error ? err.message : "unknown" });
    return;
  }
  const write = new AuditStore(c.env.BLOBS)
    .append(entry)
    .catch((err: unknown) => log.error("audit write failed", { action: entry.action, target: entry.target, error: err instanceof Error ? err.message : "unknown" }));
  try {
    c.executionCtx.waitUntil(write);
  } catch {
    // No execution context (a unit test calling app.request without one): the put still runs.
  }
}
