import { AbstractIndex } from './abstract-index.js';

const ENTRY_SIZE_BYTES = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

/**
 * Kafka's sparse offset index (`.index`): entries of int32 relative offset + int32 byte
 * position of the batch in the `.log`. An entry (o, p) says: the batch starting at p ends
 * at offset o, so a read of any offset > o can start scanning at p.
 */
export class OffsetIndex extends AbstractIndex {
  private relativeOffsets = new Int32Array(64);
  private positions = new Int32Array(64);

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(path, baseOffset, ENTRY_SIZE_BYTES, maxIndexBytes);
  }

  /**
   * Loads the file; false when it is damaged or does not fit a log of `logSizeBytes`
   * (entries must increase and point inside the log). The caller then rebuilds it.
   */
  load(logSizeBytes: number): boolean {
    if (!this.loadFile()) return false;
    let prevOffset = -1;
    let prevPosition = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = this.relativeOffsets[i] as number;
      const pos = this.positions[i] as number;
      if (rel <= prevOffset || pos <= prevPosition || pos >= logSizeBytes) return false;
      prevOffset = rel;
      prevPosition = pos;
    }
    return true;
  }

  protected ensureCapacity(entries: number): void {
    if (entries <= this.relativeOffsets.length) return;
    let size = this.relativeOffsets.length;
    while (size < entries) size *= 2;
    const r = new Int32Array(size);
    r.set(this.relativeOffsets.subarray(0, this.count));
    const p = new Int32Array(size);
    p.set(this.positions.subarray(0, this.count));
    this.relativeOffsets = r;
    this.positions = p;
  }

  protected decodeEntry(buf: Buffer, pos: number, slot: number): void {
    this.relativeOffsets[slot] = buf.readInt32BE(pos);
    this.positions[slot] = buf.readInt32BE(pos + 4);
  }

  protected encodeEntry(buf: Buffer, pos: number, slot: number): void {
    buf.writeInt32BE(this.relativeOffsets[slot] as number, pos);
    buf.writeInt32BE(this.positions[slot] as number, pos + 4);
  }

  protected relativeOffsetAt(slot: number): number {
    return this.relativeOffsets[slot] as number;
  }

  /** The last entry, or (baseOffset, 0) when empty. */
  lastEntry(): OffsetPosition {
    if (this.count === 0) return { offset: this.baseOffset, position: 0 };
    const slot = this.count - 1;
    return {
      offset: this.baseOffset + (this.relativeOffsets[slot] as number),
      position: this.positions[slot] as number,
    };
  }

  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count > 0) {
      const last = this.count - 1;
      // Invariant: offsets and positions only grow; a violation means a caller bug.
      if (rel <= (this.relativeOffsets[last] as number) || position <= (this.positions[last] as number)) {
        throw new Error(
          `offset index append out of order: (${offset}, ${position}) after ${JSON.stringify(this.lastEntry())}`,
        );
      }
    }
    if (this.isFull) throw new Error(`offset index ${this.path} is full`);
    this.ensureCapacity(this.count + 1);
    this.relativeOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
    this.persistLast();
  }

  /** The position to start scanning from for `targetOffset` (largest entry <= target). */
  lookup(targetOffset: number): OffsetPosition {
    const rel = targetOffset - this.baseOffset;
    const slot = this.floorSlot((s) => this.relativeOffsets[s] as number, rel);
    if (slot < 0) return { offset: this.baseOffset, position: 0 };
    return {
      offset: this.baseOffset + (this.relativeOffsets[slot] as number),
      position: this.positions[slot] as number,
    };
  }

  /** The last entry at or before byte `position` (a batch boundary), or (baseOffset, 0) when there is none. */
  lookupPosition(position: number): OffsetPosition {
    const slot = this.floorSlot((s) => this.positions[s] as number, position);
    if (slot < 0) return { offset: this.baseOffset, position: 0 };
    return {
      offset: this.baseOffset + (this.relativeOffsets[slot] as number),
      position: this.positions[slot] as number,
    };
  }
}
