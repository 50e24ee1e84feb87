/**
 * Message formats v0 and v1 against another implementation: kafkajs writes the message sets
 * (plain and gzip wrappers, with its own CRC-32) that decodeMessageSet reads, and kafkajs's Fetch
 * v0/v2 decoder reads what downConvert writes from stored v2 batches.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { CorruptRecordError } from '../../src/errors.js';
import { APIS } from '../../src/kafka/protocol/apis.js';
import { decode, encode, type Message } from '../../src/kafka/protocol/codec.js';
import {
  decodeMessageSet,
  downConvert,
  encodeMessageSet,
  MAGIC_V0,
  MAGIC_V1,
  NO_TIMESTAMP,
} from '../../src/storage/legacy-record.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';

const require = createRequire(import.meta.url);
const LIMIT = 64 * 1024 * 1024;
const produceSchema = APIS.get(0)?.request as NonNullable<ReturnType<typeof APIS.get>>['request'];
const fetchResponseSchema = APIS.get(1)?.response as NonNullable<ReturnType<typeof APIS.get>>['response'];

/** A gzip wrapper of kafkajs's message set of `magic` (kafkajs compresses from Produce v2, magic 1, only). */
async function kafkajsGzipSet(magic: 0 | 1, messages: object[]): Promise<Buffer> {
  const MessageSet = require('kafkajs/src/protocol/messageSet');
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression');
  const inner = MessageSet({ messageVersion: magic, compression: 1, entries: messages });
  const value = await lookupCodec(1).compress(inner);
  const wrapper = MessageSet({ messageVersion: magic, entries: [{ compression: 1, timestamp: 1, value }] });
  return wrapper.buffer as Buffer;
}

/** The message set kafkajs puts in a Produce v0 (magic 0) or v2 (magic 1) request. */
async function kafkajsMessageSet(version: 0 | 2, compression: 0 | 1, messages: object[]): Promise<Buffer> {
  if (version === 0 && compression === 1) return kafkajsGzipSet(0, messages);
  const build = require(`kafkajs/src/protocol/requests/produce/v${version}/request`);
  const request = build({
    acks: 1,
    timeout: 1000,
    compression,
    topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }],
  });
  const body = (await request.encode()).buffer as Buffer;
  const decoded = decode(body, produceSchema, version) as Message;
  const topic = (decoded.topicData as Message[])[0] as Message;
  return (topic.partitionData as Message[])[0]?.records as Buffer;
}

/** What kafkajs's Fetch v0 (magic 0) or v2 (magic 1) reader makes of a message set. */
async function kafkajsReads(version: 0 | 2, records: Buffer): Promise<Message[]> {
  const body = encode(
    {
      throttleTimeMs: 0,
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 100n, records }] }],
    },
    fetchResponseSchema,
    version,
  );
  const { decode: read } = require(`kafkajs/src/protocol/requests/fetch/v${version}/response`);
  const decoded = await read(body);
  return decoded.responses[0].partitions[0].messages as Message[];
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

describe('decodeMessageSet reads what a pre-0.11 client writes', () => {
  const messages = [
    { key: 'k1', value: 'v1', timestamp: 1_700_000_000_001 },
    { key: null, value: 'no key', timestamp: 1_700_000_000_002 },
    { key: 'k3', value: null, timestamp: 1_700_000_000_003 },
  ];

  for (const compression of [0, 1] as const) {
    const codec = compression === 1 ? 'gzip wrapper' : 'plain';
    it(`magic 0 (Produce v0), ${codec}: keys and values, no timestamps`, async () => {
      const set = decodeMessageSet(await kafkajsMessageSet(0, compression, messages), LIMIT);
      assert.equal(set.magic, MAGIC_V0);
      assert.equal(set.codec, compression);
      assert.deepEqual(
        set.records.map((r) => [text(r.key), text(r.value), r.timestamp]),
        messages.map((m) => [m.key, m.value, NO_TIMESTAMP]),
      );
    });

    it(`magic 1 (Produce v2), ${codec}: keys, values and CreateTime timestamps`, async () => {
      const set = decodeMessageSet(await kafkajsMessageSet(2, compression, messages), LIMIT);
      assert.equal(set.magic, MAGIC_V1);
      assert.deepEqual(
        set.records.map((r) => [text(r.key), text(r.value), r.timestamp]),
        messages.map((m) => [m.key, m.value, m.timestamp]),
      );
    });
  }

  it('refuses a changed byte (CRC-32), a cut message, a set of another magic and a decompression bomb', async () => {
    const good = await kafkajsMessageSet(2, 0, messages);
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    assert.throws(() => decodeMessageSet(flipped, LIMIT), CorruptRecordError);
    assert.throws(() => decodeMessageSet(good.subarray(0, good.length - 3), LIMIT), CorruptRecordError);
    const mixed = Buffer.concat([good, await kafkajsMessageSet(0, 0, messages)]);
    assert.throws(() => decodeMessageSet(mixed, LIMIT), /magic 0 in a set of magic 1/);
    const zipped = await kafkajsMessageSet(2, 1, [{ key: null, value: 'x'.repeat(10_000) }]);
    assert.throws(() => decodeMessageSet(zipped, 1000), CorruptRecordError);
  });

  it('reads back its own encoding', () => {
    const records = [
      { key: Buffer.from('a'), value: Buffer.from([0, 255]), timestamp: 5 },
      { key: null, value: null, timestamp: 6 },
    ];
    assert.deepEqual(decodeMessageSet(encodeMessageSet(MAGIC_V1, 0, records), LIMIT).records, records);
  });
});

describe('downConvert serves stored batches to a pre-0.11 reader', () => {
  const plain = encodeRecordBatch(
    [
      {
        key: Buffer.from('a'),
        value: Buffer.from('one'),
        headers: [{ key: 'h', value: Buffer.from('x') }],
        timestamp: 1000,
      },
      { key: null, value: Buffer.from('two'), timestamp: 1001 },
    ],
    { baseOffset: 10 },
  );
  const zipped = encodeRecordBatch(
    [
      { key: Buffer.from('c'), value: Buffer.from('three'), timestamp: 1002 },
      { key: Buffer.from('d'), value: null, timestamp: 1003 },
    ],
    { baseOffset: 12, compression: 1 },
  );
  const stored = Buffer.concat([plain, zipped]);

  it('magic 1 (Fetch v2–3): every record from the offset asked, with offsets and timestamps; headers dropped', async () => {
    const { records, messages } = downConvert(stored, MAGIC_V1, 11, LIMIT, true, LIMIT);
    assert.equal(messages, 3);
    const read = await kafkajsReads(2, records);
    assert.deepEqual(
      read.map((m) => [
        m.offset,
        m.magicByte,
        text(m.key as Buffer | null),
        text(m.value as Buffer | null),
        m.timestamp,
      ]),
      [
        ['11', 1, null, 'two', '1001'],
        ['12', 1, 'c', 'three', '1002'],
        ['13', 1, 'd', null, '1003'],
      ],
    );
  });

  it('magic 0 (Fetch v0–1): no timestamps', async () => {
    const read = await kafkajsReads(0, downConvert(stored, MAGIC_V0, 0, LIMIT, true, LIMIT).records);
    assert.deepEqual(
      read.map((m) => [m.offset, m.magicByte, text(m.value as Buffer | null)]),
      [
        ['10', 0, 'one'],
        ['11', 0, 'two'],
        ['12', 0, 'three'],
        ['13', 0, null],
      ],
    );
  });

  it('keeps to max bytes in whole messages, and always gives the first message (KIP-74)', () => {
    const one = downConvert(stored, MAGIC_V1, 10, 1, true, LIMIT);
    assert.equal(one.messages, 1);
    assert.equal(decodeMessageSet(one.records, LIMIT).records.length, 1);
    assert.equal(downConvert(stored, MAGIC_V1, 10, 1, false, LIMIT).records.length, 0);
    const two = downConvert(stored, MAGIC_V1, 10, one.records.length * 2 + 2, false, LIMIT);
    assert.equal(two.messages, 2);
  });

  it('a LogAppendTime batch becomes messages marked LogAppendTime with the broker timestamp', () => {
    const stamped = encodeRecordBatch([{ key: null, value: Buffer.from('v'), timestamp: 1 }], {
      baseOffset: 0,
      timestampType: 'LogAppendTime',
      logAppendTime: 777,
    });
    const { records } = downConvert(stamped, MAGIC_V1, 0, LIMIT, true, LIMIT);
    assert.equal(records.readInt8(17) & 0x08, 0x08);
    assert.equal(decodeMessageSet(records, LIMIT).records[0]?.timestamp, 777);
  });
});
