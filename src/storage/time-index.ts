import { AbstractIndex } from './abstract-index.js';
import { readInt64BE, writeInt64BE } from './int64.js';

const ENTRY_SIZE_BYTES = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

/**
 * Kafka's sparse time index (`.timeindex`): entries of int64 timestamp + int32 relative
 * offset. An entry (t, o) says every record with a timestamp > t sits after offset o.
 * Timestamps in the file strictly increase.
 */
export class TimeIndex extends AbstractIndex {
  // Float64 holds every integer millisecond timestamp exactly (< 2^53).
  private timestamps = new Float64Array(64);
  private relativeOffsets = new Int32Array(64);

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(path, baseOffset, ENTRY_SIZE_BYTES, maxIndexBytes);
  }

  /** Loads the file; false when damaged or pointing at or past `logEndOffset`. */
  load(logEndOffset: number): boolean {
    if (!this.loadFile()) return false;
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = -1;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestamps[i] as number;
      const rel = this.relativeOffsets[i] as number;
      if (ts <= prevTs || rel < prevRel || this.baseOffset + rel >= logEndOffset) return false;
      prevTs = ts;
      prevRel = rel;
    }
    return true;
  }

  protected ensureCapacity(entries: number): void {
    if (entries <= this.timestamps.length) return;
    let size = this.timestamps.length;
    while (size < entries) size *= 2;
    const t = new Float64Array(size);
    t.set(this.timestamps.subarray(0, this.count));
    const r = new Int32Array(size);
    r.set(this.relativeOffsets.subarray(0, this.count));
    this.timestamps = t;
    this.relativeOffsets = r;
  }

  protected decodeEntry(buf: Buffer, pos: number, slot: number): void {
    this.timestamps[slot] = readInt64BE(buf, pos);
    this.relativeOffsets[slot] = buf.readInt32BE(pos + 8);
  }

  protected encodeEntry(buf: Buffer, pos: number, slot: number): void {
    writeInt64BE(buf, this.timestamps[slot] as number, pos);
    buf.writeInt32BE(this.relativeOffsets[slot] as number, pos + 8);
  }

  protected relativeOffsetAt(slot: number): number {
    return this.relativeOffsets[slot] as number;
  }

  lastEntry(): TimestampOffset | null {
    if (this.count === 0) return null;
    const slot = this.count - 1;
    return {
      timestamp: this.timestamps[slot] as number,
      offset: this.baseOffset + (this.relativeOffsets[slot] as number),
    };
  }

  /** Adds (timestamp, offset) when the timestamp is newer than the last entry's (Kafka's rule). */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.lastEntry();
    if (last !== null && timestamp <= last.timestamp) return;
    if (last !== null && offset < last.offset) {
      throw new Error(`time index append out of order: offset ${offset} after ${last.offset}`);
    }
    if (this.isFull) throw new Error(`time index ${this.path} is full`);
    this.ensureCapacity(this.count + 1);
    this.timestamps[this.count] = timestamp;
    this.relativeOffsets[this.count] = offset - this.baseOffset;
    this.count++;
    this.persistLast();
  }

  /** The offset to start scanning from for the first record with timestamp >= `timestamp`. */
  lookup(timestamp: number): number {
    // Entries (t, o) with t < timestamp promise nothing newer than t before o... so the
    // largest entry with t < timestamp is a safe starting point; an equal t may have
    // earlier records of the same timestamp before o.
    const slot = this.floorSlot((s) => this.timestamps[s] as number, timestamp - 1);
    if (slot < 0) return this.baseOffset;
    return this.baseOffset + (this.relativeOffsets[slot] as number);
  }
}
