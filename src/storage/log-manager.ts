import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { BackgroundTask } from './background-task.js';
import { LogCleaner } from './log-cleaner.js';
import type { LogConfig } from './log-config.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from './offset-checkpoint-file.js';
import { PartitionLog } from './partition-log.js';

/** Kafka's names for the files in the root of a log dir. */
const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint';
const HIGH_WATERMARK_FILE = 'replication-offset-checkpoint';
/** Kafka's file of log start offsets moved by DeleteRecords inside a segment. */
const LOG_START_OFFSET_FILE = 'log-start-offset-checkpoint';
/** Kafka's `replica.high.watermark.checkpoint.interval.ms` default. */
const DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;

export interface LogManagerOptions {
  dataDir: string;
  /** `log.retention.check.interval.ms` (Kafka default 300000). */
  retentionCheckIntervalMs: number;
  /** How often `flush.ms` is checked (Kafka `log.flush.scheduler.interval.ms`). */
  flushCheckIntervalMs: number;
  /** How often recovery points are checkpointed (Kafka `log.flush.offset.checkpoint.interval.ms`). */
  checkpointIntervalMs: number;
  /** How often high watermarks are checkpointed (Kafka `replica.high.watermark.checkpoint.interval.ms`, 5000). */
  highWatermarkCheckpointIntervalMs?: number;
  /** Pause between cleaner passes (Kafka `log.cleaner.backoff.ms`). */
  cleanerBackoffMs: number;
  onError: (task: string, err: unknown) => void;
  /** Told how long each fsync of a partition log took (metrics). */
  onFlush?: (durationMs: number) => void;
}

export interface LoadReport {
  cleanShutdown: boolean;
  logs: number;
  truncatedBytes: number;
  durationMs: number;
}

/**
 * Every partition log in one data dir (Kafka's LogManager): start-up recovery, the
 * clean-shutdown marker, recovery-point and high-watermark checkpoints, and the background loops
 * for retention, time-based flushing, checkpointing and compaction. (Kafka's ReplicaManager owns
 * the high-watermark checkpoint; here the data dir's owner does, since the high watermark lives on
 * the log.) Checkpoints are written periodically and on shutdown, never per append.
 */
export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private cleanShutdown = false;
  /** Every log the metadata names was opened (and recovered); only then can a stop be clean. */
  private loadingComplete = false;
  private recoveryPoints = new Map<string, number>();
  private highWatermarks = new Map<string, number>();
  private logStartOffsets = new Map<string, number>();
  private readonly tasks: BackgroundTask[];
  readonly cleaner = new LogCleaner();

  constructor(private readonly options: LogManagerOptions) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    this.tasks = [
      new BackgroundTask(
        'log-retention',
        options.retentionCheckIntervalMs,
        () => {
          this.runRetention(Date.now());
        },
        options.onError,
      ),
      new BackgroundTask(
        'log-flusher',
        options.flushCheckIntervalMs,
        () => this.runTimeFlush(Date.now()),
        options.onError,
      ),
      new BackgroundTask(
        'recovery-point-checkpoint',
        options.checkpointIntervalMs,
        () => {
          this.checkpointRecoveryPoints();
          this.checkpointLogStartOffsets();
        },
        options.onError,
      ),
      new BackgroundTask(
        'high-watermark-checkpoint',
        options.highWatermarkCheckpointIntervalMs ?? DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
        () => this.checkpointHighWatermarks(),
        options.onError,
      ),
      new BackgroundTask('log-cleaner', options.cleanerBackoffMs, () => this.runCleaner(Date.now()), options.onError),
    ];
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /**
   * Reads the clean-shutdown marker, the recovery points and the high watermarks, then removes
   * the marker at once: a crash from here on must look unclean to the next start.
   */
  beginLoading(): void {
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    this.cleanShutdown = fs.existsSync(marker);
    this.recoveryPoints = readOffsetCheckpoint(path.join(this.dataDir, RECOVERY_POINT_FILE));
    this.highWatermarks = readOffsetCheckpoint(path.join(this.dataDir, HIGH_WATERMARK_FILE));
    this.logStartOffsets = readOffsetCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_FILE));
    fs.rmSync(marker, { force: true });
    // Directories of deleted topics whose removal a crash interrupted.
    for (const entry of fs.readdirSync(this.dataDir)) {
      if (entry.endsWith('-delete')) fs.rmSync(path.join(this.dataDir, entry), { recursive: true, force: true });
    }
  }

  /** Called once every log is open; a shutdown before this must not claim to be clean. */
  finishLoading(): void {
    this.loadingComplete = true;
  }

  get wasCleanShutdown(): boolean {
    return this.cleanShutdown;
  }

  /**
   * Opens (recovering as needed) or creates the log of one partition. Its high watermark starts
   * at the checkpointed one, clamped to the log; a leader then advances it as its ISR allows.
   */
  loadLog(topic: string, partition: number, config: LogConfig): { log: PartitionLog; truncatedBytes: number } {
    const name = `${topic}-${partition}`;
    const existing = this.logs.get(name);
    if (existing) return { log: existing, truncatedBytes: 0 };
    const { log, truncatedBytes } = PartitionLog.open(path.join(this.dataDir, name), topic, partition, config, {
      recoveryPoint: this.recoveryPoints.get(name) ?? 0,
      highWatermark: this.highWatermarks.get(name) ?? 0,
      logStartOffset: this.logStartOffsets.get(name) ?? 0,
      cleanShutdown: this.cleanShutdown,
      onFlush: this.options.onFlush,
    });
    this.logs.set(name, log);
    return { log, truncatedBytes };
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  allLogs(): IterableIterator<PartitionLog> {
    return this.logs.values();
  }

  /** Partition directories present on disk, as (topic, partition). */
  listPartitionDirs(): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = [];
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (m) out.push({ topic: m[1] as string, partition: Number(m[2]) });
    }
    return out;
  }

  /**
   * Deletes a partition's log: the directory is renamed `<name>.<uuid>-delete` first (Kafka's
   * convention), so a crash mid-removal never resurrects the data, then removed.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const name = `${topic}-${partition}`;
    const log = this.logs.get(name);
    this.logs.delete(name);
    const dir = path.join(this.dataDir, name);
    if (log) await log.close();
    if (!fs.existsSync(dir)) return;
    const doomed = path.join(this.dataDir, `${name}.${randomUUID().replaceAll('-', '')}-delete`);
    fs.renameSync(dir, doomed);
    await fs.promises.rm(doomed, { recursive: true, force: true });
  }

  startBackgroundTasks(): void {
    for (const t of this.tasks) t.start();
  }

  runRetention(now: number): number {
    let deleted = 0;
    for (const log of this.logs.values()) deleted += log.deleteOldSegments(now);
    return deleted;
  }

  private runTimeFlush(now: number): void {
    for (const log of this.logs.values()) log.maybeFlushByTime(now);
  }

  async runCleaner(now: number): Promise<void> {
    for (const log of [...this.logs.values()]) {
      if (this.cleaner.needsCleaning(log, now)) await this.cleaner.clean(log, now);
    }
  }

  checkpointRecoveryPoints(): void {
    const entries = [...this.logs.values()].map((l) => ({
      topic: l.topic,
      partition: l.partition,
      offset: l.recoveryPoint,
    }));
    writeOffsetCheckpoint(path.join(this.dataDir, RECOVERY_POINT_FILE), entries);
  }

  /**
   * Writes `log-start-offset-checkpoint`: every log's start offset. DeleteRecords writes it at once,
   * so deleted records stay deleted after a crash; the recovery-point task and shutdown write it too.
   */
  checkpointLogStartOffsets(): void {
    const entries = [...this.logs.values()].map((l) => ({
      topic: l.topic,
      partition: l.partition,
      offset: l.logStartOffset,
    }));
    writeOffsetCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_FILE), entries);
  }

  /** Writes `replication-offset-checkpoint`: every log's high watermark. */
  checkpointHighWatermarks(): void {
    const entries = [...this.logs.values()].map((l) => ({
      topic: l.topic,
      partition: l.partition,
      offset: l.highWatermark,
    }));
    writeOffsetCheckpoint(path.join(this.dataDir, HIGH_WATERMARK_FILE), entries);
  }

  /**
   * Stops the loops, flushes and closes every log, checkpoints recovery points and high
   * watermarks, and only then writes the clean-shutdown marker, so the next start can skip
   * recovery. A stop that interrupts loading writes no marker: logs not yet recovered must be
   * recovered next time. It writes no checkpoint either: logs not yet loaded are not listed,
   * and a checkpoint would forget them.
   */
  async shutdown(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.stop()));
    for (const log of this.logs.values()) await log.close();
    if (this.loadingComplete) {
      this.checkpointRecoveryPoints();
      this.checkpointHighWatermarks();
      this.checkpointLogStartOffsets();
      writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
    }
    this.logs.clear();
  }
}
