/**
 * Kafka's batch codecs: gzip (Node's zlib), snappy, lz4 and zstd (prebuilt native packages, one per
 * platform, nothing compiled at install). A batch's records section is compressed as one piece; the
 * framing inside it is each codec's own as Kafka's clients write it:
 *
 * - gzip: one gzip member (RFC 1952).
 * - snappy: snappy-java's "xerial" framing, as the Java client (SnappyOutputStream) and librdkafka
 *   write it: a 16-byte header (magic, version 1, compatible version 1), then blocks of a 4-byte
 *   big-endian length and one raw snappy block each. A plain raw snappy block (what some clients
 *   write) is read too.
 * - lz4: the LZ4 frame format (KIP-57; magic-2 batches carry the correct header checksum).
 * - zstd: zstd frames (KIP-110).
 *
 * Decompression is bounded: before any codec runs, the framing is walked and what it can expand to
 * is added up from its headers (a raw snappy block's length preamble, an lz4 or zstd block's
 * largest output), so a decompression bomb is refused with a clear error before memory is taken.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { Decoder as ZstdDecoder, Encoder as ZstdEncoder } from '@toondepauw/node-zstd';
import { compressFrameSync as lz4Compress, decompressFrameSync as lz4Decompress } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { CorruptRecordError } from '../errors.js';

/** Kafka's codec ids, the low three bits of a batch's attributes. */
export const CompressionCodec = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

export const CODEC_NAMES: Record<number, string> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

/** Whether `codec` (a batch's attribute bits) is one this build reads and writes. */
export function isKnownCodec(codec: number): codec is CompressionCodec {
  return codec >= CompressionCodec.None && codec <= CompressionCodec.Zstd;
}

/** gzip level of batches written here: fast (the HTTP produce path compresses every batch). */
const GZIP_LEVEL = 1;
/** zstd level: Kafka's default (`compression.zstd.level` 3, KIP-390). */
const ZSTD_LEVEL = 3;
/** snappy-java's block size (SnappyOutputStream's default), what the Java client writes. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

const zstdEncoder = new ZstdEncoder(ZSTD_LEVEL);
const zstdDecoder = new ZstdDecoder();

export function compress(codec: CompressionCodec, data: Buffer): Buffer {
  switch (codec) {
    case CompressionCodec.None:
      return data;
    case CompressionCodec.Gzip:
      return gzipSync(data, { level: GZIP_LEVEL });
    case CompressionCodec.Snappy:
      return xerialCompress(data);
    case CompressionCodec.Lz4:
      return lz4Compress(data);
    case CompressionCodec.Zstd:
      return zstdEncoder.encodeSync(data);
    default:
      throw new CorruptRecordError(`compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`);
  }
}

/**
 * The records section `data` of a batch written with `codec`, decompressed. Throws
 * CorruptRecordError when it does not decompress (truncated, corrupt, not that codec) or would
 * expand beyond `maxBytes`.
 */
export function decompress(codec: number, data: Buffer, maxBytes: number): Buffer {
  if (codec === CompressionCodec.None) return data;
  const name = CODEC_NAMES[codec];
  if (name === undefined) throw new CorruptRecordError(`compression codec ${codec} is not supported`);
  let out: Buffer;
  try {
    switch (codec) {
      case CompressionCodec.Gzip:
        out = gunzip(data, maxBytes);
        break;
      case CompressionCodec.Snappy:
        out = snappyDecompress(data, maxBytes);
        break;
      case CompressionCodec.Lz4:
        checkBound(lz4FrameBound(data, maxBytes), maxBytes);
        out = lz4Decompress(data);
        break;
      default:
        checkBound(zstdFrameBound(data, maxBytes), maxBytes);
        out = zstdDecoder.decodeSync(data);
    }
    // The bound was computed from the framing; the codec's own answer is checked too.
    checkBound(out.length, maxBytes);
  } catch (err) {
    throw new CorruptRecordError(`${name} batch does not decompress: ${(err as Error).message}`);
  }
  return out;
}

/** What a failed bound or framing check throws (wrapped with the codec's name by `decompress`). */
class FramingError extends Error {}

function checkBound(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes)
    throw new FramingError(`it would expand to more than ${maxBytes} bytes (the decompression bound)`);
}

function gunzip(data: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    // zlib stops at maxOutputLength with a RangeError of its own wording.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') checkBound(maxBytes + 1, maxBytes);
    throw err;
  }
}

// --- snappy ---------------------------------------------------------------------------------

/** snappy-java's stream header: 0x82 "SNAPPY" 0x00, then version and compatible version (int32 BE). */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;

function xerialCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_VERSION, 12);
  parts.push(header);
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_BYTES) {
    const block = snappyCompress(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_BYTES, data.length)));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  const isXerial = data.length >= XERIAL_MAGIC.length && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
  if (!isXerial) {
    checkBound(rawSnappyLength(data), maxBytes);
    return snappyUncompress(data) as Buffer;
  }
  if (data.length < XERIAL_HEADER_BYTES) throw new FramingError('the snappy-java header is truncated');
  const blocks: Array<[number, number]> = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new FramingError(`a snappy-java block length at byte ${pos} is truncated`);
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length)
      throw new FramingError(`the snappy-java block at byte ${pos - 4} runs past the end (${length} bytes)`);
    total += rawSnappyLength(data.subarray(pos, pos + length));
    checkBound(total, maxBytes);
    blocks.push([pos, pos + length]);
    pos += length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const [start, end] of blocks) {
    const block = snappyUncompress(data.subarray(start, end)) as Buffer;
    block.copy(out, at);
    at += block.length;
  }
  return out;
}

/** The uncompressed length a raw snappy block declares: its leading varint (at most 2^32 - 1). */
function rawSnappyLength(block: Buffer): number {
  let length = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    const b = block[i];
    if (b === undefined) throw new FramingError('the snappy length preamble is truncated');
    length += (b & 0x7f) * scale;
    if (b < 0x80) return length;
    scale *= 128;
  }
  throw new FramingError('the snappy length preamble is longer than 5 bytes');
}

// --- lz4 ------------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
/** Skippable frames (lz4 and zstd share them): magic 0x184D2A50..5F, a 4-byte size, the bytes. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** An lz4 block's largest output per input byte: a match-length byte adds at most 255. */
const LZ4_MAX_RATIO = 255;

/**
 * The most bytes the lz4 frames in `data` can decompress to, from their headers alone: an
 * uncompressed block its size, a compressed block at most its frame's block maximum (and 255 times
 * its own size). Stops adding once past `maxBytes`.
 */
function lz4FrameBound(data: Buffer, maxBytes: number): number {
  if (data.length === 0) throw new FramingError('there is no lz4 frame (no bytes)');
  let bound = 0;
  let pos = 0;
  while (pos < data.length && bound <= maxBytes) {
    need(data, pos, 4, 'lz4 frame');
    const magic = data.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, pos, 8, 'lz4 skippable frame');
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new FramingError(`not an lz4 frame (magic 0x${magic.toString(16)})`);
    need(data, pos, 7, 'lz4 frame header');
    const flg = data[pos + 4] as number;
    const bd = data[pos + 5] as number;
    if (flg >> 6 !== 1) throw new FramingError(`lz4 frame version ${flg >> 6} is not 1`);
    const blockMaxId = (bd >> 4) & 0x07;
    if (blockMaxId < 4) throw new FramingError(`lz4 block maximum size id ${blockMaxId} is invalid`);
    const blockMaxBytes = 1 << (8 + 2 * blockMaxId); // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
    const blockChecksum = (flg & 0x10) !== 0;
    let p = pos + 6;
    if (flg & 0x08) {
      need(data, p, 8, 'lz4 content size');
      checkBound(Number(data.readBigUInt64LE(p)), maxBytes);
      p += 8;
    }
    if (flg & 0x01) p += 4; // dictionary id
    p += 1; // header checksum
    for (;;) {
      need(data, p, 4, 'lz4 block');
      const word = data.readUInt32LE(p);
      p += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > blockMaxBytes)
        throw new FramingError(`an lz4 block of ${size} bytes exceeds the frame's ${blockMaxBytes}-byte maximum`);
      bound += word & 0x80000000 ? size : Math.min(blockMaxBytes, size * LZ4_MAX_RATIO);
      if (bound > maxBytes) return bound;
      p += size + (blockChecksum ? 4 : 0);
    }
    if (flg & 0x04) p += 4; // content checksum
    if (p > data.length) throw new FramingError('the lz4 frame is truncated');
    pos = p;
  }
  return bound;
}

// --- zstd -----------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
/** A zstd block never decompresses to more than 128 KiB (Block_Maximum_Size, RFC 8878 3.1.1.2.4). */
const ZSTD_MAX_BLOCK_BYTES = 128 * 1024;

/**
 * The most bytes the zstd frames in `data` can decompress to, from their headers alone: raw and
 * RLE blocks their declared size, a compressed block at most 128 KiB. A frame whose declared
 * content size or window is larger than `maxBytes` is refused (the window is memory the decoder
 * would allocate). Stops adding once past `maxBytes`.
 */
function zstdFrameBound(data: Buffer, maxBytes: number): number {
  if (data.length === 0) throw new FramingError('there is no zstd frame (no bytes)');
  let bound = 0;
  let pos = 0;
  while (pos < data.length && bound <= maxBytes) {
    need(data, pos, 4, 'zstd frame');
    const magic = data.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, pos, 8, 'zstd skippable frame');
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new FramingError(`not a zstd frame (magic 0x${magic.toString(16)})`);
    need(data, pos, 5, 'zstd frame header');
    const descriptor = data[pos + 4] as number;
    const singleSegment = (descriptor & 0x20) !== 0;
    let p = pos + 5;
    if (!singleSegment) {
      need(data, p, 1, 'zstd window descriptor');
      const wd = data[p] as number;
      const windowBase = 2 ** (10 + (wd >> 3));
      checkBound(windowBase + (windowBase / 8) * (wd & 0x07), maxBytes);
      p += 1;
    }
    p += [0, 1, 2, 4][descriptor & 0x03] as number; // dictionary id
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
    if (contentSizeBytes > 0) {
      need(data, p, contentSizeBytes, 'zstd content size');
      const contentSize =
        contentSizeBytes === 1
          ? (data[p] as number)
          : contentSizeBytes === 2
            ? data.readUInt16LE(p) + 256
            : contentSizeBytes === 4
              ? data.readUInt32LE(p)
              : Number(data.readBigUInt64LE(p));
      checkBound(contentSize, maxBytes);
      p += contentSizeBytes;
    }
    for (;;) {
      need(data, p, 3, 'zstd block header');
      const header = (data[p] as number) | ((data[p + 1] as number) << 8) | ((data[p + 2] as number) << 16);
      const type = (header >> 1) & 0x03;
      const size = header >>> 3;
      p += 3;
      if (type === 3) throw new FramingError('a zstd block has the reserved block type');
      if (type === 0) {
        bound += size; // raw
        p += size;
      } else if (type === 1) {
        bound += size; // RLE: one byte, repeated `size` times
        p += 1;
      } else {
        bound += ZSTD_MAX_BLOCK_BYTES;
        p += size;
      }
      if (bound > maxBytes) return bound;
      if (header & 0x01) break; // last block
    }
    if (descriptor & 0x04) p += 4; // content checksum
    if (p > data.length) throw new FramingError('the zstd frame is truncated');
    pos = p;
  }
  return bound;
}

function need(data: Buffer, pos: number, bytes: number, what: string): void {
  if (pos + bytes > data.length) throw new FramingError(`the ${what} at byte ${pos} is truncated`);
}
