/**
 * Finds the end of a JSON string's text 16 bytes at a time, for v2-produce-scan.ts. JavaScript
 * reads a Buffer at about 1.4 ns per byte here, slower than JSON.parse itself, so a scan that
 * looks at every byte of every value in JavaScript costs more than parsing. This WebAssembly SIMD
 * routine (about 15 ns for a 100-byte string) looks at 16 bytes per step for the first one that
 * ends or spoils a string: a quote, a backslash, or a control character.
 *
 * The module is 183 bytes, written out below with the text form of each instruction beside it.
 * Its one function, `stop(p, end)`, returns the index of the first such byte in [p, end), or `end`.
 * A load may read up to 15 bytes past `end`; `load` keeps that much memory behind every body.
 */

const splat = (byte: number) => new Array<number>(16).fill(byte);

/** (func $stop (param $p i32) (param $end i32) (result i32) (local $mask i32) (local $v v128) ...) */
// biome-ignore format: one line per instruction group, its text form beside it
const STOP_BODY = [
  0x02, 0x01, 0x7f, 0x01, 0x7b, // locals: $mask i32, $v v128
  0x03, 0x40, // loop $next
  0x20, 0x00, 0x20, 0x01, 0x4f, // (i32.ge_u (local.get $p) (local.get $end))
  0x04, 0x40, 0x20, 0x01, 0x0f, 0x0b, // if: (return (local.get $end)) end
  0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x03, // (local.set $v (v128.load (local.get $p)))
  0x20, 0x03, 0xfd, 0x0c, ...splat(0x22), 0xfd, 0x23, // (i8x16.eq $v '"')
  0x20, 0x03, 0xfd, 0x0c, ...splat(0x5c), 0xfd, 0x23, 0xfd, 0x50, // (v128.or … (i8x16.eq $v '\'))
  0x20, 0x03, 0xfd, 0x0c, ...splat(0x20), 0xfd, 0x26, 0xfd, 0x50, // (v128.or … (i8x16.lt_u $v 0x20))
  0xfd, 0x64, 0x22, 0x02, // (local.tee $mask (i8x16.bitmask …))
  0x04, 0x40, // if (a lane matched)
  0x20, 0x00, 0x20, 0x02, 0x68, 0x6a, 0x22, 0x00, // (local.tee $p (i32.add $p (i32.ctz $mask)))
  0x20, 0x01, 0x20, 0x00, 0x20, 0x01, 0x49, 0x1b, 0x0f, // (return (select $p $end (i32.lt_u $p $end)))
  0x0b, // end if
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // (local.set $p (i32.add $p 16))
  0x0c, 0x00, // (br $next)
  0x0b, // end loop
  0x00, // unreachable
  0x0b, // end func
];

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, bytes: number[]) => [id, ...leb128(bytes.length), ...bytes];

// biome-ignore format: one line per section, as the comments read
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f]), // types: (i32, i32) -> i32
  ...section(3, [0x01, 0x00]), // functions: one, of type 0
  ...section(5, [0x01, 0x00, 0x01]), // memory: one page to start, no maximum (load grows it)
  ...section(7, [
    0x02, 0x04, 0x73, 0x74, 0x6f, 0x70, 0x00, 0x00, // exports: "stop" = func 0
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // "memory" = memory 0
  ]),
  ...section(10, [0x01, ...leb128(STOP_BODY.length), ...STOP_BODY]), // code
]);

const PAGE_BYTES = 64 * 1024;
/** Bytes a 16-byte load may read past the end of a body. */
const TAIL_BYTES = 16;

/** The little of the WebAssembly global this needs (Node has it; the TypeScript lib here does not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

interface StopExports {
  stop(p: number, end: number): number;
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

/**
 * One body at a time: `load` copies it into the module's memory, then `stop` searches it. The
 * memory grows to the largest body loaded (at most the request size limit) and stays that size.
 */
export class JsonStringEnd {
  private readonly exports: StopExports;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    this.exports = instance.exports as unknown as StopExports;
  }

  load(body: Uint8Array): void {
    const { memory } = this.exports;
    const needed = body.length + TAIL_BYTES;
    if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
    new Uint8Array(memory.buffer, 0, body.length).set(body);
  }

  /** Index of the first quote, backslash or control character at or after `p` and before `end`, or `end`. */
  stop(p: number, end: number): number {
    return this.exports.stop(p, end);
  }
}
