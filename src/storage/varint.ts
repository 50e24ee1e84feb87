/**
 * Protocol Buffers zig-zag varints, as Kafka record fields use them (KIP-98 record format v2).
 * Values stay JavaScript numbers: offsets and timestamp deltas fit in 2^53, and number math
 * avoids BigInt allocation on the produce path. A varint is at most 5 bytes, a varlong 10.
 */

export const MAX_VARINT_BYTES = 5;
export const MAX_VARLONG_BYTES = 10;

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Bytes a signed (zig-zag) varint/varlong takes. */
export function sizeOfVarlong(n: number): number {
  // Fast paths for the common small values (lengths, deltas); each bound is 7 more bits.
  if (n >= -64 && n < 64) return 1;
  if (n >= -8192 && n < 8192) return 2;
  if (n >= -1048576 && n < 1048576) return 3;
  let z = zigzag(n);
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes a signed varint/varlong at `pos`, returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, n: number): number {
  if (n >= -64 && n < 64) {
    // One byte: the zig-zag value itself (the produce path writes several per record).
    buf[pos] = n >= 0 ? n << 1 : (-n << 1) - 1;
    return pos + 1;
  }
  let z = zigzag(n);
  if (z < 0x80000000) {
    while (z >= 0x80) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
    return pos;
  }
  while (z >= 0x80) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}
