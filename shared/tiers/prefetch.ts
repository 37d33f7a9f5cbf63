// A bounded background runner for predictive prefetch (protocol adapters decide what to warm):
// a per-run budget and concurrency limit, dedupe within a run, shared in-flight work across runs
// in this isolate, and a small expiring memory of what was warmed lately so repeated serves of
// one document do not repeat the work.
import { edgeMetrics } from "../metrics";

const PREFETCH_HELP = "Objects predictive prefetch found or loaded in the shields (packuments, tarballs, manifests, blobs).";

/** Counts one prefetched object of `kind` in `region`. */
export function countPrefetch(region: string, kind: string): void {
  edgeMetrics.inc("pkgedge_prefetch_total", PREFETCH_HELP, { region, kind });
}

/** What this isolate warmed lately: bounded (oldest dropped first) and expiring. */
export class RecentSet<V> {
  private readonly entries = new Map<string, { until: number; value: V }>();

  constructor(private readonly capacity: number, private readonly ttlMs: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    // Re-inserting moves the key to the end, so the first key is always the oldest.
    this.entries.delete(key);
    this.entries.set(key, { until: now + this.ttlMs, value });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

// Work already running in this isolate (another run, or another request's run): joined, not
// repeated. Keys carry the region, since each region has its own shields.
const inflight = new Map<string, Promise<unknown>>();

/** Runs `load` once per key across concurrent runs in this isolate. */
export function shared<T>(key: string, load: () => Promise<T>): Promise<T> {
  const running = inflight.get(key);
  if (running) return running as Promise<T>;
  const job = load().finally(() => inflight.delete(key));
  inflight.set(key, job);
  return job;
}

export interface RunLimits {
  /** Most tasks one run may start (its whole budget, every kind and depth together). */
  maxTasks: number;
  /** Tasks of one run in flight at once. */
  concurrency: number;
}

interface Queued {
  priority: number;
  seq: number;
  task: () => Promise<void>;
}

/**
 * One prefetch run: tasks are queued with a priority (lower first, so an adapter can put the
 * documents a client resolves before the bytes it downloads later), each key at most once, and
 * never more than the budget. Task errors are swallowed: prefetch must never affect a response.
 */
export class PrefetchRun {
  private readonly seen = new Set<string>();
  private readonly queue: Queued[] = [];
  private active = 0;
  private seq = 0;
  private settle: (() => void) | null = null;
  private readonly finished: Promise<void>;

  constructor(private readonly limits: RunLimits) {
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  /** Queues `task` under `key`; false when the key was seen in this run or the budget is spent. */
  add(key: string, priority: number, task: () => Promise<void>): boolean {
    if (this.seen.has(key) || this.seen.size >= this.limits.maxTasks) return false;
    this.seen.add(key);
    this.queue.push({ priority, seq: this.seq++, task });
    this.pump();
    return true;
  }

  /** Resolves once every queued task (and what they queued) has finished. */
  done(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) this.settle?.();
    return this.finished;
  }

  private pump(): void {
    while (this.active < this.limits.concurrency && this.queue.length > 0) {
      let best = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        const b = this.queue[best]!;
        if (q.priority < b.priority || (q.priority === b.priority && q.seq < b.seq)) best = i;
      }
      const [next] = this.queue.splice(best, 1);
      this.active++;
      // Started on a later microtask so a task that queues more work never re-enters pump().
      void Promise.resolve()
        .then(next!.task)
        .catch(() => {})
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.queue.length === 0) this.settle?.();
        });
    }
  }
}
