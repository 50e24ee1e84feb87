import { gunzipSync, gzipSync } from 'node:zlib';
import { CorruptRecordError } from '../errors.js';

/** Kafka's codec ids, the low three bits of a batch's attributes. */
export const CompressionCodec = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

export const CODEC_NAMES: Record<number, string> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

/**
 * Codecs this build can write and read. gzip comes with Node's zlib; snappy, lz4 and zstd
 * batches written by other Kafka clients are recognised and refused with a clear error
 * until a codec library is added (the HTTP API itself never produces them).
 */
export function compress(codec: CompressionCodec, data: Buffer): Buffer {
  if (codec === CompressionCodec.None) return data;
  if (codec === CompressionCodec.Gzip) return gzipSync(data, { level: 1 });
  throw new CorruptRecordError(`compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`);
}

export function decompress(codec: number, data: Buffer, maxBytes: number): Buffer {
  if (codec === CompressionCodec.None) return data;
  if (codec === CompressionCodec.Gzip) {
    try {
      return gunzipSync(data, { maxOutputLength: maxBytes });
    } catch (err) {
      throw new CorruptRecordError(`gzip batch does not decompress: ${(err as Error).message}`);
    }
  }
  throw new CorruptRecordError(`compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`);
}
