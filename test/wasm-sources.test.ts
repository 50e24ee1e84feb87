/**
 * The WebAssembly the server loads is what its .wat sources assemble to: every src/<layer>/wasm
 * module's generated .wasm.ts is exactly what `npm run gen:wasm` would write now. Editing a .wat
 * file without regenerating fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error: a plain .mjs script, without type declarations
import { assemble, moduleSource, wasmSources } from '../scripts/gen-wasm.mjs';

interface WasmSource {
  name: string;
  watPath: string;
  tsPath: string;
}

test('every generated .wasm.ts is the assembly of its .wat file', async () => {
  const sources: WasmSource[] = wasmSources();
  assert.deepEqual(
    sources.map((s) => s.name).sort(),
    ['record-encoder', 'scan-kernels'],
    'the modules the server loads',
  );
  for (const { name, watPath, tsPath } of sources) {
    const expected: string = moduleSource(name, await assemble(watPath));
    assert.equal(readFileSync(tsPath, 'utf8'), expected, `${tsPath} is stale: run npm run gen:wasm`);
  }
});
