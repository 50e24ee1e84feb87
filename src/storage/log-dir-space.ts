import fs from 'node:fs';

/**
 * Free space of the filesystem that holds a log dir, as `df` shows it to an unprivileged user
 * (available blocks × block size). Read with one statfs call at most once per `maxAgeMs`, however
 * often health probes ask, and never by walking the directory.
 */
export class LogDirSpace {
  private availableBytes: number | undefined;
  private readAtMs = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    private readonly maxAgeMs = 5_000,
  ) {}

  /** Bytes available for new data, or undefined when the filesystem cannot be asked (the dir is gone). */
  async available(now = Date.now()): Promise<number | undefined> {
    if (now - this.readAtMs >= this.maxAgeMs) {
      // Concurrent probes share one statfs.
      this.reading ??= this.read(now).finally(() => {
        this.reading = null;
      });
      await this.reading;
    }
    return this.availableBytes;
  }

  private async read(now: number): Promise<void> {
    try {
      const stats = await fs.promises.statfs(this.dir);
      this.availableBytes = stats.bavail * stats.bsize;
    } catch {
      this.availableBytes = undefined;
    }
    this.readAtMs = now;
  }
}
