/**
 * The record batch encoder's per-record loop in WebAssembly (record-encoder.wat, assembled into
 * record-encoder.wasm.ts by `npm run gen:wasm`). A whole batch of 1000 100-byte records costs
 * about 200 ns a record with the JavaScript loop on this machine and about 70 with this one: the
 * loop itself about 32, the columns' copy in about 5, the copy out of the module's memory about 3
 * (into memory used before: see storage/batch-buffers.ts; about 15 into fresh memory), and
 * CRC-32C about 30.
 *
 * It encodes what the produce path hands the log: records in columns over shared buffers, without
 * headers, with dense offset deltas and whole-millisecond timestamps. record-batch.ts sends
 * everything else (and small batches, where the copies cost more than they save) to its
 * JavaScript loop, which stays the definition: the tests hold this one to its bytes.
 */

import { ensureMemoryBytes, instantiateWasm, type WasmMemory } from '../../wasm-module.js';
import type { RecordColumns } from '../record-columns.js';
import { RECORD_ENCODER_WASM } from './record-encoder.wasm.js';

interface EncoderExports {
  encodeRecords(
    count: number,
    rows: number,
    keyBytes: number,
    keyStarts: number,
    keyLengths: number,
    valueBytes: number,
    valueStarts: number,
    valueLengths: number,
    timestamps: number,
    baseTimestamp: bigint,
    dst: number,
  ): number;
  memory: WasmMemory;
}

/** Most bytes of a record's framing: length (5), attributes (1), timestamp delta (10), offset delta (5), two field lengths (5 each), header count (1). */
const MAX_FRAMING_BYTES = 32;
/** Bytes a 16-byte copy step may read or write past a field (see $field in the .wat). */
const STEP_SLACK_BYTES = 16;
/** Memory kept between batches; a larger batch's is given back after it is encoded. */
const KEPT_MEMORY_BYTES = 8 * 1024 * 1024;

const instantiate = () => instantiateWasm<EncoderExports>(RECORD_ENCODER_WASM);

let encoder: EncoderExports | undefined;

/**
 * The records of one batch, encoded into a buffer from `allocate` behind `headroom` bytes (the
 * batch header's room): record k is row rows[k] of `records` (row k without rows), with offset
 * delta k.
 * `records` must have no headers and no views (see above); every timestamp an integer.
 */
export function encodeRecordsInWasm(
  records: RecordColumns,
  rows: ArrayLike<number> | undefined,
  count: number,
  baseTimestamp: number,
  headroom: number,
  allocate: (size: number) => Buffer,
): Buffer {
  encoder ??= instantiate();
  const { keys, values } = records;
  const rowCount = records.count;
  // Layout: key bytes, value bytes (unless the same buffer), four i32 columns, f64 timestamps, rows, output.
  const keyBytesAt = 0;
  const sharedBytes = values.bytes === keys.bytes;
  const valueBytesAt = sharedBytes ? keyBytesAt : align8(keys.bytes.length);
  const columnsAt = align8(valueBytesAt + (sharedBytes ? keys.bytes.length : values.bytes.length));
  const i32Bytes = rowCount * 4;
  const timestampsAt = align8(columnsAt + 4 * i32Bytes);
  const rowsAt = timestampsAt + rowCount * 8;
  const outputAt = align8(rowsAt + (rows ? count * 4 : 0));
  const outputBound = count * MAX_FRAMING_BYTES + keys.bytes.length + values.bytes.length;
  ensureMemoryBytes(encoder.memory, outputAt + outputBound + STEP_SLACK_BYTES);
  const heap = encoder.memory.buffer;

  new Uint8Array(heap, keyBytesAt, keys.bytes.length).set(keys.bytes);
  if (!sharedBytes) new Uint8Array(heap, valueBytesAt, values.bytes.length).set(values.bytes);
  new Int32Array(heap, columnsAt, rowCount).set(keys.starts.subarray(0, rowCount));
  new Int32Array(heap, columnsAt + i32Bytes, rowCount).set(keys.lengths.subarray(0, rowCount));
  new Int32Array(heap, columnsAt + 2 * i32Bytes, rowCount).set(values.starts.subarray(0, rowCount));
  new Int32Array(heap, columnsAt + 3 * i32Bytes, rowCount).set(values.lengths.subarray(0, rowCount));
  new Float64Array(heap, timestampsAt, rowCount).set(records.timestamps.subarray(0, rowCount));
  if (rows) new Int32Array(heap, rowsAt, count).set(rows);

  const end = encoder.encodeRecords(
    count,
    rows ? rowsAt : -1,
    keyBytesAt,
    columnsAt,
    columnsAt + i32Bytes,
    valueBytesAt,
    columnsAt + 2 * i32Bytes,
    columnsAt + 3 * i32Bytes,
    timestampsAt,
    BigInt(baseTimestamp),
    outputAt,
  );
  const size = end - outputAt;
  const batch = allocate(headroom + size);
  batch.set(new Uint8Array(heap, outputAt, size), headroom);
  if (heap.byteLength > KEPT_MEMORY_BYTES) encoder = instantiate();
  return batch;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
