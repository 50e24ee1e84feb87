/**
 * `npm run bench -- metrics`: how long a /metrics scrape takes on a node with 1,000 partitions
 * (10 topics × 100 partitions, one batch each), rendered in-process and over HTTP, beside a baseline:
 * prom-client rendering a registry holding the same number of series as static gauges (set once,
 * nothing computed at scrape time). The ratio is what computing every family from the broker's
 * in-memory state costs over merely formatting it. The budget is 50 ms per scrape.
 * Environment: BENCH_SCRAPES (measured scrapes per case, default 200).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gauge, Registry } from 'prom-client';
import { createApp } from '../src/http/app.js';
import { SamsaMetrics } from '../src/metrics/samsa-metrics.js';
import { SamsaNode } from '../src/samsa-node.js';

const TOPICS = 10;
const PARTITIONS_PER_TOPIC = 100;
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 200);
const WARMUP_SCRAPES = 20;

interface Timing {
  p50Ms: number;
  p99Ms: number;
}

async function time(scrape: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < WARMUP_SCRAPES; i++) await scrape();
  const samples: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const started = performance.now();
    await scrape();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** A registry of static gauges holding `series` series in families of 1,000, like the partition gauges. */
function baselineRegistry(series: number): Registry {
  const registry = new Registry();
  for (let family = 0; series > 0; family++) {
    const gauge = new Gauge({
      name: `baseline_gauge_${family}`,
      help: 'Static series.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    });
    for (let i = 0; i < 1_000 && series > 0; i++, series--) {
      gauge.set(
        { topic: `topic-${Math.floor(i / PARTITIONS_PER_TOPIC)}`, partition: String(i % PARTITIONS_PER_TOPIC) },
        i,
      );
    }
  }
  return registry;
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: keepAlive }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

export async function runMetricsBench(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await node.start();
  const { broker } = node;
  const metrics = new SamsaMetrics(broker);
  const server = http.createServer(createApp({ node, metrics }));
  try {
    for (let t = 0; t < TOPICS; t++) {
      const topic = `topic-${t}`;
      await broker.createTopic(topic, { partitions: PARTITIONS_PER_TOPIC });
      for (let p = 0; p < PARTITIONS_PER_TOPIC; p++) {
        await broker.produce(topic, [{ partition: p, key: null, value: Buffer.alloc(100) }], {
          acks: 1,
          timeoutMs: 1_000,
        });
      }
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const exposition = await metrics.render('prometheus');
    const series = exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    const baseline = baselineRegistry(series);

    const samsa = await time(() => metrics.render('prometheus'));
    const samsaOpenMetrics = await time(() => metrics.render('openmetrics'));
    const overHttp = await time(() => httpGet(port));
    const base = await time(() => baseline.metrics());

    const partitions = TOPICS * PARTITIONS_PER_TOPIC;
    const row = (name: string, t: Timing) =>
      `  ${name.padEnd(44)} p50 ${t.p50Ms.toFixed(2).padStart(7)} ms   p99 ${t.p99Ms.toFixed(2).padStart(7)} ms   ` +
      `ratio ${(t.p50Ms / base.p50Ms).toFixed(2)}x`;
    console.log(
      `metrics: scrape of ${partitions} partitions, ${series} series, ${(exposition.length / 1024).toFixed(0)} KiB`,
    );
    console.log(row('baseline: static gauges, same series count', base));
    console.log(row('samsa render, Prometheus text', samsa));
    console.log(row('samsa render, OpenMetrics', samsaOpenMetrics));
    console.log(row('samsa GET /metrics over HTTP (keep-alive)', overHttp));
  } finally {
    keepAlive.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await node.shutdown();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runMetricsBench();
