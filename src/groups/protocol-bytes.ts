/**
 * Kafka's fixed-width, non-flexible encoding of the records the group layer reads and writes
 * itself: the `__consumer_offsets` records and the consumer protocol's subscription and assignment
 * (both big-endian; strings int16 length + UTF-8, bytes and arrays int32 length, -1 for null).
 * Every read is checked against the buffer: a short or hostile input throws a RangeError.
 */

export class Writer {
  private readonly parts: Buffer[] = [];
  int16(n: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }
  int32(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  int64(n: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(n));
    this.parts.push(b);
    return this;
  }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > 0x7fff) throw new RangeError('string longer than 32767 bytes');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.parts.push(b);
    return this;
  }
  array<T>(items: readonly T[], each: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) throw new RangeError('record ends early');
    const at = this.pos;
    this.pos += n;
    return at;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.need(8)));
  }
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const at = this.need(length);
    return this.buf.toString('utf8', at, at + length);
  }
  bytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const at = this.need(length);
    return this.buf.subarray(at, at + length);
  }
  /** An array whose count is checked against the bytes left (each element takes at least `minBytes`). */
  array<T>(minBytes: number, each: () => T): T[] {
    const count = this.int32();
    if (count < 0) return [];
    if (count * minBytes > this.remaining) throw new RangeError('array longer than the record');
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(each());
    return out;
  }
}
