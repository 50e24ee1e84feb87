/**
 * A periodic background job with a start and a stop (STYLE: every loop is awaited on
 * shutdown). Runs never overlap; `stop()` waits for the run in progress.
 */
export class BackgroundTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => void | Promise<void>,
    private readonly onError: (name: string, err: unknown) => void,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Runs the job now (tests, and callers that want an immediate pass). */
  async runOnce(): Promise<void> {
    try {
      await this.run();
    } catch (err) {
      this.onError(this.name, err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}
