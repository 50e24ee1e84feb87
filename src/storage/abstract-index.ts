import fs from 'node:fs';
import { storageFaultOf } from './storage-fault.js';

/** Most entries held in memory before they are written out. */
const WRITE_BEHIND_ENTRIES = 256;

/**
 * What the offset and time indexes share (Kafka's AbstractIndex): a file of fixed-size,
 * big-endian entries, mirrored in memory for binary search. Kafka preallocates and mmaps the
 * file; Node has no mmap, so entries are appended with positional writes and the file is
 * always exactly `persisted * entrySizeBytes` long (what Kafka trims it to when a segment closes).
 * New entries are written behind, a run at a time (at `flush`, when the segment rolls, at
 * `close`, or every WRITE_BEHIND_ENTRIES): an append then costs one write syscall, the log's,
 * not three. This is as safe as Kafka's mmap, whose pages also reach the file whenever the OS
 * likes: a crash can only lose entries above the recovery point, and recovery rebuilds those
 * segments' indexes from the log. An index has no checksum: when it disagrees with its log it is
 * rebuilt.
 */
export abstract class AbstractIndex {
  protected fd: number;
  protected count = 0;
  /** Entries the file holds; `persisted..count` wait to be written. */
  private persisted = 0;
  /** Entries are kept in memory only while a rebuild is in progress, then written at once. */
  private deferWrites = false;
  readonly maxEntries: number;

  protected constructor(
    readonly path: string,
    readonly baseOffset: number,
    readonly entrySizeBytes: number,
    maxIndexBytes: number,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / entrySizeBytes));
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeBytes(): number {
    return this.count * this.entrySizeBytes;
  }

  /** Reads the file into memory. Returns false when its length is not whole entries. */
  protected loadFile(): boolean {
    const size = fs.fstatSync(this.fd).size;
    const whole = size % this.entrySizeBytes === 0;
    const entries = Math.min(Math.floor(size / this.entrySizeBytes), this.maxEntries);
    const buf = Buffer.alloc(entries * this.entrySizeBytes);
    if (buf.length > 0) fs.readSync(this.fd, buf, 0, buf.length, 0);
    this.ensureCapacity(entries);
    for (let i = 0; i < entries; i++) this.decodeEntry(buf, i * this.entrySizeBytes, i);
    this.count = entries;
    this.persisted = entries;
    return whole;
  }

  protected abstract ensureCapacity(entries: number): void;
  protected abstract decodeEntry(buf: Buffer, pos: number, slot: number): void;
  protected abstract encodeEntry(buf: Buffer, pos: number, slot: number): void;
  /** Relative offset stored in `slot`. */
  protected abstract relativeOffsetAt(slot: number): number;

  /** Notes the entry now in slot `count - 1`; it reaches the file with the next run written. */
  protected persistLast(): void {
    if (this.deferWrites) return;
    if (this.count - this.persisted >= WRITE_BEHIND_ENTRIES) this.writePending();
  }

  /**
   * Writes the entries not yet in the file, in one positional write. A segment calls it when it
   * stops being active: segments below the recovery point are not rebuilt after a crash, so
   * their files must hold every entry.
   */
  writePending(): void {
    const pending = this.count - this.persisted;
    if (pending <= 0 || this.deferWrites) return;
    const buf = Buffer.allocUnsafe(pending * this.entrySizeBytes);
    for (let i = 0; i < pending; i++) this.encodeEntry(buf, i * this.entrySizeBytes, this.persisted + i);
    let written = 0;
    const at = this.persisted * this.entrySizeBytes;
    try {
      while (written < buf.length) written += fs.writeSync(this.fd, buf, written, buf.length - written, at + written);
    } catch (err) {
      // A full or read-only disk: the entries stay pending and go out with the next run. The index
      // is sparse, so a file short of entries still answers every lookup right (from an earlier
      // entry, with a longer scan), and the batch the log already holds is not failed for it.
      if (storageFaultOf(err, this.path) === undefined) throw err;
      if (written > 0) {
        try {
          fs.ftruncateSync(this.fd, at);
        } catch {
          // a file of part-entries is found (not whole entries) and rebuilt when it is next loaded
        }
      }
      return;
    }
    this.persisted = this.count;
  }

  /** Starts a rebuild from the log: forgets every entry and defers writes until `endRebuild`. */
  beginRebuild(): void {
    this.count = 0;
    this.persisted = 0;
    this.deferWrites = true;
  }

  endRebuild(): void {
    this.deferWrites = false;
    fs.ftruncateSync(this.fd, 0);
    // Written as one run of pending entries: a full disk leaves them pending (see writePending),
    // so a log can be recovered, and served, on a disk with no room for its indexes.
    this.persisted = 0;
    this.writePending();
  }

  /** Drops every entry whose offset is at or above `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && this.relativeOffsetAt(keep - 1) >= rel) keep--;
    if (keep === this.count) return;
    this.count = keep;
    if (keep < this.persisted) {
      this.persisted = keep;
      if (!this.deferWrites) fs.ftruncateSync(this.fd, keep * this.entrySizeBytes);
    }
  }

  flush(): void {
    this.writePending();
    fs.fsyncSync(this.fd);
  }

  close(): void {
    this.writePending();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Binary search: the last slot whose key is <= target, or -1. */
  protected floorSlot(key: (slot: number) => number, target: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (key(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
