/**
 * One encoder/decoder for every API, driven by the declarative schemas (schema.ts). Decoding is
 * bounded: every length is checked against the bytes left in the frame before anything is read or
 * allocated, so a hostile length throws a KafkaCodecError instead of reading out of bounds or
 * building a huge array. Fields absent in a version decode to their defaults, so a handler sees the
 * same shape whatever version the client spoke. int64/varlong values are bigints; uuids are
 * 36-character strings; bytes and records are Buffers (records never decoded here).
 */
import { type Field, type FieldType, inRange, type MessageSchema, type Primitive, propertyName } from './schema.js';

export class KafkaCodecError extends Error {
  override readonly name = 'KafkaCodecError';
}

export type Message = Record<string, unknown>;

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function isFlexible(schema: MessageSchema, version: number): boolean {
  return inRange(schema.flexibleVersions, version);
}

function checkVersion(schema: MessageSchema, version: number): void {
  if (!Number.isInteger(version) || !inRange(schema.validVersions, version)) {
    throw new KafkaCodecError(`${schema.name} has no version ${version}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults

export function defaultValue(field: Field, version: number): unknown {
  if (field.default !== undefined) {
    const t = field.type;
    if (t === 'int64' || t === 'varlong') return BigInt(field.default as number);
    return field.default;
  }
  if (inRange(field.nullableVersions, version) && typeof field.type === 'object' && 'struct' in field.type) return null;
  return defaultOfType(field.type, version);
}

function defaultOfType(type: FieldType, version: number): unknown {
  if (typeof type === 'object') {
    if ('array' in type) return [];
    return defaultsFor(type.struct, version);
  }
  switch (type) {
    case 'bool':
      return false;
    case 'int64':
    case 'varlong':
      return 0n;
    case 'uuid':
      return ZERO_UUID;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    default:
      return 0;
  }
}

function defaultsFor(fields: Field[], version: number): Message {
  const out: Message = {};
  for (const field of fields) out[propertyName(field)] = defaultValue(field, version);
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(b as object);
    return keys.every((k) => sameValue((a as Message)[k], (b as Message)[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  need(n: number): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new KafkaCodecError(`frame truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf[this.need(1)] as number;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw new KafkaCodecError('unsigned varint out of range');
        return value;
      }
    }
    throw new KafkaCodecError('unsigned varint longer than 5 bytes');
  }

  uvarlong(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.buf[this.need(1)] as number;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new KafkaCodecError('varlong longer than 10 bytes');
  }
}

function readLength(r: Reader, compact: boolean, nullable: boolean, what: string): number | null {
  const length = compact ? r.uvarint() - 1 : r.buf.readInt32BE(r.need(4));
  if (length < 0) {
    if (length === -1 && nullable) return null;
    throw new KafkaCodecError(`${what}: invalid length ${length}`);
  }
  return length;
}

function readPrimitive(r: Reader, type: Primitive, compact: boolean, nullable: boolean, what: string): unknown {
  const b = r.buf;
  switch (type) {
    case 'bool':
      return b[r.need(1)] !== 0;
    case 'int8':
      return b.readInt8(r.need(1));
    case 'int16':
      return b.readInt16BE(r.need(2));
    case 'uint16':
      return b.readUInt16BE(r.need(2));
    case 'int32':
      return b.readInt32BE(r.need(4));
    case 'int64':
      return b.readBigInt64BE(r.need(8));
    case 'float64':
      return b.readDoubleBE(r.need(8));
    case 'varint': {
      const u = r.uvarint();
      return (u >>> 1) ^ -(u & 1);
    }
    case 'varlong': {
      const u = r.uvarlong();
      return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
    }
    case 'uuid': {
      const hex = b.toString('hex', r.need(16), r.pos);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    case 'string': {
      const length = compact ? r.uvarint() - 1 : b.readInt16BE(r.need(2));
      if (length < 0) {
        if (length === -1 && nullable) return null;
        throw new KafkaCodecError(`${what}: invalid string length ${length}`);
      }
      const at = r.need(length);
      return b.toString('utf8', at, at + length);
    }
    case 'bytes':
    case 'records': {
      const length = readLength(r, compact, nullable, what);
      if (length === null) return null;
      const at = r.need(length);
      // Records are a view of the frame, not a copy: the listener never reuses a frame's memory
      // (each is its socket chunk, or the chunks joined), and a Produce's batch is written from
      // there; copying it cost a tenth of a microsecond per 100-byte record (bench/kafka.ts).
      if (type === 'records') return b.subarray(at, at + length);
      return Buffer.from(b.subarray(at, at + length));
    }
  }
}

function readType(
  r: Reader,
  field: Field,
  type: FieldType,
  version: number,
  flexible: boolean,
  nullable: boolean,
): unknown {
  const compact = flexible && field.flexible !== false;
  if (typeof type === 'string') return readPrimitive(r, type, compact, nullable, field.name);
  if ('struct' in type) {
    if (nullable) {
      // Nullable structs carry a presence byte (-1 null, 1 present).
      if (r.buf.readInt8(r.need(1)) < 0) return null;
    }
    return readStruct(r, type.struct, version, flexible);
  }
  const count = readLength(r, compact, nullable, field.name);
  if (count === null) return null;
  // Every element takes at least one byte, so a count beyond the bytes left is a lie.
  if (count > r.remaining()) throw new KafkaCodecError(`${field.name}: array of ${count} exceeds the frame`);
  const out = new Array<unknown>(count);
  const of = type.array;
  for (let i = 0; i < count; i++) {
    out[i] =
      typeof of === 'string' ? readPrimitive(r, of, compact, false, field.name) : readStruct(r, of, version, flexible);
  }
  return out;
}

function readStruct(r: Reader, fields: Field[], version: number, flexible: boolean): Message {
  const out: Message = {};
  let tagged: Map<number, Field> | undefined;
  for (const field of fields) {
    const key = propertyName(field);
    if (!inRange(field.versions, version)) {
      out[key] = defaultValue(field, version);
      continue;
    }
    if (flexible && field.tag !== undefined && inRange(field.taggedVersions, version)) {
      out[key] = defaultValue(field, version);
      if (tagged === undefined) tagged = new Map();
      tagged.set(field.tag, field);
      continue;
    }
    out[key] = readType(r, field, field.type, version, flexible, inRange(field.nullableVersions, version));
  }
  if (flexible) readTaggedFields(r, out, tagged, version);
  return out;
}

function readTaggedFields(r: Reader, out: Message, known: Map<number, Field> | undefined, version: number): void {
  const count = r.uvarint();
  if (count > r.remaining()) throw new KafkaCodecError(`${count} tagged fields exceed the frame`);
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    if (tag <= previous) throw new KafkaCodecError(`tagged field ${tag} out of order`);
    previous = tag;
    const size = r.uvarint();
    const start = r.need(size);
    const field = known?.get(tag);
    // KIP-482: a tag this version does not know is skipped.
    if (field === undefined) continue;
    const sub = new Reader(r.buf, start, start + size);
    out[propertyName(field)] = readType(
      sub,
      field,
      field.type,
      version,
      true,
      inRange(field.nullableVersions, version),
    );
    if (sub.pos !== sub.end) throw new KafkaCodecError(`tagged field ${field.name} has trailing bytes`);
  }
}

export interface Decoded {
  value: Message;
  /** The offset just after the decoded message. */
  end: number;
}

/** Decode one message starting at `offset`; bytes after it are left for the caller (header then body). */
export function decodeAt(
  buf: Buffer,
  offset: number,
  schema: MessageSchema,
  version: number,
  end = buf.length,
): Decoded {
  checkVersion(schema, version);
  const r = new Reader(buf, offset, end);
  try {
    const value = readStruct(r, schema.fields, version, isFlexible(schema, version));
    return { value, end: r.pos };
  } catch (error) {
    if (error instanceof KafkaCodecError) throw error;
    // Buffer's own RangeError (cannot happen after need(), but never let it escape as another type).
    throw new KafkaCodecError(`${schema.name} v${version}: ${(error as Error).message}`);
  }
}

/** Decode a whole buffer as one message; trailing bytes are an error. */
export function decode(buf: Buffer, schema: MessageSchema, version: number): Message {
  const { value, end } = decodeAt(buf, 0, schema, version);
  if (end !== buf.length) throw new KafkaCodecError(`${schema.name} v${version}: ${buf.length - end} trailing bytes`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  reserve(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  // reserve() may swap in a bigger buffer, so it always runs before this.buf is read.
  bytes(data: Buffer): void {
    const at = this.reserve(data.length);
    data.copy(this.buf, at);
  }

  byte(value: number): void {
    const at = this.reserve(1);
    this.buf[at] = value;
  }

  uvarint(value: number): void {
    let rest = value >>> 0;
    while (rest >= 0x80) {
      this.byte((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    this.byte(rest);
  }

  uvarlong(value: bigint): void {
    let rest = BigInt.asUintN(64, value);
    while (rest >= 0x80n) {
      this.byte(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.byte(Number(rest));
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function writeLength(w: Writer, compact: boolean, length: number): void {
  if (compact) w.uvarint(length + 1);
  else {
    const at = w.reserve(4);
    w.buf.writeInt32BE(length, at);
  }
}

function fail(field: Field, why: string): never {
  throw new KafkaCodecError(`${field.name}: ${why}`);
}

function writePrimitive(
  w: Writer,
  field: Field,
  type: Primitive,
  value: unknown,
  compact: boolean,
  nullable: boolean,
): void {
  switch (type) {
    case 'bool':
      w.byte(value ? 1 : 0);
      return;
    case 'int8':
      {
        const at = w.reserve(1);
        w.buf.writeInt8(value as number, at);
      }
      return;
    case 'int16':
      {
        const at = w.reserve(2);
        w.buf.writeInt16BE(value as number, at);
      }
      return;
    case 'uint16':
      {
        const at = w.reserve(2);
        w.buf.writeUInt16BE(value as number, at);
      }
      return;
    case 'int32':
      {
        const at = w.reserve(4);
        w.buf.writeInt32BE(value as number, at);
      }
      return;
    case 'int64':
      {
        const at = w.reserve(8);
        w.buf.writeBigInt64BE(BigInt(value as bigint), at);
      }
      return;
    case 'float64':
      {
        const at = w.reserve(8);
        w.buf.writeDoubleBE(value as number, at);
      }
      return;
    case 'varint': {
      const n = value as number;
      w.uvarint(((n << 1) ^ (n >> 31)) >>> 0);
      return;
    }
    case 'varlong': {
      const n = BigInt.asIntN(64, BigInt(value as bigint));
      w.uvarlong((n << 1n) ^ (n >> 63n));
      return;
    }
    case 'uuid': {
      const hex = String(value).replaceAll('-', '');
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail(field, `not a uuid: ${String(value)}`);
      w.bytes(Buffer.from(hex, 'hex'));
      return;
    }
    case 'string': {
      if (value === null || value === undefined) {
        if (!nullable) fail(field, 'null in a version where it is not nullable');
        if (compact) w.uvarint(0);
        else {
          const at = w.reserve(2);
          w.buf.writeInt16BE(-1, at);
        }
        return;
      }
      const data = Buffer.from(String(value), 'utf8');
      if (compact) w.uvarint(data.length + 1);
      else {
        if (data.length > 0x7fff) fail(field, 'string longer than 32767 bytes');
        {
          const at = w.reserve(2);
          w.buf.writeInt16BE(data.length, at);
        }
      }
      w.bytes(data);
      return;
    }
    case 'bytes':
    case 'records': {
      if (value === null || value === undefined) {
        if (!nullable) fail(field, 'null in a version where it is not nullable');
        writeLength(w, compact, -1);
        return;
      }
      const data = value as Buffer;
      writeLength(w, compact, data.length);
      w.bytes(data);
      return;
    }
  }
}

function writeType(
  w: Writer,
  field: Field,
  type: FieldType,
  value: unknown,
  version: number,
  flexible: boolean,
  nullable: boolean,
): void {
  const compact = flexible && field.flexible !== false;
  if (typeof type === 'string') {
    writePrimitive(w, field, type, value, compact, nullable);
    return;
  }
  if ('struct' in type) {
    if (nullable) {
      {
        const at = w.reserve(1);
        w.buf.writeInt8(value === null || value === undefined ? -1 : 1, at);
      }
      if (value === null || value === undefined) return;
    }
    writeStruct(w, type.struct, (value ?? {}) as Message, version, flexible);
    return;
  }
  if (value === null || value === undefined) {
    if (!nullable) fail(field, 'null array in a version where it is not nullable');
    writeLength(w, compact, -1);
    return;
  }
  const items = value as unknown[];
  writeLength(w, compact, items.length);
  const of = type.array;
  for (const item of items) {
    if (typeof of === 'string') writePrimitive(w, field, of, item, compact, false);
    else writeStruct(w, of, item as Message, version, flexible);
  }
}

function writeStruct(w: Writer, fields: Field[], value: Message, version: number, flexible: boolean): void {
  const tagged: Field[] = [];
  for (const field of fields) {
    if (!inRange(field.versions, version)) continue;
    const key = propertyName(field);
    const given = value[key];
    const item = given === undefined ? defaultValue(field, version) : given;
    if (flexible && field.tag !== undefined && inRange(field.taggedVersions, version)) {
      // Kafka writes a tagged field only when it differs from its default.
      if (!sameValue(item, defaultValue(field, version))) tagged.push(field);
      continue;
    }
    writeType(w, field, field.type, item, version, flexible, inRange(field.nullableVersions, version));
  }
  if (!flexible) return;
  tagged.sort((a, b) => (a.tag as number) - (b.tag as number));
  w.uvarint(tagged.length);
  for (const field of tagged) {
    const sub = new Writer();
    writeType(
      sub,
      field,
      field.type,
      value[propertyName(field)],
      version,
      true,
      inRange(field.nullableVersions, version),
    );
    w.uvarint(field.tag as number);
    w.uvarint(sub.pos);
    w.bytes(sub.done());
  }
}

/** Encode a message; absent properties take the field's default. */
export function encode(value: Message, schema: MessageSchema, version: number): Buffer {
  checkVersion(schema, version);
  const w = new Writer();
  try {
    writeStruct(w, schema.fields, value, version, isFlexible(schema, version));
  } catch (error) {
    if (error instanceof KafkaCodecError) throw error;
    throw new KafkaCodecError(`${schema.name} v${version}: ${(error as Error).message}`);
  }
  return w.done();
}
