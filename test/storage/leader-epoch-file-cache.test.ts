import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type EpochEntry, LeaderEpochFileCache } from '../../src/storage/leader-epoch-file-cache.js';
import { makeTempDir, removeDir } from './log-fixture.js';

/** A cache in a fresh dir holding `entries` (assigned in order). */
function cacheWith(dir: string, entries: [number, number][]): LeaderEpochFileCache {
  const { cache } = LeaderEpochFileCache.open(dir);
  for (const [epoch, start] of entries) cache.assign(epoch, start);
  return cache;
}

/** A directory inside `dir`, removed with it. */
function subdir(dir: string, name: string): string {
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  return out;
}

const pairs = (cache: LeaderEpochFileCache) => cache.epochEntries().map((e) => [e.epoch, e.startOffset]);

describe('leader-epoch cache', () => {
  test('endOffsetFor answers as Kafka: floor epoch and next start, the log end for the latest, UNDEFINED beyond', () => {
    const dir = makeTempDir();
    try {
      const cache = cacheWith(dir, [
        [1, 0],
        [3, 10],
        [6, 20],
      ]);
      const leo = 30;
      assert.deepEqual(cache.endOffsetFor(6, leo), { epoch: 6, endOffset: 30 });
      assert.deepEqual(cache.endOffsetFor(3, leo), { epoch: 3, endOffset: 20 });
      assert.deepEqual(cache.endOffsetFor(1, leo), { epoch: 1, endOffset: 10 });
      // An epoch the cache never saw between two known ones: the floor epoch answers.
      assert.deepEqual(cache.endOffsetFor(4, leo), { epoch: 3, endOffset: 20 });
      // Older than every known epoch: Kafka answers the requested epoch with the first start offset.
      assert.deepEqual(cache.endOffsetFor(0, leo), { epoch: 0, endOffset: 0 });
      assert.deepEqual(cache.endOffsetFor(7, leo), { epoch: -1, endOffset: -1 });
      assert.deepEqual(cache.endOffsetFor(-1, leo), { epoch: -1, endOffset: -1 });
      assert.deepEqual(cacheWith(subdir(dir, 'empty'), []).endOffsetFor(0, leo), { epoch: -1, endOffset: -1 });
    } finally {
      removeDir(dir);
    }
  });

  test('assign keeps epochs and start offsets increasing: a repeat is ignored, a conflicting entry replaces what it contradicts', () => {
    const dir = makeTempDir();
    try {
      const base: [number, number][] = [
        [1, 0],
        [3, 10],
        [6, 20],
      ];
      const cache = cacheWith(dir, base);
      assert.equal(cache.assign(6, 25), false, 'the latest epoch again, later: nothing to record');
      assert.equal(cache.assign(6, 15), true, 'the latest epoch again, earlier: it moves back');
      assert.deepEqual(pairs(cache), [
        [1, 0],
        [3, 10],
        [6, 15],
      ]);
      assert.equal(cache.assign(2, 5), true);
      assert.deepEqual(
        pairs(cache),
        [
          [1, 0],
          [2, 5],
        ],
        'a lower epoch removes every entry at or above it',
      );
      assert.equal(cache.assign(7, 5), true);
      assert.deepEqual(
        pairs(cache),
        [
          [1, 0],
          [7, 5],
        ],
        'a new epoch at the same start offset replaces one that wrote nothing',
      );
      assert.throws(() => cache.assign(-1, 0), RangeError);
      assert.equal(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n2\n1 0\n7 5\n');
    } finally {
      removeDir(dir);
    }
  });

  test('truncateFromEnd drops epochs starting at or after the offset; truncateFromStart moves the first one up', () => {
    const dir = makeTempDir();
    try {
      const base: [number, number][] = [
        [1, 0],
        [3, 10],
        [6, 20],
      ];
      const a = cacheWith(dir, base);
      a.truncateFromEnd(21);
      assert.deepEqual(pairs(a), base);
      a.truncateFromEnd(20);
      assert.deepEqual(pairs(a), base.slice(0, 2));
      const b = cacheWith(subdir(dir, 'b'), base);
      b.truncateFromStart(10);
      assert.deepEqual(pairs(b), [
        [3, 10],
        [6, 20],
      ]);
      b.truncateFromStart(15);
      assert.deepEqual(pairs(b), [
        [3, 15],
        [6, 20],
      ]);
      b.truncateFromStart(40);
      assert.deepEqual(pairs(b), [[6, 40]]);
    } finally {
      removeDir(dir);
    }
  });

  test('any sequence of operations keeps the history monotonic, answers endOffsetFor by its definition, and survives a reopen', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('assign' as const), epoch: fc.integer({ min: 0, max: 20 }), offset: fc.nat(200) }),
      fc.record({ kind: fc.constant('end' as const), epoch: fc.constant(0), offset: fc.nat(200) }),
      fc.record({ kind: fc.constant('start' as const), epoch: fc.constant(0), offset: fc.nat(200) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: -1, max: 22 }), (ops, asked) => {
        const dir = makeTempDir();
        try {
          const { cache } = LeaderEpochFileCache.open(dir);
          for (const o of ops) {
            if (o.kind === 'assign') cache.assign(o.epoch, o.offset);
            else if (o.kind === 'end') cache.truncateFromEnd(o.offset);
            else cache.truncateFromStart(o.offset);
          }
          const entries = cache.epochEntries();
          for (let i = 1; i < entries.length; i++) {
            const prev = entries[i - 1] as EpochEntry;
            const cur = entries[i] as EpochEntry;
            assert.ok(prev.epoch < cur.epoch && prev.startOffset < cur.startOffset, JSON.stringify(entries));
          }
          const leo = 1000;
          const answer = cache.endOffsetFor(asked, leo);
          const floor = entries.filter((e) => e.epoch <= asked).at(-1);
          const next = entries.find((e) => e.epoch > asked);
          const latest = entries.at(-1);
          if (asked === -1 || latest === undefined) assert.deepEqual(answer, { epoch: -1, endOffset: -1 });
          else if (latest.epoch === asked) assert.deepEqual(answer, { epoch: asked, endOffset: leo });
          else if (next === undefined) assert.deepEqual(answer, { epoch: -1, endOffset: -1 });
          else assert.deepEqual(answer, { epoch: floor?.epoch ?? asked, endOffset: next.startOffset });
          if (ops.length > 0) {
            const { cache: reopened, loaded } = LeaderEpochFileCache.open(dir);
            assert.ok(loaded || !fs.existsSync(path.join(dir, 'leader-epoch-checkpoint')));
            assert.deepEqual(reopened.epochEntries(), entries);
          }
        } finally {
          removeDir(dir);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('a damaged checkpoint is not trusted: open reports it, so the log rebuilds the history', () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, 'leader-epoch-checkpoint');
      for (const text of ['1\n1\n0 0\n', '0\n2\n0 0\n', '0\n1\n0\n', '0\n1\nx 0\n', '0\n1\n0 -5\n', '']) {
        fs.writeFileSync(file, text);
        const { cache, loaded } = LeaderEpochFileCache.open(dir);
        assert.equal(loaded, false, JSON.stringify(text));
        assert.ok(cache.isEmpty);
      }
      fs.writeFileSync(file, '0\n0\n');
      assert.equal(LeaderEpochFileCache.open(dir).loaded, true, 'an empty history is a valid checkpoint');
    } finally {
      removeDir(dir);
    }
  });
});
