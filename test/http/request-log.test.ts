/**
 * One structured line per request: request id (echoed or generated, and set on the response), method,
 * route template, status and duration; probes at debug; never a record payload.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { openNode } from './node-fixture.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A logger whose lines land in an array, parsed. */
function memoryLogger(level: pino.Level) {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level, base: undefined, formatters: { level: (label) => ({ level: label }) } }, stream);
  return { logger, lines, raw: () => raw.join('') };
}

test('a request line carries the request id, route template, status and duration, and no payload', async () => {
  const node = await openNode();
  const { logger, lines, raw } = memoryLogger('info');
  try {
    const app = createApp({ node: node.samsa, logger });
    const secret = 'card-number-4111111111111111';
    const res = await request(app)
      .post('/topics/payments?acks=1')
      .set('content-type', 'application/vnd.kafka.string.v2+json')
      .set('x-request-id', 'trace-abc-123')
      .send(JSON.stringify({ records: [{ key: 'customer-7', value: secret }] }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-request-id'], 'trace-abc-123');

    const line = lines.find((l) => l.event === 'request');
    assert.ok(line, raw());
    assert.equal(line.level, 'info');
    assert.equal(line.reqId, 'trace-abc-123');
    assert.equal(line.method, 'POST');
    assert.equal(line.route, '/topics/{topic}');
    assert.equal(line.url, '/topics/payments?acks=1');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!raw().includes(secret), 'a record value reached the log');
    assert.ok(!raw().includes('customer-7'), 'a record key reached the log');
  } finally {
    await node.close();
  }
});

test('a missing or unreasonable X-Request-Id is replaced by a fresh UUID', async () => {
  const node = await openNode();
  const { logger, lines } = memoryLogger('info');
  try {
    const app = createApp({ node: node.samsa, logger });
    const none = await request(app).get('/no/such/route');
    assert.equal(none.status, 404);
    assert.match(none.headers['x-request-id'] ?? '', UUID);
    const tooLong = await request(app).get('/no/such/route').set('x-request-id', 'x'.repeat(201));
    assert.match(tooLong.headers['x-request-id'] ?? '', UUID);
    const spaces = await request(app).get('/no/such/route').set('x-request-id', 'a b');
    assert.match(spaces.headers['x-request-id'] ?? '', UUID);
    assert.notEqual(none.headers['x-request-id'], tooLong.headers['x-request-id']);

    const requestLines = lines.filter((l) => l.event === 'request');
    assert.equal(requestLines.length, 3);
    for (const l of requestLines) assert.equal(l.route, 'unmatched');
    assert.equal(requestLines[0]?.reqId, none.headers['x-request-id']);
  } finally {
    await node.close();
  }
});

test('probes and scrapes are logged at debug, so info logs only carry real traffic', async () => {
  const node = await openNode();
  const info = memoryLogger('info');
  const debug = memoryLogger('debug');
  try {
    for (const { logger } of [info, debug]) {
      const app = createApp({ node: node.samsa, logger });
      await request(app).get('/healthz');
      await request(app).get('/readyz');
      await request(app).get('/metrics');
    }
    assert.deepEqual(info.lines, []);
    assert.deepEqual(
      debug.lines.map((l) => [l.level, l.route]),
      [
        ['debug', '/healthz'],
        ['debug', '/readyz'],
        ['debug', '/metrics'],
      ],
    );
  } finally {
    await node.close();
  }
});
