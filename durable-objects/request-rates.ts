// Per-key request rates seen by one shield shard, for hot-key detection: a sliding one-second
// window approximated from the current and previous second's counts (as in sliding-window
// rate limiters), kept in memory because it only has to describe the last few seconds.

const MAX_KEYS = 10_000;

interface Window {
  second: number;
  current: number;
  previous: number;
}

export class RequestRates {
  private readonly windows = new Map<string, Window>();

  /** Counts one request for `key` and returns its rate in requests per second. */
  hit(key: string, now = Date.now()): number {
    const second = Math.floor(now / 1000);
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= MAX_KEYS) this.windows.clear();
      w = { second, current: 0, previous: 0 };
      this.windows.set(key, w);
    }
    if (w.second !== second) {
      w.previous = w.second === second - 1 ? w.current : 0;
      w.current = 0;
      w.second = second;
    }
    w.current++;
    const elapsed = (now % 1000) / 1000;
    return w.current + w.previous * (1 - elapsed);
  }
}
