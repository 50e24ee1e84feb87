/**
 * A real `samsa serve` on a data dir that runs out of room: an 8 MiB tmpfs the test mounts (the
 * tests run as root). Full disk: produce answers 507/50701 (HTTP) and KAFKA_STORAGE_ERROR (Kafka),
 * nothing acknowledged is lost or damaged, reads and the group go on, an offset commit answers an
 * error, and produce works again once the filler file is deleted, without a restart. Read-only: an
 * ext4 image on a loop device that the kernel turns read-only under the running server (its
 * `trigger_fs_error`, what a failing disk does with errors=remount-ro), same checks; that state
 * ends only with a new mount, so the restart comes after it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { encodeRecordBatch, readBatchHeader, validateRecordBatch } from '../../src/storage/record-batch.js';
import { produceOne } from '../kafka/producer-requests.js';
import { RawConnection } from '../kafka/raw-connection.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const V2 = 'application/vnd.kafka.v2+json';
const TOPIC = 'full';
const VALUE_BYTES = 3000;

function mount(args: string[]): void {
  try {
    execFileSync('mount', args, { stdio: 'pipe' });
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err);
    // Not skippable: these tests exist for exactly this, and they run as root (CI too).
    throw new Error(`mount ${args.join(' ')} failed (the disk-full tests need root and mount): ${why}`);
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // not mounted (a failed before)
  }
}

/** Writes `filler` until the filesystem refuses; answers the bytes written. */
function fillDisk(filler: string): number {
  const fd = fs.openSync(filler, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let total = 0;
  try {
    for (;;) total += fs.writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  // Small writes can still fit the last page: take that room too.
  const small = fs.openSync(filler, 'a');
  try {
    for (;;) total += fs.writeSync(small, Buffer.alloc(512, 0x62));
  } catch {
    // full now
  } finally {
    fs.closeSync(small);
  }
  return total;
}

async function produceHttp(baseUrl: string, value: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/topics/${TOPIC}`, {
    method: 'POST',
    headers: { 'content-type': JSON_V2 },
    body: JSON.stringify({ records: [{ value, partition: 0 }] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function recordValue(n: number): string {
  return `${String(n).padStart(6, '0')}-${'v'.repeat(VALUE_BYTES)}`;
}

/** Produces until one is refused: answers the values acknowledged and the refusal. */
async function produceUntilRefused(
  baseUrl: string,
  acked: Map<number, string>,
  from: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let n = from; n < from + 200; n++) {
    const value = recordValue(n);
    const answer = await produceHttp(baseUrl, value);
    if (answer.status !== 200) return answer;
    const offset = (answer.body.offsets as { offset: number }[])[0]?.offset as number;
    acked.set(offset, value);
  }
  throw new Error('the full disk took 200 more records');
}

/** Every record of partition 0 through a v2 consumer instance (assign, seek to beginning, read). */
async function readAll(baseUrl: string, group: string): Promise<Map<number, string>> {
  const created = await fetch(`${baseUrl}/consumers/${group}`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ format: 'json', 'auto.commit.enable': 'false' }),
  });
  assert.equal(created.status, 200, await created.clone().text());
  const { instance_id: id } = (await created.json()) as { instance_id: string };
  const base = `${baseUrl}/consumers/${group}/instances/${id}`;
  const assign = await fetch(`${base}/assignments`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0 }] }),
  });
  assert.equal(assign.status, 204);
  const seek = await fetch(`${base}/positions/beginning`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0 }] }),
  });
  assert.equal(seek.status, 204);
  const end = await fetch(`${baseUrl}/topics/${TOPIC}/partitions/0/offsets`);
  const { end_offset: endOffset } = (await end.json()) as { end_offset: number };
  const got = new Map<number, string>();
  const deadline = Date.now() + 20_000;
  while (got.size < endOffset) {
    assert.ok(Date.now() < deadline, `read ${got.size} of ${endOffset} records`);
    const res = await fetch(`${base}/records?timeout=200`, { headers: { accept: JSON_V2 } });
    assert.equal(res.status, 200, await res.clone().text());
    for (const r of (await res.json()) as { offset: number; value: string }[]) got.set(r.offset, r.value);
  }
  const del = await fetch(base, { method: 'DELETE' });
  assert.equal(del.status, 204);
  return got;
}

/**
 * Every `.log` of the partition, as the disk holds it, is whole batches end to end, each with a
 * valid CRC and offsets that continue the previous one: no torn batch was left behind.
 */
function assertWholeBatches(partitionDir: string): void {
  let next = 0;
  for (const file of fs
    .readdirSync(partitionDir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    const bytes = fs.readFileSync(path.join(partitionDir, file));
    let position = 0;
    while (position < bytes.length) {
      assert.ok(position + 12 <= bytes.length, `${file}: a torn batch header at byte ${position}`);
      const size = bytes.readInt32BE(position + 8) + 12;
      assert.ok(position + size <= bytes.length, `${file}: a torn batch at byte ${position}`);
      const batch = bytes.subarray(position, position + size);
      validateRecordBatch(batch);
      const header = readBatchHeader(batch);
      assert.equal(header.baseOffset, next, `${file}: offsets continue`);
      next = header.lastOffset + 1;
      position += size;
    }
  }
}

/** Reads an event stream's text as it comes; `until` waits for a marker (bounded). */
function streamReader(res: Response): { until: (marker: string) => Promise<void>; text: () => string } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  return {
    text: () => text,
    async until(marker) {
      const deadline = Date.now() + 20_000;
      while (!text.includes(marker)) {
        assert.ok(Date.now() < deadline, `the stream never showed ${marker.slice(0, 20)}…`);
        const { value, done } = await reader.read();
        assert.ok(!done, `the stream ended before ${marker.slice(0, 20)}…: ${text.slice(-500)}`);
        text += Buffer.from(value).toString('utf8');
      }
    },
  };
}

function assertHolds(stored: Map<number, string>, acked: Map<number, string>): void {
  for (const [offset, value] of acked) assert.equal(stored.get(offset), value, `offset ${offset}`);
  // Offsets stay dense: a refused append left no hole and no stray record.
  assert.deepEqual(
    [...stored.keys()].sort((a, b) => a - b),
    [...Array(stored.size).keys()],
  );
}

async function kafkaProduce(port: number, value: string): Promise<Message> {
  const conn = new RawConnection(port);
  try {
    const batch = encodeRecordBatch(
      [{ key: null, value: Buffer.from(JSON.stringify(value)), headers: [], timestamp: Date.now() }],
      {
        baseOffset: 0,
      },
    );
    return await produceOne(conn, TOPIC, batch);
  } finally {
    conn.close();
  }
}

const show = (m: Message) => JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? String(v) : v));

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

describe('a full data dir (tmpfs)', () => {
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-disk-full-'));
  const dataDir = path.join(mountPoint, 'data');
  const filler = path.join(mountPoint, 'filler');
  let server: ServerProcess | undefined;

  before(() => {
    mount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
    fs.mkdirSync(dataDir);
  });
  after(async () => {
    if (server) await stop(server);
    unmount(mountPoint);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  test('refuses produce with 507 and KAFKA_STORAGE_ERROR, keeps every acknowledged record readable, and takes writes again once space returns', async () => {
    const kafkaPort = await freePort();
    const args = ['--min-free-disk-bytes', '0', '--kafka-port', String(kafkaPort), '--log.segment.bytes', '65536'];
    server = await startServer(dataDir, args);
    const acked = new Map<number, string>();
    for (let n = 0; n < 30; n++) {
      const answer = await produceHttp(server.baseUrl, recordValue(n));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      acked.set((answer.body.offsets as { offset: number }[])[0]?.offset as number, recordValue(n));
    }
    // A group with a committed offset, to see a commit refused and the group go on.
    const group = await fetch(`${server.baseUrl}/consumers/committers`, {
      method: 'POST',
      headers: { 'content-type': V2 },
      body: JSON.stringify({ name: 'c', format: 'json', 'auto.commit.enable': 'false' }),
    });
    assert.equal(group.status, 200);
    const member = `${server.baseUrl}/consumers/committers/instances/c`;
    const commit = (offset: number) =>
      fetch(`${member}/offsets`, {
        method: 'POST',
        headers: { 'content-type': V2 },
        body: JSON.stringify({ offsets: [{ topic: TOPIC, partition: 0, offset }] }),
      });
    assert.equal((await commit(1)).status, 200);

    fillDisk(filler);
    const refused = await produceUntilRefused(server.baseUrl, acked, 1000);
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.error_code, 50701);
    assert.match(String(refused.body.message), /no space left/);
    // A produce that would create a topic is refused the same way (its directory and metadata need room too).
    const newTopic = await fetch(`${server.baseUrl}/topics/created-on-full-disk`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2 },
      body: JSON.stringify({ records: [{ value: 'x'.repeat(5000) }] }),
    });
    assert.equal(newTopic.status, 507, await newTopic.clone().text());
    // Still refused, not a crash: the server answers the next one the same way.
    assert.equal((await produceHttp(server.baseUrl, recordValue(2000))).status, 507);
    const kafka = await kafkaProduce(kafkaPort, recordValue(2001));
    assert.equal(kafka.errorCode, 56, show(kafka)); // KAFKA_STORAGE_ERROR
    // Offset commits answer an error once the offsets log's last page is full too; the member stays.
    let refusedCommit: Response | undefined;
    let lastCommitted = 1;
    for (let offset = 2; offset < 2000 && refusedCommit === undefined; offset++) {
      const res = await commit(offset % 30);
      if (res.status !== 200) refusedCommit = res;
      else lastCommitted = offset % 30;
    }
    assert.ok(refusedCommit, 'the full disk took every commit');
    assert.equal(refusedCommit.status, 507);
    assert.equal(((await refusedCommit.json()) as { error_code: number }).error_code, 50701);
    const stillThere = await fetch(`${member}/assignments`);
    assert.equal(stillThere.status, 200);
    // The group's committed offset is the last one stored, not the refused one (Kafka OffsetFetch).
    const offsetsConn = new RawConnection(kafkaPort);
    try {
      const fetched = await offsetsConn.call(API_KEYS.OffsetFetch, 1, {
        groupId: 'committers',
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
      });
      const partition = ((fetched.topics as Message[])[0]?.partitions as Message[] | undefined)?.[0];
      // v2 commits name the last record read: the committed offset is the one after it.
      assert.equal(Number(partition?.committedOffset), lastCommitted + 1);
    } finally {
      offsetsConn.close();
    }

    // Reads keep working, and the files hold whole batches only.
    assertHolds(await readAll(server.baseUrl, 'reader-full'), acked);
    assertWholeBatches(path.join(dataDir, `${TOPIC}-0`));
    assert.ok(
      fs.readdirSync(path.join(dataDir, `${TOPIC}-0`)).filter((f) => f.endsWith('.log')).length > 1,
      'segments rolled on the way',
    );
    const health = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    // A group stream started on the full disk reads everything; its refused commits do not end it.
    const streamAbort = new AbortController();
    const stream = await fetch(`${server.baseUrl}/topics/${TOPIC}/stream?group=sse-full&from=earliest`, {
      signal: streamAbort.signal,
    });
    assert.equal(stream.status, 200);
    const events = streamReader(stream);
    await events.until(recordValue(29));
    assert.doesNotMatch(events.text(), /event: error/);

    // Space returns: writes resume by themselves.
    fs.rmSync(filler);
    const resumed = await produceHttp(server.baseUrl, recordValue(3000));
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    acked.set((resumed.body.offsets as { offset: number }[])[0]?.offset as number, recordValue(3000));
    const kafkaAgain = await kafkaProduce(kafkaPort, recordValue(3001));
    assert.equal(kafkaAgain.errorCode, 0, show(kafkaAgain));
    acked.set(Number(kafkaAgain.baseOffset), recordValue(3001));
    assert.equal((await commit(2)).status, 200);
    assertHolds(await readAll(server.baseUrl, 'reader-resumed'), acked);
    // The same stream, still open, gets what is produced once space returns.
    await events.until(recordValue(3001));
    assert.doesNotMatch(events.text(), /event: error/);
    streamAbort.abort();

    // Full again, then a restart on the full disk: nothing acknowledged is lost.
    fillDisk(filler);
    await produceUntilRefused(server.baseUrl, acked, 4000);
    assertWholeBatches(path.join(dataDir, `${TOPIC}-0`));
    await stop(server);
    server = undefined;
    server = await startServer(dataDir, args);
    assertHolds(await readAll(server.baseUrl, 'reader-restarted'), acked);
    fs.rmSync(filler);
    const afterRestart = await produceHttp(server.baseUrl, recordValue(5000));
    assert.equal(afterRestart.status, 200, JSON.stringify(afterRestart.body));
  });
});

describe('a data dir the kernel turns read-only (ext4 on a loop device)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-read-only-'));
  const image = path.join(work, 'fs.img');
  const mountPoint = path.join(work, 'mnt');
  const dataDir = path.join(mountPoint, 'data');
  let server: ServerProcess | undefined;

  const mountImage = () => mount(['-o', 'loop,errors=remount-ro', image, mountPoint]);

  before(() => {
    fs.mkdirSync(mountPoint);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, 32 * 1024 * 1024);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
    mountImage();
    fs.mkdirSync(dataDir);
  });
  after(async () => {
    if (server) await stop(server);
    unmount(mountPoint);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('refuses produce with 507 and KAFKA_STORAGE_ERROR, keeps serving reads, and loses nothing across the remount', async () => {
    const kafkaPort = await freePort();
    // fsync before every answer: what the page cache held unsynced when the disk failed is gone
    // with the emergency read-only mount (as on a real failing disk; replication covers that case).
    const args = [
      '--min-free-disk-bytes',
      '0',
      '--kafka-port',
      String(kafkaPort),
      '--log.flush.interval.messages',
      '1',
    ];
    server = await startServer(dataDir, args);
    const acked = new Map<number, string>();
    for (let n = 0; n < 20; n++) {
      const answer = await produceHttp(server.baseUrl, recordValue(n));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      acked.set((answer.body.offsets as { offset: number }[])[0]?.offset as number, recordValue(n));
    }
    // What a failing disk does under errors=remount-ro: every write from now on is EROFS.
    const device = execFileSync('findmnt', ['-n', '-o', 'SOURCE', mountPoint], { encoding: 'utf8' }).trim();
    fs.writeFileSync(`/sys/fs/ext4/${path.basename(device)}/trigger_fs_error`, '1');

    const refused = await produceHttp(server.baseUrl, recordValue(100));
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.error_code, 50701);
    assert.match(String(refused.body.message), /read-only/);
    const kafka = await kafkaProduce(kafkaPort, recordValue(101));
    assert.equal(kafka.errorCode, 56, show(kafka));
    assertHolds(await readAll(server.baseUrl, 'reader-ro'), acked);

    // The kernel keeps an emergency read-only mount so until it is mounted again: stop, remount, start.
    await stop(server);
    server = undefined;
    unmount(mountPoint);
    mountImage();
    server = await startServer(dataDir, args);
    assertHolds(await readAll(server.baseUrl, 'reader-remounted'), acked);
    const resumed = await produceHttp(server.baseUrl, recordValue(200));
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  });
});
