/**
 * Runs one asynchronous task at a time. A request made while the task runs does not start a second
 * run in parallel: it queues exactly one more run, which every request made meanwhile joins. The
 * promise a request returns settles after a run that started after the request.
 */
export class CoalescingTask {
  private running: Promise<void> | undefined;
  private again = false;

  /**
   * @param task the work; it should not reject (a rejection ends the current run and is passed on).
   * @param stopped when it returns true, a queued run is dropped.
   */
  constructor(private readonly task: () => Promise<void>, private readonly stopped: () => boolean = () => false) {}

  /** Starts a run, or queues one after the current run; resolves when that run is done. */
  request(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const loop = async (): Promise<void> => {
      do {
        this.again = false;
        await this.task();
      } while (this.again && !this.stopped());
    };
    const run = loop().finally(() => { if (this.running === run) { this.running = undefined; } });
    this.running = run;
    return run;
  }

  /** True while a run is in progress. */
  get busy(): boolean { return this.running !== undefined; }
}
