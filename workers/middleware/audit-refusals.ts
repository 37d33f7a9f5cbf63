// Records refused writes and failed authentications in the audit log, the accepted writes'
// counterpart. Budgeted per caller and per PoP, so a flood of refusals cannot flood the log:
// past the budget entries are counted, and the next one recorded says how many were left out.
import type { MiddlewareHandler } from "hono";
import { edgeMetrics } from "../../shared/metrics";
import { clientIp } from "../../shared/rate-limit/subjects";
import { recordAudit } from "../audit";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const WINDOW_MS = 60_000;
/** Entries per caller (address) per window, and per isolate per window. */
export const REFUSALS_PER_CALLER = 10;
export const REFUSALS_PER_ISOLATE = 300;

interface Window {
  start: number;
  count: number;
  /** Refusals left out of the log since the last one recorded. */
  dropped: number;
}

/** Fixed one-minute windows of recorded refusals, bounded in the keys it keeps. */
class RefusalBudget {
  private readonly callers = new Map<string, Window>();
  private isolate: Window = { start: 0, count: 0, dropped: 0 };

  /** null when this refusal is left out; otherwise how many were left out before it. */
  take(caller: string, now: number): number | null {
    if (now - this.isolate.start >= WINDOW_MS) this.isolate = { start: now, count: 0, dropped: this.isolate.dropped };
    let w = this.callers.get(caller);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.callers.size >= 10_000) this.callers.clear();
      w = { start: now, count: 0, dropped: w?.dropped ?? 0 };
      this.callers.set(caller, w);
    }
    if (w.count >= REFUSALS_PER_CALLER || this.isolate.count >= REFUSALS_PER_ISOLATE) {
      w.dropped++;
      return null;
    }
    w.count++;
    this.isolate.count++;
    const dropped = w.dropped;
    w.dropped = 0;
    return dropped;
  }
}

const budget = new RefusalBudget();
export const AUDIT_DROPPED_HELP = "Refusals left out of the audit log by its per-caller and per-isolate budget.";

export function auditRefusals(): MiddlewareHandler<{ Bindings: Cloudflare.Env }> {
  return async function auditRefusals(c, next) {
    await next();
    const status = c.res.status;
    // Unset when the request filter refused the request before authentication ran.
    const failedAuth = c.get("badCredentials") === true;
    // A 401 to a write sent without credentials is the challenge that starts docker's token
    // flow (every push begins with one), not a refusal worth a record.
    const challenge = status === 401 && !c.req.header("authorization");
    const refusedWrite = !SAFE_METHODS.has(c.req.method) && status >= 400 && status < 500 && !challenge;
    if (!failedAuth && !refusedWrite) return;
    const ip = clientIp(c.req.raw.headers, c.get("config").devRegionHeader);
    const dropped = budget.take(`${c.get("region")}\n${ip}`, Date.now());
    if (dropped === null) {
      edgeMetrics.inc("pkgedge_audit_refusals_dropped_total", AUDIT_DROPPED_HELP, { region: c.get("region") });
      return;
    }
    recordAudit(c, {
      action: failedAuth ? "auth.failure" : "write.refused",
      target: c.req.path,
      detail: { method: c.req.method, status, client: ip, ...(dropped > 0 ? { droppedBefore: dropped } : {}) },
    });
  };
}
