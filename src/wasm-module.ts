/**
 * What the WebAssembly loops of the layers (src/<layer>/wasm) share: instantiating a module from
 * its bytes (synchronously: each is under a kilobyte) and growing its memory to fit what the
 * caller is about to copy in.
 */

/** The little of the WebAssembly global this needs (Node has it; the TypeScript lib here does not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

/** A module's exported memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE_BYTES = 64 * 1024;

/** A fresh instance's exports, typed by the caller, who knows what its .wat file exports. */
export function instantiateWasm<Exports>(bytes: Uint8Array): Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Exports;
}

/** Grows `memory` to at least `bytes`. */
export function ensureMemoryBytes(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
}
