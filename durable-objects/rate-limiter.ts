// RateLimiter: the coordinator of one rate-limit key (named by a hash of the key). PoPs count a
// key locally until it nears its limit and then ask this object, which enforces the limit
// exactly with a sliding-window log held in memory and written to SQLite in batches, lends each
// PoP a lease (requests it may admit on its own, booked in the log), and deletes it all by alarm
// once the window has emptied.
import { DurableObject } from "cloudflare:workers";
import type { CheckAnswer, CheckRequest, CoordinatorStats, Lease } from "../shared/rate-limit/coordinator";
import { leaseGrant, leaseTtlMs } from "../shared/rate-limit/lease";
import { SlidingLog } from "../shared/rate-limit/sliding-window";

// Schema versions; a migration is never edited, only appended.
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS hits (at INTEGER PRIMARY KEY, n INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);`,
];

// A write per decision would hold every answer until SQLite confirmed it (the output gate): that
// measured 440 decisions/s for a caller waiting on each answer, against 1,860/s without. Batching
// writes every 200 ms keeps the speed; a restart can forget at most that much of the window.
const PERSIST_EVERY_MS = 200;

export class RateLimiter extends DurableObject<Cloudflare.Env> {
  private log = new SlidingLog();
  private windowMs = 0;
  private alarmAt: number | null = null;
  private readonly counters = { checks: 0, admitted: 0, denied: 0, reported: 0, leases: 0, lent: 0, returned: 0 };
  /** Log entries not yet in SQLite (at -> requests), and the prune cutoff not yet applied there. */
  private readonly unwritten = new Map<number, number>();
  private unwrittenCutoff: number | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS schema (version INTEGER NOT NULL)");
      const version = sql.exec<{ version: number }>("SELECT version FROM schema").toArray()[0]?.version ?? 0;
      for (let v = version; v < MIGRATIONS.length; v++) sql.exec(MIGRATIONS[v]!);
      if (version === 0) sql.exec("INSERT INTO schema (version) VALUES (?)", MIGRATIONS.length);
      else if (version < MIGRATIONS.length) sql.exec("UPDATE schema SET version = ?", MIGRATIONS.length);
      this.windowMs = sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = 'window_ms'").toArray()[0]?.v ?? 0;
      this.log = new SlidingLog(sql.exec<{ at: number; n: number }>("SELECT at, n FROM hits ORDER BY at").toArray());
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Decides one request for this key (unless `admit` is false: a background lease refill), after
   * adding what the calling PoP admitted on its own and taking back what its old leases left
   * unused; then lends it a lease when it asked for one and the window has room.
   */
  async check(req: CheckRequest): Promise<CheckAnswer> {
    const now = Date.now();
    this.counters.checks++;
    if (req.windowMs !== this.windowMs) {
      this.windowMs = req.windowMs;
      this.ctx.storage.sql.exec("INSERT INTO meta (k, v) VALUES ('window_ms', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", req.windowMs);
    }
    this.prune(now);
    for (const r of req.returned ?? []) {
      const back = this.log.release(r.at, r.n);
      if (back > 0) {
        this.persist(r.at, -back);
        this.counters.returned += back;
      }
    }
    if (req.reported > 0) {
      // Counted as of now, though they happened earlier in the window: they leave the window
      // late, never early, so the log can only overstate what went through.
      this.log.add(now, req.reported);
      this.persist(this.log.newest!, req.reported);
      this.counters.reported += req.reported;
    }
    let decision = { allowed: true, remaining: Math.max(0, req.limit - this.log.count), retryAfterMs: 0 };
    if (req.admit !== false) {
      decision = this.log.admit(now, req.limit, req.windowMs);
      if (decision.allowed) {
        // The entry it joined is the newest (a lease may already reach past now).
        this.persist(this.log.newest!, 1);
        this.counters.admitted++;
      } else {
        this.counters.denied++;
      }
    }
    const lease = decision.allowed ? this.lend(now, req) : undefined;
    await this.ensureAlarm();
    // Hot while the window holds at least a threshold's worth: until then every PoP asks here.
    const hotFor = this.log.count >= req.threshold ? this.log.timeUntilBelow(req.threshold, now, req.windowMs) : 0;
    return {
      allowed: decision.allowed,
      remaining: lease ? Math.max(0, decision.remaining - lease.n) : decision.remaining,
      retryAfterMs: decision.retryAfterMs,
      claimUntil: hotFor > 0 ? now + hotFor : 0,
      ...(lease ? { lease } : {}),
    };
  }

  // Lent requests are booked at the lease's end: a PoP may spend them at any instant until then,
  // and booking each at the latest instant it can happen keeps every window's count an upper bound.
  private lend(now: number, req: CheckRequest): Lease | undefined {
    const n = leaseGrant(req.want ?? 0, req.limit, this.log.count, req.threshold);
    if (n < 1) return undefined;
    const ttlMs = leaseTtlMs(req.windowMs);
    const at = this.log.reserve(now + ttlMs, n);
    this.persist(at, n);
    this.counters.leases++;
    this.counters.lent += n;
    return { n, ttlMs, at };
  }

  stats(): CoordinatorStats {
    return { ...this.counters, inWindow: this.log.count, alarmAt: this.alarmAt };
  }

  /** Expires the window; when nothing is left, the object's storage is emptied. Idempotent. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.prune(now);
    this.flush();
    if (this.log.newest === null) {
      this.ctx.storage.sql.exec("DELETE FROM hits");
      this.ctx.storage.sql.exec("DELETE FROM meta");
      this.windowMs = 0;
      return;
    }
    await this.ensureAlarm();
  }

  private prune(now: number): void {
    if (this.windowMs <= 0) return;
    const cutoff = this.log.prune(now, this.windowMs);
    if (cutoff === null) return;
    for (const at of this.unwritten.keys()) if (at <= cutoff) this.unwritten.delete(at);
    this.unwrittenCutoff = cutoff;
    this.scheduleFlush();
  }

  private persist(at: number, n: number): void {
    this.unwritten.set(at, (this.unwritten.get(at) ?? 0) + n);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), PERSIST_EVERY_MS);
  }

  /** Writes the batched log changes in one transaction. */
  private flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.unwritten.size === 0 && this.unwrittenCutoff === null) return;
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      if (this.unwrittenCutoff !== null) sql.exec("DELETE FROM hits WHERE at <= ?", this.unwrittenCutoff);
      for (const [at, n] of this.unwritten) {
        sql.exec("INSERT INTO hits (at, n) VALUES (?, ?) ON CONFLICT (at) DO UPDATE SET n = n + excluded.n", at, n);
      }
    });
    this.unwritten.clear();
    this.unwrittenCutoff = null;
  }

  // One alarm per busy spell: set when none is pending, for when the newest entry expires; if
  // newer entries arrived by then, the alarm sets the next one.
  private async ensureAlarm(): Promise<void> {
    const newest = this.log.newest;
    if (this.alarmAt !== null || newest === null) return;
    this.alarmAt = newest + this.windowMs;
    await this.ctx.storage.setAlarm(this.alarmAt);
  }
}
