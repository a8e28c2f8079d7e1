/** Timer functions, swappable in tests. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The global timers. */
export const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Collapses bursts of triggers into one call: `fn` runs `delayMs` after the first trigger of a
 * burst (later triggers within the window join it; it is not pushed back, so a steady stream of
 * events still gets a resync every `delayMs`).
 */
export class Debouncer {
  private handle: unknown;
  private pending = false;

  constructor(private readonly delayMs: number, private readonly fn: () => void, private readonly timers: TimerApi = realTimers) {}

  /** Schedules a call (no-op when one is already scheduled). */
  trigger(): void {
    if (this.pending) { return; }
    this.pending = true;
    this.handle = this.timers.setTimeout(() => {
      this.pending = false;
      this.fn();
    }, this.delayMs);
  }

  /** True while a call is scheduled. */
  get scheduled(): boolean { return this.pending; }

  /** Drops a scheduled call. */
  cancel(): void {
    if (this.pending) { this.timers.clearTimeout(this.handle); }
    this.pending = false;
  }
}
