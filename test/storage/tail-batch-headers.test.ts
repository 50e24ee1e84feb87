import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logConfig, makeTempDir, openLog, removeDir } from './log-fixture.js';

test('tailBatchHeaders reads about the last maxBytes of the log, across segments, oldest first', () => {
  const root = makeTempDir();
  // Small segments and index entries, so the tail starts inside an older segment.
  const { log } = openLog(root, logConfig({ 'segment.bytes': 4096, 'index.interval.bytes': 256 }));
  try {
    const now = Date.now();
    for (let i = 0; i < 400; i++)
      log.append([{ key: null, value: Buffer.alloc(40, i), headers: [], timestamp: now }], now);
    assert.ok(log.segmentCount > 3);
    const all = [...log.tailBatchHeaders(Number.MAX_SAFE_INTEGER, 0)];
    assert.deepEqual(
      all.map((h) => h.baseOffset),
      Array.from({ length: 400 }, (_, i) => i),
    );
    const maxBytes = 6000;
    const tail = [...log.tailBatchHeaders(maxBytes, 0)];
    const bytes = tail.reduce((sum, h) => sum + h.sizeBytes, 0);
    assert.ok(bytes >= maxBytes, `the tail covers at least maxBytes (${bytes})`);
    assert.ok(bytes < maxBytes + 4096, `and not much more: one index interval and a segment edge (${bytes})`);
    assert.deepEqual(
      tail.map((h) => h.baseOffset),
      Array.from({ length: tail.length }, (_, i) => 400 - tail.length + i),
    );
    assert.deepEqual([...log.tailBatchHeaders(maxBytes, now + 1)], [], 'nothing newer than the timestamp');
  } finally {
    removeDir(root);
  }
});
