/**
 * A real SamsaNode behind the real app on a real 127.0.0.1 socket, with an SseHub the test
 * configures and keeps (to read its stats and close its streams), for tests that need
 * EventSource clients, raw sockets and browsers. The data directory can outlive the server,
 * so a test can restart a node on it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/http/app.js';
import { DEFAULT_SSE_LIMITS, SseHub, type SseLimits } from '../../src/http/sse-stream.js';
import { SamsaNode } from '../../src/samsa-node.js';

export interface SseServer {
  node: SamsaNode;
  hub: SseHub;
  server: http.Server;
  baseUrl: string;
  dataDir: string;
  /** Every connection the server accepted, open or not, in order. */
  sockets: Socket[];
  /** Ends every stream and connection, shuts the node down; removes the data dir unless kept. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export async function startSseServer(
  opts: { dataDir?: string; limits?: Partial<SseLimits>; corsOrigins?: string[] } = {},
): Promise<SseServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-sse-'));
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await node.start();
  const hub = new SseHub({ ...DEFAULT_SSE_LIMITS, ...opts.limits });
  const server = http.createServer(createApp({ node, sseHub: hub, corsOrigins: opts.corsOrigins ?? [] }));
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    node,
    hub,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    sockets,
    async stop(stopOpts = {}) {
      if (stopped) return;
      stopped = true;
      hub.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await node.shutdown();
      if (!stopOpts.keepDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs` (a bound, not a speed claim). */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** v2 JSON produce over HTTP; answers the offsets. */
export async function produceJson(
  baseUrl: string,
  topic: string,
  records: { key?: unknown; value: unknown; partition?: number }[],
): Promise<{ partition: number; offset: number }[]> {
  const res = await fetch(`${baseUrl}/topics/${topic}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.kafka.json.v2+json' },
    body: JSON.stringify({ records }),
  });
  const body = (await res.json()) as { offsets: { partition: number; offset: number }[] };
  if (res.status !== 200) throw new Error(`produce answered ${res.status}: ${JSON.stringify(body)}`);
  return body.offsets;
}
