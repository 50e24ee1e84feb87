/**
 * The memory encoded batches reuse (src/storage/batch-buffers.ts): what it lends, what it takes
 * back, and that a log appending batch after batch in reused memory stores every one of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchBuffers } from '../../src/storage/batch-buffers.js';
import { fieldColumnOf, type RecordColumns } from '../../src/storage/record-columns.js';
import {
  assertRecordsEqual,
  contentBytes,
  logConfig,
  makeTempDir,
  openLog,
  readRecords,
  removeDir,
  type StoredRecord,
} from './log-fixture.js';

describe('batch buffers', () => {
  test('lend pooled memory for mid-sized batches and reuse what is given back', () => {
    const pool = new BatchBuffers(1024, 8192, 2);
    const a = pool.take(5000);
    assert.equal(a.length, 5000, 'a buffer of the size asked for');
    const b = pool.take(5000);
    assert.notEqual(a.buffer, b.buffer, 'two batches lent at once never share memory');
    pool.give(a);
    assert.equal(pool.freeCount, 1, 'given back');
    pool.give(a);
    assert.equal(pool.freeCount, 1, 'a second give of the same buffer is ignored');
    const c = pool.take(3000);
    assert.equal(c.buffer, a.buffer, 'the next batch reuses the memory given back');
    assert.equal(pool.freeCount, 0, 'and it is lent again');
    const d = pool.take(3000);
    assert.notEqual(d.buffer, c.buffer, 'while lent, it is not lent twice');
  });

  test('leave small and large batches, and buffers it never lent, to the collector', () => {
    const pool = new BatchBuffers(1024, 8192, 4);
    pool.give(pool.take(100));
    pool.give(pool.take(10_000));
    pool.give(Buffer.alloc(4096));
    assert.equal(pool.freeCount, 0, 'none of them is kept');
  });

  test('keep at most maxFreeBuffers', () => {
    const pool = new BatchBuffers(1024, 8192, 2);
    const lent = [pool.take(2000), pool.take(2000), pool.take(2000)];
    for (const b of lent) pool.give(b);
    assert.equal(pool.freeCount, 2, 'the third is dropped');
  });

  test('a log appending batches in reused memory stores each as it was', () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig());
      const expected: StoredRecord[] = [];
      const T0 = 1_700_000_000_000;
      const columnsOf = (count: number): RecordColumns => {
        const keys: Buffer[] = [];
        const values: Buffer[] = [];
        const timestamps = new Float64Array(count);
        for (let i = 0; i < count; i++) {
          const seed = expected.length;
          keys.push(Buffer.from(`k${seed}`));
          values.push(contentBytes(seed, 100));
          timestamps[i] = T0 + seed;
          expected.push({ offset: seed, key: keys[i] as Buffer, value: values[i] as Buffer, timestamp: T0 + seed });
        }
        return { count, keys: fieldColumnOf(keys), values: fieldColumnOf(values), timestamps, headers: null };
      };
      // Batches of 150 to 1500 records of 100 bytes (15–180 KiB): pooled, each reusing memory an
      // earlier one gave back. Two are prepared before either is appended, as a request spread
      // over partitions does: memory given back too early, or lent twice, stores one batch's
      // bytes in place of another's.
      for (let b = 0; b < 12; b += 2) {
        const first = log.prepare(columnsOf(150 + ((b * 337) % 1350)), T0);
        const second = log.prepare(columnsOf(150 + (((b + 1) * 337) % 1350)), T0);
        log.appendPrepared(first);
        log.appendPrepared(second);
      }
      log.highWatermark = log.logEndOffset;
      assertRecordsEqual(readRecords(log), expected, 'records read back');
    } finally {
      removeDir(root);
    }
  });
});
