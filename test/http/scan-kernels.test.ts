/**
 * The WebAssembly SIMD kernels of the v2 produce scan, against plain definitions: the first byte
 * that ends or spoils a JSON string, and Node's own base64 decoder. (test/wasm-sources.test.ts
 * checks the loaded bytes are what scan-kernels.wat assembles to.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ScanKernels } from '../../src/http/wasm/scan-kernels.js';

describe('scan kernels', () => {
  const stringEnd = (bytes: Uint8Array, p: number, end: number) => {
    for (let i = p; i < end; i++) {
      const c = bytes[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20) return i;
    }
    return end;
  };
  const byte = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x22 && c !== 0x5c) },
    fc.constantFrom(0x22, 0x5c, 0x00, 0x1f, 0x20, 0x7f, 0x80),
  );

  test('stringEnd finds the first quote, backslash or control byte, and ignores bytes past the end', () => {
    const kernels = new ScanKernels();
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 200 }),
        fc.array(byte, { minLength: 300, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        (bodyBytes, earlier, a, b) => {
          // A longer body first leaves its bytes behind the next one's end.
          kernels.load(Uint8Array.from(earlier), 0);
          const bytes = Uint8Array.from(bodyBytes);
          kernels.load(bytes, 0);
          const p = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const end = p + (bytes.length === 0 ? 0 : b % (bytes.length - p + 1));
          assert.equal(
            kernels.stringEnd(p, end),
            stringEnd(bytes, p, end),
            `stringEnd(${p}, ${end}) over ${bytes.length} bytes`,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  const ALPHABET = /^[A-Za-z0-9+/]*$/;

  test('decodeBase64 decodes as Node does, and refuses every character outside the alphabet', () => {
    const kernels = new ScanKernels();
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64').replace(/=+$/, '')),
      // One character replaced by any byte at all.
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
        .map(([b, at, c]) => {
          const t = Buffer.from(b).toString('base64').replace(/=+$/, '');
          const i = at % t.length;
          return t.slice(0, i) + String.fromCharCode(c) + t.slice(i + 1);
        }),
    );
    fc.assert(
      fc.property(text, fc.nat({ max: 40 }), (t, offset) => {
        fc.pre(t.length % 4 !== 1);
        // The text sits inside a body, between bytes that must not leak into it.
        const body = Buffer.concat([Buffer.alloc(offset, 0x22), Buffer.from(t, 'latin1'), Buffer.from('"},{"v')]);
        kernels.load(body, body.length);
        const ok = kernels.decodeBase64(offset, t.length, 5);
        assert.equal(ok, ALPHABET.test(t), `validity of ${JSON.stringify(t)}`);
        if (!ok) return;
        const want = Buffer.from(t, 'base64');
        const got = kernels.output(5 + want.length).subarray(5);
        assert.equal(got.toString('hex'), want.toString('hex'), `bytes of ${JSON.stringify(t)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('decodeBase64 classifies all 256 byte values, at every position of a 16-byte step', () => {
    const kernels = new ScanKernels();
    for (let c = 0; c < 256; c++) {
      for (const at of [0, 5, 15, 16, 19]) {
        const chars = Buffer.alloc(20, 0x41);
        chars[at] = c;
        kernels.load(chars, 32);
        const valid = ALPHABET.test(String.fromCharCode(c));
        assert.equal(kernels.decodeBase64(0, 20, 0), valid, `byte 0x${c.toString(16)} at ${at}`);
      }
    }
  });

  test('memory grows for a body larger than one page, and release gives it back', () => {
    const kernels = new ScanKernels();
    const bytes = Buffer.alloc(300_000, 0x61);
    bytes[299_990] = 0x22;
    kernels.load(bytes, 300_000);
    assert.ok(kernels.memoryBytes >= 600_000, `memory for body and output: ${kernels.memoryBytes}`);
    assert.equal(kernels.stringEnd(0, bytes.length), 299_990);
    assert.equal(kernels.decodeBase64(0, 299_988, 0), true, 'all "a": valid base64');
    assert.equal(kernels.output(3).toString('hex'), Buffer.from('aaaa', 'base64').subarray(0, 3).toString('hex'));
    kernels.release(1_000_000);
    assert.ok(kernels.memoryBytes >= 600_000, 'memory under the kept size stays');
    kernels.release(100_000);
    assert.equal(kernels.memoryBytes, 64 * 1024, 'memory over the kept size is given back: one page again');
    kernels.load(Buffer.from('ab"'), 0);
    assert.equal(kernels.stringEnd(0, 3), 2, 'the kernels work after a release');
  });
});
