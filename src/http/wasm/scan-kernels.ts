/**
 * The v2 produce scan's two inner loops, in WebAssembly SIMD (scan-kernels.wat, assembled into
 * scan-kernels.wasm.ts by `npm run gen:wasm`). JavaScript reads a Buffer at about 1.4 ns per byte
 * on this machine, slower than JSON.parse itself, so a scan that looked at every byte of every
 * value in JavaScript cost more than the parse it replaced. Here 16 bytes are looked at per step:
 * about 15 ns to find the end of a 100-byte string, and 90 ns to decode 136 characters of base64.
 */
import { ensureMemoryBytes, instantiateWasm, type WasmMemory } from '../../wasm-module.js';
import { SCAN_KERNELS_WASM } from './scan-kernels.wasm.js';

interface KernelExports {
  stringEnd(p: number, end: number): number;
  decodeBase64(src: number, length: number, dst: number): number;
  memory: WasmMemory;
}

const instantiate = () => instantiateWasm<KernelExports>(SCAN_KERNELS_WASM);
/** Bytes a 16-byte step may read or write past the end of what it works on. */
const SLACK_BYTES = 16;

/**
 * One body at a time: `load` copies it into the module's memory, and the kernels then work on it
 * by offset. Output (decoded base64) goes to a region behind the body. The memory grows to hold
 * the body and its output (at most 1.75 times the request size limit) until `release`.
 */
export class ScanKernels {
  private kernels: KernelExports;
  /** Where output starts: past the body and its slack, 16-aligned. */
  private outputStart = 0;

  constructor() {
    this.kernels = instantiate();
  }

  /**
   * Gives back memory grown past `keepBytes` for an unusually large body (WebAssembly memory
   * cannot shrink, so the instance is replaced); the next body starts from one page again.
   */
  release(keepBytes: number): void {
    if (this.kernels.memory.buffer.byteLength > keepBytes) this.kernels = instantiate();
  }

  /** Bytes of memory the kernels hold now. */
  get memoryBytes(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /** Copies `body` to offset 0, with room for `outputBytes` of output behind it. */
  load(body: Uint8Array, outputBytes: number): void {
    const { memory } = this.kernels;
    this.outputStart = (body.length + SLACK_BYTES + 15) & ~15;
    ensureMemoryBytes(memory, this.outputStart + outputBytes + SLACK_BYTES);
    new Uint8Array(memory.buffer, 0, body.length).set(body);
  }

  /** Index of the first quote, backslash or control character in the body's [p, end), or `end`. */
  stringEnd(p: number, end: number): number {
    return this.kernels.stringEnd(p, end);
  }

  /**
   * Decodes `length` base64 characters (padding stripped; length % 4 !== 1) at body offset `src`
   * to output offset `out`: floor(length * 3 / 4) bytes. False when one is outside the alphabet.
   */
  decodeBase64(src: number, length: number, out: number): boolean {
    return this.kernels.decodeBase64(src, length, this.outputStart + out) === 1;
  }

  /** A copy of output [0, bytes). */
  output(bytes: number): Buffer {
    const copy = Buffer.allocUnsafe(bytes);
    copy.set(new Uint8Array(this.kernels.memory.buffer, this.outputStart, bytes));
    return copy;
  }
}
