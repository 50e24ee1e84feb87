/**
 * Slow and idle clients cannot starve the others: a thousand slowloris connections from 127.0.0.1
 * (headers dribbled to the HTTP port, half-frames to the Kafka port) while a client from 127.0.0.2
 * (Linux routes all of 127/8 to lo) keeps being answered within a second; the per-address limit
 * refuses the flood beyond 256 at once and the headers/frame timeouts close the rest. SSE streams
 * are long-lived on purpose and outlive the request and idle timeouts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import { requestFrame } from '../kafka/request-frame.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

const FLOOD = 1000;
const PER_ADDRESS = 256;
const HEADERS_TIMEOUT_MS = 2000;
const FRAME_TIMEOUT_MS = 2000;
const OTHER_CLIENT = '127.0.0.2';
const V2_JSON = 'application/vnd.kafka.json.v2+json';

let server: ServerProcess;

test.before(async () => {
  server = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-slow-')), [
    '--http-headers-timeout-ms',
    String(HEADERS_TIMEOUT_MS),
    '--http-request-timeout-ms',
    '3000',
    '--http-idle-timeout-ms',
    '1500',
    '--sse-keepalive-ms',
    '500',
    '--kafka-port',
    String(await freePort()),
    '--kafka-frame-timeout-ms',
    String(FRAME_TIMEOUT_MS),
  ]);
});

test.after(async () => {
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
});

interface Flood {
  /** ms after the flood began at which each connection closed. */
  closedAtMs: number[];
  /** Resolves once every connection was accepted or refused. */
  settled: Promise<void>;
  /** How many connections received an answer starting with `prefix`. */
  answered(prefix: string): number;
  open(): number;
  stop(): void;
}

/** FLOOD connections from 127.0.0.1 that send `first` and then one `drip` every 300 ms, never finishing. */
function flood(port: number, first: Buffer, drip: Buffer): Flood {
  const started = Date.now();
  const sockets = new Set<net.Socket>();
  const closedAtMs: number[] = [];
  const received = new Map<net.Socket, string>();
  let pending = FLOOD;
  let onSettled = () => {};
  const settled = new Promise<void>((resolve) => {
    onSettled = resolve;
  });
  const settle = () => {
    if (--pending === 0) onSettled();
  };
  for (let i = 0; i < FLOOD; i++) {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    sockets.add(socket);
    let counted = false;
    const once = () => {
      if (!counted) settle();
      counted = true;
    };
    socket.on('error', () => {});
    socket.setEncoding('latin1').on('data', (d: string) => received.set(socket, (received.get(socket) ?? '') + d));
    socket.on('connect', () => {
      socket.write(first);
      // Refused connections are accepted by the kernel and closed by the server: give it a moment.
      setTimeout(once, 200);
    });
    socket.on('close', () => {
      once();
      sockets.delete(socket);
      closedAtMs.push(Date.now() - started);
    });
  }
  const dripping = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write(drip);
  }, 300);
  return {
    closedAtMs,
    settled,
    answered: (prefix) => [...received.values()].filter((d) => d.startsWith(prefix)).length,
    open: () => sockets.size,
    stop: () => {
      clearInterval(dripping);
      for (const s of sockets) s.destroy();
    },
  };
}

/** Calls `call` from the other client every 100 ms for `durationMs`; the slowest answer's latency. */
async function serveOtherClient(
  durationMs: number,
  call: () => Promise<void>,
): Promise<{ slowestMs: number; calls: number }> {
  const until = Date.now() + durationMs;
  let slowestMs = 0;
  let calls = 0;
  while (Date.now() < until) {
    const t0 = Date.now();
    await call();
    slowestMs = Math.max(slowestMs, Date.now() - t0);
    calls++;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { slowestMs, calls };
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('1000 slowloris HTTP connections from one address: others are served, the flood is capped and timed out', async () => {
  const port = Number(new URL(server.baseUrl).port);
  const slow = flood(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n'), Buffer.from('X-S: 1\r\n'));
  // A fresh connection from another address for every call.
  const other = new Agent({ localAddress: OTHER_CLIENT });
  try {
    await slow.settled;
    const served = await serveOtherClient(HEADERS_TIMEOUT_MS + 1000, async () => {
      const res = await request(`${server.baseUrl}/v3/clusters`, {
        dispatcher: other,
        reset: true,
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    });
    assert.ok(served.slowestMs < 1000, `the other client waited ${served.slowestMs} ms`);
    assert.ok(served.calls >= 10, `only ${served.calls} calls answered`);
    // Beyond the per-address limit, refused at once; the admitted ones closed after the headers timeout.
    await waitFor('every slow connection to close', () => slow.open() === 0, HEADERS_TIMEOUT_MS + 5000);
    // The admitted ones (the per-address limit, less any slot the test's own probe connection
    // holds) were answered 408 at the headers timeout; the rest were refused without a byte.
    const timedOut = slow.answered('HTTP/1.1 408');
    assert.ok(timedOut <= PER_ADDRESS && timedOut >= PER_ADDRESS - 4, `${timedOut} connections timed out`);
    assert.equal(slow.answered(''), timedOut, 'a refused connection got an answer');
    const lastMs = Math.max(...slow.closedAtMs);
    assert.ok(lastMs < HEADERS_TIMEOUT_MS + 5000, `the last closed after ${lastMs} ms`);
    // The address is welcome again once its connections are gone.
    const again = await request(`${server.baseUrl}/healthz`);
    assert.equal(again.statusCode, 200);
    await again.body.dump();
  } finally {
    slow.stop();
    await other.close();
  }
});

/** One ApiVersions v0 call on a new connection from `localAddress`. */
function apiVersions(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no ApiVersions answer within 5 s'));
    }, 5000);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(requestFrame(API_KEYS.ApiVersions, 0, 1, {})));
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      }
    });
  });
}

test('1000 Kafka connections dribbling half-frames from one address: others are served, the flood is capped and timed out', async () => {
  const port = server.kafkaPort as number;
  // A frame announcing 100 bytes, of which a few come, then one more every 300 ms.
  const head = Buffer.alloc(8);
  head.writeInt32BE(100, 0);
  const slow = flood(port, head, Buffer.from([0]));
  try {
    await slow.settled;
    const served = await serveOtherClient(FRAME_TIMEOUT_MS + 1000, () => apiVersions(port, OTHER_CLIENT));
    assert.ok(served.slowestMs < 1000, `the other client waited ${served.slowestMs} ms`);
    await waitFor('every slow connection to close', () => slow.open() === 0, FRAME_TIMEOUT_MS + 5000);
    // The admitted ones were closed by the frame timeout (one log line each), the rest refused at once.
    const timedOut = await settledCount(
      () => (server.stdout().match(/request frame incomplete after 2000 ms/g) ?? []).length,
    );
    assert.ok(timedOut <= PER_ADDRESS && timedOut >= PER_ADDRESS - 4, `${timedOut} connections timed out`);
    assert.match(server.stdout(), /"event":"connections_refused","listener":"kafka"/);
    const lastMs = Math.max(...slow.closedAtMs);
    assert.ok(lastMs < FRAME_TIMEOUT_MS + 5000, `the last closed after ${lastMs} ms`);
    await apiVersions(port, '127.0.0.1');
  } finally {
    slow.stop();
  }
});

/** The count `probe` gives once it stops growing (log lines arrive through a pipe, a little late). */
async function settledCount(probe: () => number): Promise<number> {
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = probe();
    if (now === last) return now;
    last = now;
  }
}

test('a request body dribbled slower than the request timeout is answered 408 and closed', async () => {
  const socket = net.connect({ port: Number(new URL(server.baseUrl).port), host: '127.0.0.1' });
  socket.on('error', () => {});
  const started = Date.now();
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    answer += d;
  });
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  socket.write(
    `POST /topics/dribbled HTTP/1.1\r\nHost: x\r\nContent-Type: ${V2_JSON}\r\nContent-Length: 1000\r\n\r\n{"records":[`,
  );
  const drip = setInterval(() => socket.writable && socket.write(' '), 300);
  try {
    const afterMs = await closed;
    // --http-request-timeout-ms 3000, checked every 500 ms (a quarter of the headers timeout).
    assert.ok(afterMs >= 2500 && afterMs < 5000, `closed after ${afterMs} ms`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

test('an SSE stream outlives the request and idle timeouts; a silent connection does not', async () => {
  const produce = async (value: string) => {
    const res = await request(`${server.baseUrl}/topics/long-lived`, {
      method: 'POST',
      headers: { 'content-type': V2_JSON },
      body: JSON.stringify({ records: [{ value }] }),
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  };
  await produce('first');
  const stream = await request(`${server.baseUrl}/topics/long-lived/stream?from=earliest`);
  let events = '';
  let ended = false;
  stream.body.setEncoding('utf8').on('data', (chunk: string) => {
    events += chunk;
  });
  stream.body.on('close', () => {
    ended = true;
  });
  // A connection that never sends a byte.
  const silent = net.connect({ port: Number(new URL(server.baseUrl).port), host: '127.0.0.1' });
  silent.on('error', () => {});
  let silentClosed = false;
  silent.on('close', () => {
    silentClosed = true;
  });
  try {
    // Twice the request timeout (3 s) and far past the idle timeout (1.5 s).
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(ended, false, 'the stream was cut');
    assert.ok(silentClosed, 'a silent connection was kept past the idle and headers timeouts');
    await produce('six seconds later');
    await waitFor('the late record on the stream', () => events.includes('"value":"six seconds later"'), 5000);
    assert.ok(events.includes('"value":"first"'));
  } finally {
    stream.body.destroy();
    silent.destroy();
  }
});
