// A bounded background runner for predictive prefetch (protocol adapters decide what to warm):
// a per-run budget and concurrency limit, dedupe within a run, shared in-flight work across runs
// in this isolate (what was warmed lately is remembered with isolate-state's RecentSet, so
// repeated serves of one document do not repeat the work).
import { edgeMetrics } from "../metrics";
import { SingleFlight } from "./isolate-state";

const PREFETCH_HELP = "Objects predictive prefetch found or loaded in the shields (packuments, tarballs, manifests, blobs).";

/** Counts one prefetched object of `kind` in `region`. */
export function countPrefetch(region: string, kind: string): void {
  edgeMetrics.inc("pkgedge_prefetch_total", PREFETCH_HELP, { region, kind });
}

// How long a run waits before its first task. Started at once, its shield calls compete with the
// delivery of the answer that triggered it: locally a cold install's first packument took 0.3 s
// instead of 35 ms. The installer's own next requests come later than this anyway (it parses the
// document first), and a request that finds a prefetch in flight joins it.
export const START_DELAY_MS = 20;

/** Runs `start` once the answer that triggered it has had START_DELAY_MS to go out. */
export function afterAnswer<T>(start: () => Promise<T>): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, START_DELAY_MS)).then(start);
}

// Work already running in this isolate (another run, or another request's run): joined, not
// repeated. Keys carry the region, since each region has its own shields.
const inflight = new SingleFlight<Promise<unknown>>(4_096);

/** Runs `load` once per key across concurrent runs in this isolate. */
export function shared<T>(key: string, load: () => Promise<T>): Promise<T> {
  return inflight.run(key, load).promise as Promise<T>;
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
