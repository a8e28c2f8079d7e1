/** Timer functions, swappable in tests. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** The clock, ms (default `Date.now`). */
  now?(): number;
}

/** The global timers. */
export const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

/**
 * Limits calls to one per `delayMs` while keeping the first one quick: the first trigger after a
 * quiet period calls `fn` on the next turn of the event loop (triggers of the same turn join it);
 * triggers within `delayMs` after a call join one more call at the end of that window. A burst of
 * events thus costs two calls (its start and its end state), and a steady stream one call per
 * `delayMs` (never starved).
 */
export class Debouncer {
  private handle: unknown;
  private pending = false;
  /** Until when (clock ms) a new trigger waits: `delayMs` after the last call. */
  private quietAt = 0;

  constructor(private readonly delayMs: number, private readonly fn: () => void, private readonly timers: TimerApi = realTimers) {}

  private now(): number { return this.timers.now?.() ?? Date.now(); }

  /** Schedules a call (no-op when one is already scheduled). */
  trigger(): void {
    if (this.pending) { return; }
    this.pending = true;
    this.handle = this.timers.setTimeout(() => {
      this.pending = false;
      this.quietAt = this.now() + this.delayMs;
      this.fn();
    }, Math.max(0, this.quietAt - this.now()));
  }

  /** True while a call is scheduled. */
  get scheduled(): boolean { return this.pending; }

  /** Drops a scheduled call. */
  cancel(): void {
    if (this.pending) { this.timers.clearTimeout(this.handle); }
    this.pending = false;
  }
}
