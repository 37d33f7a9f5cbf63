// The building blocks of every piece of state the tier walk keeps in an isolate's memory between
// requests (the edge's collapsing, L1 bookkeeping, hot keys, prefetch memory, the shield's
// collapsing). Each structure has a stated bound, because an isolate lives for many requests and
// has 128 MB: past its bound a structure stops helping (no collapsing, a forgotten entry) but
// never lets a wrong answer through.

/** The id of a key in one region: each region has its own L1 and shields, so state is per region. */
export const regionKey = (region: string, key: string): string => `${region}\n${key}`;

/**
 * Single flight: concurrent callers for one key share one piece of work (a shield call, a
 * rendering, an origin stream). At most `bound` flights are tracked; past that, work runs
 * uncollapsed, which costs requests but is always correct.
 */
export class SingleFlight<V> {
  private readonly flights = new Map<string, { value: V; startedAt: number }>();

  constructor(readonly bound: number) {}

  /** The flight in progress for `key`, if any. */
  join(key: string): V | undefined {
    return this.flights.get(key)?.value;
  }

  /** Registers `value` as the flight for `key` until `settled` settles. */
  lead(key: string, value: V, settled: Promise<unknown>, startedAt = Date.now()): V {
    if (this.flights.size >= this.bound && !this.flights.has(key)) return value;
    const entry = { value, startedAt };
    this.flights.set(key, entry);
    const land = () => {
      if (this.flights.get(key) === entry) this.flights.delete(key);
    };
    settled.then(land, land);
    return value;
  }

  /** Joins the flight for `key`, or starts `load` as a new one. */
  run<T>(this: SingleFlight<Promise<T>>, key: string, load: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const running = this.join(key);
    if (running) return { promise: running, joined: true };
    const promise = load();
    return { promise: this.lead(key, promise, promise), joined: false };
  }

  /**
   * Detaches the flight for `key` if it began at or before `version` (a write's commit time):
   * work started before a change must not be joined by requests that came after it.
   */
  forgetStartedBy(key: string, version: number): void {
    const entry = this.flights.get(key);
    if (entry && entry.startedAt <= version) this.flights.delete(key);
  }

  get size(): number {
    return this.flights.size;
  }
}

/**
 * A bounded, expiring memory (what was warmed, expanded or filled lately): at most `capacity`
 * entries, the oldest dropped first; each entry lives `ttlMs` unless set with its own lifetime.
 */
export class RecentSet<V> {
  private readonly entries = new Map<string, { until: number; value: V }>();

  constructor(readonly capacity: number, private readonly ttlMs: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string, now = Date.now()): boolean {
    return this.get(key, now) !== undefined;
  }

  set(key: string, value: V, now = Date.now(), ttlMs = this.ttlMs): void {
    // Re-inserting moves the key to the end, so the first key is always the oldest.
    this.entries.delete(key);
    this.entries.set(key, { until: now + ttlMs, value });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Live entries, oldest first. */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.until > now) yield [key, entry.value];
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * A least-recently-used map bounded by the bytes of its values (`sizeOf`), not their count:
 * reading an entry makes it the newest, and an insert evicts the oldest until the total fits
 * `capacity`. A value larger than the capacity is never kept. The capacity can change between
 * calls (each configuration states its own); shrinking evicts at once.
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(private capacity: number, private readonly sizeOf: (value: V) => number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Re-inserting moves the key to the end: the first key is always the least recently used.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value without making it the newest. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores `value`; false when it is larger than the whole capacity (nothing is kept then). */
  set(key: string, value: V): boolean {
    this.delete(key);
    const size = this.sizeOf(value);
    if (size > this.capacity) return false;
    this.entries.set(key, value);
    this.total += size;
    this.evict();
    return true;
  }

  delete(key: string): boolean {
    const value = this.entries.get(key);
    if (value === undefined) return false;
    this.entries.delete(key);
    this.total -= this.sizeOf(value);
    return true;
  }

  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    this.evict();
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Entries, least recently used first. */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries[Symbol.iterator]();
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  private evict(): void {
    while (this.total > this.capacity) this.delete(this.entries.keys().next().value!);
  }
}
