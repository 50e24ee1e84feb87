/** The int64 fields written and read without BigInt (src/storage/int64.ts), against Node's BigInt methods. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readInt64BE, writeInt64BE } from '../../src/storage/int64.js';

test('int64 fields match Buffer.writeBigInt64BE / readBigInt64BE for every safe integer', () => {
  const edges = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1)];
  const value = fc.oneof(fc.constantFrom(...edges), fc.maxSafeInteger(), fc.integer());
  fc.assert(
    fc.property(value, fc.integer({ min: 0, max: 8 }), (v, at) => {
      const ours = Buffer.alloc(16, 0xaa);
      const node = Buffer.alloc(16, 0xaa);
      writeInt64BE(ours, v, at);
      node.writeBigInt64BE(BigInt(v), at);
      assert.ok(ours.equals(node), `${v} at ${at}: ${ours.toString('hex')} vs ${node.toString('hex')}`);
      assert.equal(readInt64BE(node, at), v, `${v} read back`);
    }),
    { numRuns: 2000 },
  );
});
